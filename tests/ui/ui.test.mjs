// Playwright (playwright-core + Debian's /usr/bin/chromium) against the built UI (ui/dist)
// with a fake backend. Elements are found by role and accessible name, as a person would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { chromium } from "playwright-core";
import { installFakeBackend } from "./fake-backend.js";

const dist = fileURLToPath(new URL("../../ui/dist/", import.meta.url));
const artifacts = fileURLToPath(new URL("../../artifacts/ui/", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };
let server, browser, base;

before(async () => {
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    const file = join(dist, path === "" ? "index.html" : path);
    try {
      const body = await readFile(file.startsWith(dist) ? file : join(dist, "index.html"));
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** The window with the fake backend in `scenario`; `fake` is set on its state before the
 * app starts (e.g. `{ holdFolders: true }`). */
async function open(scenario, colorScheme = "light", fake = {}) {
  const page = await browser.newPage({ colorScheme });
  await page.addInitScript(installFakeBackend, scenario);
  await page.addInitScript((settings) => Object.assign(window.__fake, settings), fake);
  await page.goto(base);
  return page;
}

/** The one-account window with `folder` clicked while the server's refresh is held: only
 * the rows on this computer can show until `window.__fake.releaseRefresh()`. */
async function openWithRefreshHeld(folder) {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Lunch on Friday/ }).waitFor();
  await page.evaluate(() => (window.__fake.holdRefresh = true));
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: folder, exact: true }).click();
  return { page, list };
}

/** What `read()` gives once it equals `expected`, else its last value after `ms`: for what
 * lands a moment after the action that causes it (an IPC answer, then a new layout). */
async function settled(read, expected, ms = 3000) {
  const until = Date.now() + ms;
  let value = await read();
  while (!isDeepStrictEqual(value, expected) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    value = await read();
  }
  return value;
}

const AXE = fileURLToPath(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url));

/** axe-core's serious and critical findings on the page as it is now: its standard rule
 * set (WCAG 2.x A/AA and best practices; experimental rules left out). */
async function accessibilityProblems(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document);
    // One rule is too wide for trees: "label in name" counts a tree item's nested items and
    // its unread count as its visible label (WCAG 2.5.3 asks that the label — "News" — be in
    // the name, which it is). Only tree items are spared; everywhere else it holds.
    for (const v of r.violations) if (v.id === "label-content-name-mismatch") v.nodes = v.nodes.filter((n) => !n.html.startsWith('<li role="treeitem"'));
    return r.violations.filter((v) => v.nodes.length > 0 && (v.impact === "serious" || v.impact === "critical")).map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  return found;
}

/** Chooses `item` from the context menu of tree item `name` (a folder or an account),
 * opened with a right click — or with the Menu key when `byKeyboard`. */
async function treeMenu(page, name, item, { byKeyboard = false, role = "menuitem" } = {}) {
  const target = page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name, exact: true });
  if (byKeyboard) {
    await target.focus();
    await page.keyboard.press("ContextMenu");
  } else {
    await target.locator(":scope > .row, :scope > div").first().click({ button: "right" });
  }
  const menu = page.getByRole("menu", { name: `${name} actions` });
  await menu.waitFor();
  return menu.getByRole(role, { name: item, exact: true });
}

/** The setup wizard: a first run (no accounts) opens it by itself once the accounts are
 * read; otherwise it comes from the toolbar. */
async function openWizard(page) {
  await page.waitForFunction(() => window.__calls?.some((c) => c.cmd === "take_launch_requests"));
  const wizard = page.getByRole("dialog", { name: "Add account" });
  if (!(await wizard.isVisible())) await page.getByRole("button", { name: "Add account" }).click();
  await wizard.waitFor();
}

test("three panes: folder tree, message list and reader work with mouse and keyboard", async () => {
  const page = await open("one-account");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "INBOX", exact: true }).waitFor();
  for (const name of ["Work", "Sent", "Projects", "Petrel"]) assert.equal(await tree.getByRole("treeitem", { name, exact: true }).count(), 1, name);

  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().waitFor();
  assert.equal(await list.getByRole("option").count(), 3);
  const first = list.getByRole("option").first();
  assert.match(await first.innerText(), /Ana Lima[\s\S]*Lunch on Friday\?/);
  const inbox = tree.getByRole("treeitem", { name: "INBOX", exact: true });
  assert.match(await page.locator(`[id="${await inbox.getAttribute("aria-describedby")}"]`).innerText(), /^,?\s*1\s*unread$/, "unread count described for screen readers");

  await first.click();
  // Reading the only unread message clears INBOX's count.
  await page.waitForFunction(() => !document.querySelector('[role="treeitem"][aria-label="INBOX"]').hasAttribute("aria-describedby"));
  const reader = page.getByRole("article", { name: "Message" });
  await reader.getByText("Shall we try the new place by the harbour?").waitFor();
  assert.equal(await first.getAttribute("aria-selected"), "true");

  // Flag, answered and attachment marks are named for screen readers.
  const bob = list.getByRole("option", { name: /Build is green/ });
  for (const name of ["Answered", "Has attachment", "Flagged"]) assert.equal(await bob.getByRole("img", { name }).count() + await bob.getByLabel(name).count() > 0, true, name);
  assert.equal(await first.getByRole("img", { name: "Has attachment" }).count(), 0);

  // Keyboard: the next message opens with ArrowDown.
  await list.focus();
  await page.keyboard.press("ArrowDown");
  await reader.getByText("All suites passed on the second run.").waitFor();

  // Nested folder via the tree's keyboard: focus INBOX, move down to Petrel, Enter.
  await tree.getByRole("treeitem", { name: "INBOX", exact: true }).focus();
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await list.getByRole("option", { name: /Nested folder mail/ }).waitFor();
  assert.equal(await tree.getByRole("treeitem", { name: "Petrel" }).getAttribute("aria-selected"), "true");

  // Collapsing "Projects" hides "Petrel".
  await tree.getByRole("treeitem", { name: "Projects" }).focus();
  await page.keyboard.press("ArrowLeft");
  assert.equal(await tree.getByRole("treeitem", { name: "Petrel" }).count(), 0);
  assert.equal(await tree.getByRole("treeitem", { name: "Projects" }).getAttribute("aria-expanded"), "false");
  // Remembered: after a reload "Projects" is still collapsed.
  await page.reload();
  await tree.getByRole("treeitem", { name: "Projects" }).waitFor();
  assert.equal(await tree.getByRole("treeitem", { name: "Projects" }).getAttribute("aria-expanded"), "false");
  assert.equal(await tree.getByRole("treeitem", { name: "Petrel" }).count(), 0);

  await page.getByRole("button", { name: "Get mail" }).click();
  await page.screenshot({ path: join(artifacts, "three-panes.png") });
  await page.close();
});

test("add account: untrusted certificate is shown with its fingerprint and can be trusted", async () => {
  const page = await open("empty");
  await page.getByText("No account yet").waitFor();
  await openWizard(page);
  await page.getByRole("dialog", { name: "Add account" }).getByRole("button", { name: "Set up manually" }).click();
  const dialog = page.getByRole("dialog", { name: "Add account" });
  await dialog.getByLabel("Display name").fill("Home");
  await dialog.getByLabel("Email address").fill("me@home.example");
  await dialog.getByLabel("IMAP server").fill("mail.example.org");
  assert.equal(await dialog.getByLabel("User name").inputValue(), "me@home.example", "user name follows the address");
  await dialog.getByLabel("Security", { exact: true }).selectOption("start_tls");
  assert.equal(await dialog.getByLabel("Port", { exact: true }).inputValue(), "143", "port follows the security choice");
  await dialog.getByLabel("Security", { exact: true }).selectOption("tls");
  await dialog.getByLabel("Password").fill("correct horse");
  await dialog.getByRole("button", { name: "Connect" }).click();

  const cert = dialog.getByRole("region", { name: "Untrusted certificate" });
  await cert.waitFor();
  assert.match(await cert.innerText(), /CN=mail\.example\.org/);
  assert.match(await cert.innerText(), /AB:AB:AB/);
  await page.screenshot({ path: join(artifacts, "untrusted-certificate.png") });
  await cert.getByRole("button", { name: "Trust this certificate" }).click();

  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Home" }).waitFor();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Welcome home/ }).waitFor();
  assert.equal(await dialog.count(), 0, "the dialog closes after success");
  const adds = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "add_account"));
  assert.equal(adds.length, 2);
  assert.equal(adds[0].args.form.imap.pinned_cert_sha256, null, "the first attempt pins nothing");
  assert.equal(adds[1].args.form.imap.pinned_cert_sha256, "ab".repeat(32), "trust pins exactly the shown certificate");
  await page.close();
});

test("add account by hand with a self-hosted OpenID Connect provider: sign in first, then Connect with the ticket", async () => {
  const page = await open("empty");
  await openWizard(page);
  await page.getByRole("dialog", { name: "Add account" }).getByRole("button", { name: "Set up manually" }).click();
  const dialog = page.getByRole("dialog", { name: "Add account" });
  await dialog.getByLabel("Display name").fill("Home");
  await dialog.getByLabel("Email address").fill("me@home.example");
  await dialog.getByLabel("IMAP server").fill("imap.home.example");
  await dialog.getByLabel("Sign-in").selectOption("oidc");
  assert.equal(await dialog.getByLabel("Password").count(), 0, "no password with OAuth2");
  await dialog.getByLabel("Provider (issuer URL)").fill("https://id.home.example");
  await dialog.getByLabel("Client ID").fill("petrel-home");
  await dialog.getByRole("button", { name: "Sign in", exact: true }).click();
  await dialog.getByRole("status").getByText("Signed in as me@home.example.", { exact: false }).waitFor();
  await dialog.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Home" }).waitFor();
  const calls = await page.evaluate(() => window.__calls.filter((c) => ["sign_in", "add_account"].includes(c.cmd)).map((c) => c.args));
  assert.deepEqual(calls[0], { provider: { kind: "oidc", issuer: "https://id.home.example" }, clientId: "petrel-home", loginHint: "me@home.example" });
  assert.deepEqual(calls[1].form.sign_in, { kind: "oauth2", provider: { kind: "oidc", issuer: "https://id.home.example" }, client_id: "petrel-home" });
  assert.equal(calls[1].form.sign_in_ticket, "ticket-1");
  assert.equal(calls[1].form.password, "");
  await page.close();
});

test("wrong password and refused certificate give clear messages and add nothing", async () => {
  const page = await open("empty");
  await openWizard(page);
  await page.getByRole("dialog", { name: "Add account" }).getByRole("button", { name: "Set up manually" }).click();
  const dialog = page.getByRole("dialog", { name: "Add account" });
  await dialog.getByLabel("Display name").fill("Home");
  await dialog.getByLabel("Email address").fill("me@home.example");
  await dialog.getByLabel("IMAP server").fill("mail.example.org");
  await dialog.getByLabel("Password").fill("wrong");
  await dialog.getByRole("button", { name: "Connect" }).click();
  const alert = dialog.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /Check the user name and password/);

  await dialog.getByLabel("Password").fill("correct horse");
  await dialog.getByRole("button", { name: "Connect" }).click();
  await dialog.getByRole("region", { name: "Untrusted certificate" }).getByRole("button", { name: "Cancel" }).click();
  await dialog.getByRole("alert").getByText(/not trusted/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem").count(), 0, "nothing was added");
  await page.close();
});

test("a failed load shows an error with Retry that works", async () => {
  const page = await open("flaky");
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /could not reach imap\.example\.org/);
  await alert.getByRole("button", { name: "Retry" }).click();
  // The rows on this computer are on screen from the start (cached first), so a row showing
  // says nothing about the retry: the error must go once the retried refresh succeeds.
  await page.getByRole("alert").waitFor({ state: "detached", timeout: 10_000 });
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  assert.equal(await page.getByRole("alert").count(), 0);
  await page.close();
});

test("a folder-changed event from the backend updates the visible list without a click", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().waitFor();
  await list.getByRole("option").nth(1).click();
  const calls = () => page.evaluate(() => window.__calls.filter((c) => c.cmd === "list_envelopes").length);
  const before = await calls();
  await page.evaluate(() => {
    window.__deliver("work-1", "INBOX", { uid: 9, from: "Dee", subject: "Arrived just now", date: Math.floor(Date.now() / 1000), seen: false, flagged: false, size: 10, text: "hi" });
    window.__emit("folder-changed", { account: "work-1", folder: "INBOX", total: 4, unread: 2, added: 1, removed: 0, flags_changed: 0 });
  });
  await list.getByRole("option", { name: /Arrived just now/ }).waitFor();
  assert.equal(await list.getByRole("option").count(), 4);
  assert.equal(await list.getByRole("option", { name: /Build is green/ }).getAttribute("aria-selected"), "true", "the selection survives");
  await page.getByRole("status").getByText("1 new message in INBOX").waitFor();
  const inbox = page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "INBOX", exact: true });
  assert.equal(await inbox.getAttribute("aria-describedby") !== null, true, "the event's unread count reaches the tree");
  assert.equal((await calls()) - before, 1, "one page reload, not a folder reload loop");
  // A change to a folder that is not on screen reloads nothing.
  await page.evaluate(() => window.__emit("folder-changed", { account: "work-1", folder: "Sent", total: 1, unread: 0, added: 0, removed: 0, flags_changed: 1 }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await calls()) - before, 1);
  await page.close();
});

test("offline: cached rows are shown with a clear notice and Retry", async () => {
  const page = await open("offline");
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /Offline: INBOX shows the messages saved on this computer/);
  assert.equal(await page.getByRole("listbox", { name: "Messages" }).getByRole("option").count(), 3, "cached rows stay readable");
  const before = await page.evaluate(() => window.__calls.length);
  await alert.getByRole("button", { name: "Retry" }).click();
  await page.waitForFunction(() => !document.querySelector('[role="alert"]'));
  const refreshed = await page.evaluate((n) => window.__calls.slice(n).filter((c) => c.cmd === "refresh_folder").map((c) => c.args.force), before);
  assert.equal(refreshed[0], true, "Retry asks the backend to reach the server");
  await page.close();
});

test("mark as unread / flag by button and by keyboard (M, S) reach the backend and the tree", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const row = list.getByRole("option", { name: /Lunch on Friday/ });
  await row.click();
  const reader = page.getByRole("article", { name: "Message" });
  await reader.getByText("Shall we try the new place").waitFor();
  const actions = reader.getByRole("toolbar", { name: "Message actions" });
  const inboxCount = () => page.evaluate(() => document.querySelector('[role="treeitem"][aria-label="INBOX"]').getAttribute("aria-describedby"));
  await page.waitForFunction(() => !document.querySelector('[role="treeitem"][aria-label="INBOX"]').hasAttribute("aria-describedby"));

  await actions.getByRole("button", { name: "Mark as unread" }).click();
  await actions.getByRole("button", { name: "Mark as read" }).waitFor();
  assert.match(await row.getAttribute("class"), /unread/);
  await page.waitForFunction(() => document.querySelector('[role="treeitem"][aria-label="INBOX"]').hasAttribute("aria-describedby"));
  assert.notEqual(await inboxCount(), null, "the tree counts the message as unread again");

  await list.focus();
  await page.keyboard.press("m");
  await actions.getByRole("button", { name: "Mark as unread" }).waitFor();
  await page.keyboard.press("s");
  await actions.getByRole("button", { name: "Remove flag" }).waitFor();
  assert.equal(await actions.getByRole("button", { name: "Remove flag" }).getAttribute("aria-pressed"), "true");
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_flags").map((c) => [c.args.seen, c.args.flagged]));
  assert.deepEqual(calls, [[false, null], [true, null], [null, true]]);
  await page.close();
});

test("archive, delete and move by button and keyboard: the row leaves at once and the next opens", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const reader = page.getByRole("article", { name: "Message" });
  const actions = reader.getByRole("toolbar", { name: "Message actions" });
  await list.getByRole("option", { name: /Lunch on Friday/ }).click();
  await reader.getByText("Shall we try the new place").waitFor();

  await actions.getByRole("button", { name: "Archive" }).click();
  await reader.getByText("All suites passed").waitFor(); // the next message opened
  assert.equal(await list.getByRole("option", { name: /Lunch on Friday/ }).count(), 0);

  await list.focus();
  await page.keyboard.press("Delete");
  await reader.getByText("Three new articles.").waitFor();
  assert.equal(await list.getByRole("option").count(), 1);

  await actions.getByRole("button", { name: "Move to…" }).click();
  await page.getByRole("menu", { name: "Move to…" }).getByRole("menuitem", { name: "Projects", exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 0);
  const calls = await page.evaluate(() =>
    window.__calls.filter((c) => /_messages$/.test(c.cmd)).map((c) => [c.cmd, c.args.uids, c.args.to ?? null]),
  );
  assert.deepEqual(calls, [
    ["archive_messages", [3], null],
    ["delete_messages", [2], null],
    ["move_messages", [1], "Projects"],
  ]);
  // The Trash offers "Delete permanently" and the moved messages are where they went.
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "Trash" }).click();
  await list.getByRole("option", { name: /Build is green/ }).click();
  // Deleting for good always asks first (review H4): Cancel keeps the message…
  await actions.getByRole("button", { name: "Delete permanently" }).click();
  const ask = page.getByRole("alertdialog", { name: "Delete permanently" });
  await ask.getByText("cannot be brought back").waitFor();
  await ask.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await list.getByRole("option", { name: /Build is green/ }).count(), 1, "Cancel keeps it");
  // …and the Delete key in the Trash asks the same question; confirming deletes it.
  await list.getByRole("option", { name: /Build is green/ }).click();
  await list.focus();
  await page.keyboard.press("Delete");
  await ask.getByRole("button", { name: "Delete permanently" }).click();
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 0);
  const permanent = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "delete_messages").map((c) => [c.args.folder, c.args.how]));
  assert.deepEqual(permanent, [["INBOX", "to_trash"], ["Trash", "permanently"]]);
  await page.close();
});

test("folders can be created, renamed and deleted; special folders cannot be renamed", async () => {
  const page = await open("one-account");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "INBOX", exact: true }).waitFor();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  // Special folders keep their names: in INBOX's menu Rename and Delete are off.
  assert.equal(await (await treeMenu(page, "INBOX", "Rename…")).getAttribute("aria-disabled"), "true");
  assert.equal(await page.getByRole("menu").getByRole("menuitem", { name: "Delete…" }).getAttribute("aria-disabled"), "true");
  await page.keyboard.press("Escape");
  await page.getByRole("menu").waitFor({ state: "detached" });

  await (await treeMenu(page, "Work", "New folder…")).click();
  const dialog = page.getByRole("dialog", { name: "New folder" });
  await dialog.getByLabel("Folder name").fill("Receipts");
  await dialog.getByRole("button", { name: "Create" }).click();
  await tree.getByRole("treeitem", { name: "Receipts" }).click();

  await (await treeMenu(page, "Receipts", "Rename…")).click();
  const rename = page.getByRole("dialog", { name: "Rename Receipts" });
  await rename.getByLabel("Folder name").fill("Bills");
  await page.keyboard.press("Enter");
  await tree.getByRole("treeitem", { name: "Bills" }).waitFor();
  assert.equal(await tree.getByRole("treeitem", { name: "Receipts" }).count(), 0);

  await (await treeMenu(page, "Bills", "Delete…")).click();
  const confirm = page.getByRole("alertdialog", { name: "Delete folder" });
  // Focus starts on Cancel, so a stray Enter destroys nothing.
  await page.keyboard.press("Enter");
  await confirm.waitFor({ state: "detached" });
  assert.equal(await tree.getByRole("treeitem", { name: "Bills" }).count(), 1);
  await (await treeMenu(page, "Bills", "Delete…")).click();
  await page.getByRole("alertdialog", { name: "Delete folder" }).getByRole("button", { name: "Delete folder" }).click();
  await page.waitForFunction(() => !document.querySelector('[role="treeitem"][aria-label="Bills"]'));
  // The folder edits (refresh_folder, which re-reads the open folder, is not one).
  const calls = await page.evaluate(() => window.__calls.filter((c) => /^(create|rename|delete)_folder$/.test(c.cmd)).map((c) => c.cmd));
  assert.deepEqual(calls, ["create_folder", "rename_folder", "delete_folder"]);
  await page.close();
});

test("offline actions and connection problems are shown in the status bar", async () => {
  const page = await open("offline-actions");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Lunch on Friday/ }).click();
  await page.getByRole("article", { name: "Message" }).getByRole("button", { name: "Archive" }).click();
  const status = page.getByRole("status");
  await status.getByText(/will reach the server when it can be reached/).waitFor();
  await page.evaluate(() =>
    window.__emit("account-status", { account: "work-1", state: "offline", message: "could not reach", retry_in_seconds: 8, pending_actions: 2 }),
  );
  await status.getByText("Work: offline, retrying in 8 s (2 changes waiting)").waitFor();
  await page.evaluate(() =>
    window.__emit("account-status", { account: "work-1", state: "online", message: null, retry_in_seconds: null, pending_actions: 0 }),
  );
  await page.waitForFunction(() => !document.querySelector('[role="status"]').textContent.includes("offline"));
  await page.close();
});

test("a first sync's progress re-reads the list at most every 300 ms, and its latest progress is read", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  const reads = () => page.evaluate(() => window.__calls.filter((c) => c.cmd === "list_envelopes").length);
  const before = await reads();
  // 20 batches 20 ms apart, as a fast server reports them: one read per batch kept the
  // web process tens of MB larger after a 100k sync.
  const elapsed = await page.evaluate(async () => {
    const t0 = performance.now();
    for (let k = 1; k <= 20; k++) {
      window.__emit("sync-progress", { account: "work-1", folder: "INBOX", done: 500 * k, total: 100000 });
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - t0;
  });
  // The last progress is read once its turn comes, even though no more progress arrives.
  await page.waitForFunction((n) => window.__calls.filter((c) => c.cmd === "list_envelopes").length >= n + 2, before);
  await page.waitForTimeout(400);
  const made = (await reads()) - before;
  assert.ok(made <= Math.ceil(elapsed / 300) + 2, `${made} reads in ${Math.round(elapsed)} ms`);
  await page.close();
});

test("a long first sync shows its progress, and the account's storage use is shown", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  const status = page.getByRole("status");
  await status.getByText("5.5 MB of 100 MB used on the server").waitFor();
  await page.evaluate(() => window.__emit("sync-progress", { account: "work-1", folder: "INBOX", done: 1500, total: 100000 }));
  await status.getByText(/Getting INBOX: 1[,.\u202f ]?500 of 100[,.\u202f ]?000/).waitFor();
  await page.evaluate(() => window.__emit("sync-progress", { account: "work-1", folder: "INBOX", done: 100000, total: 100000 }));
  await page.waitForFunction(() => !document.querySelector('[role="status"]').textContent.includes("Getting INBOX"));
  // Progress of a folder not on screen changes nothing.
  await page.evaluate(() => window.__emit("sync-progress", { account: "work-1", folder: "Sent", done: 5, total: 10 }));
  assert.doesNotMatch(await status.innerText(), /Getting Sent/);
  await page.close();
});

test("account options: a sync window, offline copies and the outgoing server are saved for the account", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await (await treeMenu(page, "Work", "Account options…")).click();
  const dialog = page.getByRole("dialog", { name: "Account options" });
  await dialog.getByLabel("Messages to list").selectOption("90");
  await dialog.getByLabel("Keep the listed messages on this computer to read them offline").check();
  assert.equal(await dialog.getByLabel("SMTP server").inputValue(), "smtp.example.org", "guessed from the IMAP host");
  await dialog.getByLabel("SMTP security").selectOption("start_tls");
  assert.equal(await dialog.getByLabel("Port", { exact: true }).inputValue(), "587");
  // The incoming server: tested before it is saved; a failure changes nothing.
  await dialog.getByLabel("Incoming server").fill("wrong.example.org");
  await dialog.getByRole("button", { name: "Re-test and apply" }).click();
  await dialog.getByRole("alert").getByText("Cannot reach wrong.example.org. Nothing was changed.").waitFor();
  await dialog.getByLabel("Incoming server").fill("imap2.example.org");
  await dialog.getByRole("button", { name: "Re-test and apply" }).click();
  await dialog.getByRole("status").getByText("Connected: the server settings are saved.").waitFor();
  const moved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "update_incoming").at(-1).args);
  assert.equal(moved.incoming.host, "imap2.example.org");
  assert.equal(moved.password, null, "the password is kept unless a new one is typed");
  // Signature and other addresses: one changed, one added, the first removed.
  await dialog.getByLabel("Signature", { exact: true }).fill("Me\nExample Org\n+1 555 0100");
  await dialog.getByRole("button", { name: "Add another address" }).click();
  const second = dialog.getByRole("group", { name: "Other address 2" });
  await second.getByLabel("Address", { exact: true }).fill("sales@example.org");
  await second.getByLabel("Its signature").fill("Sales");
  await dialog.getByRole("button", { name: "Remove other address 1" }).click();
  await dialog.getByLabel("The server files sent mail in Sent by itself", { exact: false }).check();
  // New-mail notifications, per account: on by default, turned off here.
  const notify = dialog.getByLabel("Notify me when new mail arrives in this account's Inbox");
  assert.equal(await notify.isChecked(), true);
  await notify.uncheck();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  // Saving runs in order (SMTP, sending, sync window) after the dialog closes.
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "set_sync_options"));
  const saved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_sync_options").map((c) => c.args));
  assert.deepEqual(saved, [{ account: "work-1", options: { window_days: 90, keep_offline: true, notify: false } }]);
  const smtp = await page.evaluate(() => window.__calls.find((c) => c.cmd === "set_smtp").args.smtp);
  assert.deepEqual(smtp, { host: "smtp.example.org", port: 587, security: "start_tls", username: "me@example.org", pinned_cert_sha256: null });
  const sending = await page.evaluate(() => window.__calls.find((c) => c.cmd === "set_sending").args.sending);
  assert.deepEqual(sending, {
    signature: "Me\nExample Org\n+1 555 0100",
    identities: [{ name: "Work", email: "sales@example.org", signature: "Sales" }],
    server_files_sent: true,
  });
  // Reopening shows what was saved; Escape closes without saving.
  await (await treeMenu(page, "Work", "Account options…")).click();
  assert.equal(await dialog.getByLabel("Messages to list").inputValue(), "90");
  assert.equal(await dialog.getByLabel("Keep the listed messages on this computer to read them offline").isChecked(), true);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await page.close();
});

test("POP3: the form offers the choice in plain words, ports follow, and the policy is saved with the account and in its options", async () => {
  const page = await open("empty");
  await openWizard(page);
  await page.getByRole("dialog", { name: "Add account" }).getByRole("button", { name: "Set up manually" }).click();
  const dialog = page.getByRole("dialog", { name: "Add account" });
  await dialog.getByLabel("Display name").fill("Home");
  await dialog.getByLabel("Email address").fill("me@home.example");
  await dialog.getByRole("radio", { name: /POP3 — mail comes to this computer/ }).check();
  assert.equal(await dialog.getByLabel("Port", { exact: true }).inputValue(), "995", "POP3 over TLS");
  await dialog.getByLabel("Security", { exact: true }).selectOption("start_tls");
  assert.equal(await dialog.getByLabel("Port", { exact: true }).inputValue(), "110");
  await dialog.getByLabel("Security", { exact: true }).selectOption("tls");
  await dialog.getByLabel("POP3 server").fill("pop.home.example");
  await dialog.getByLabel("Keep a copy on the server").selectOption("until_deleted_here");
  assert.equal(await dialog.getByLabel("Days", { exact: true }).count(), 0, "days only for 'for some days'");
  await dialog.getByLabel("Password").fill("wrong");
  await dialog.getByRole("button", { name: "Connect" }).click();
  await dialog.getByRole("alert").waitFor();
  const form = await page.evaluate(() => window.__calls.find((c) => c.cmd === "add_account").args.form);
  assert.equal(form.protocol, "pop3");
  assert.equal(form.imap.port, 995);
  assert.equal(form.pop3.leave_on_server, "until_deleted_here");
  await page.close();

  // A POP3 account's options show its policies, not the IMAP sync window.
  const p2 = await open("pop3-account");
  await p2.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await (await treeMenu(p2, "Work", "Account options…")).click();
  const options = p2.getByRole("dialog", { name: "Account options" });
  assert.equal(await options.getByLabel("Messages to list").count(), 0);
  assert.equal(await options.getByLabel("Days", { exact: true }).inputValue(), "14");
  await options.getByLabel("Days", { exact: true }).fill("30");
  await options.getByLabel("Check for new mail every").selectOption("30");
  await options.getByLabel("For large messages, only the headers and first lines").check();
  await options.getByLabel("Large means over (KB)").fill("500");
  await options.getByRole("button", { name: "Save" }).click();
  await options.waitFor({ state: "detached" });
  await p2.waitForFunction(() => window.__calls.some((c) => c.cmd === "set_pop3_options"));
  const saved = await p2.evaluate(() => window.__calls.filter((c) => c.cmd === "set_pop3_options").map((c) => c.args.options));
  assert.deepEqual(saved, [{ leave_on_server: "days", leave_days: 30, delete_when_deleted_here: true, headers_only: false, large_over_kib: 500, check_minutes: 30 }]);
  // Local mail can leave Petrel: a message as .eml, a folder as a Maildir.
  await p2.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Lunch on Friday/ }).click();
  // (In the reader's More menu, opened by keyboard: ↓ on the button, Enter on the item.)
  await p2.getByRole("toolbar", { name: "Message actions" }).getByRole("button", { name: "More" }).focus();
  await p2.keyboard.press("ArrowDown");
  const more = p2.getByRole("menu", { name: "More" });
  await more.getByRole("menuitem", { name: "Forward as attachment" }).waitFor();
  await p2.keyboard.press("ArrowDown");
  assert.equal(await more.getByRole("menuitem", { name: "Save as .eml…" }).evaluate((e) => e === document.activeElement), true, "↓ moves to the next item");
  await p2.keyboard.press("Enter");
  await p2.getByText("Saved to /home/me/Documents/Lunch on Friday.eml").waitFor();
  await (await treeMenu(p2, "INBOX", "Export as Maildir…")).click();
  await p2.getByText("3 messages exported to /home/me/Export/INBOX").waitFor();
  // By keyboard (the Menu key on the focused folder): mbox too; a local folder has no subscription.
  const byKey = await treeMenu(p2, "INBOX", "Export as mbox…", { byKeyboard: true });
  assert.equal(await p2.getByRole("menu", { name: "INBOX actions" }).getByRole("menuitem", { name: "Unsubscribe" }).count(), 0);
  await p2.keyboard.press("End");
  // Up from the last: Properties…, Show all folders, Export as Maildir…, Export as mbox….
  for (let k = 0; k < 4; k++) await p2.keyboard.press("ArrowUp");
  assert.equal(await byKey.evaluate((e) => e === document.activeElement), true, "arrows move through the items");
  await p2.keyboard.press("Enter");
  await p2.getByText("3 messages exported to /home/me/Export/INBOX.mbox").waitFor();
  // Headers-only mail says so; "Download the rest" reads it again (the engine fetches the rest).
  await p2.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Digest/ }).click();
  const bar = p2.getByRole("region", { name: "Partly downloaded" });
  await bar.getByRole("button", { name: "Download the rest" }).click();
  await bar.waitFor({ state: "detached" });
  const reads = await p2.evaluate(() => window.__calls.filter((c) => c.cmd === "read_message" && c.args.uid === 1).length);
  assert.equal(reads, 2);
  await p2.close();
});

test("reply from the reader: the composer opens prefilled, Send hands the message to the engine; Write starts empty", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Lunch on Friday/ }).click();
  await page.getByRole("toolbar", { name: "Message actions" }).getByRole("button", { name: "Reply", exact: true }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  // The recipient as a chip (named, the whole address in its title), the field free to add more.
  const chip = composer.locator(".chip", { hasText: "Ana Lima" });
  assert.equal(await chip.getAttribute("title"), "Ana Lima <ana@example.org>");
  await composer.getByRole("button", { name: "Remove Ana Lima <ana@example.org> (To field)" }).waitFor();
  assert.equal(await composer.getByRole("combobox", { name: "To" }).inputValue(), "");
  assert.equal(await composer.getByLabel("Subject").inputValue(), "Re: Lunch on Friday?");
  assert.match(await composer.getByLabel("Message").inputValue(), /> Shall we try the new place/);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "TEXTAREA", "a reply starts in the text");
  await page.keyboard.type("Yes, at one.");
  await composer.getByRole("button", { name: "Send" }).click();
  await composer.waitFor({ state: "detached" });
  await page.getByText("Message sent").waitFor();
  const sent = await page.evaluate(() => window.__calls.find((c) => c.cmd === "send_message").args);
  assert.equal(sent.account, "work-1");
  assert.deepEqual(sent.message.to, ["Ana Lima <ana@example.org>"]);
  assert.equal(sent.message.in_reply_to, "m3@example.org");
  assert.match(sent.message.body, /^Yes, at one\./);

  assert.deepEqual(sent.message.answers, { folder: "INBOX", uid: 3 }, "the original is marked answered once sent");

  // Write: empty but for the signature, Send only once there is a recipient; Escape
  // closes and keeps what was typed as a draft; Discard leaves nothing.
  await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  assert.equal(await composer.getByRole("textbox", { name: "Message" }).inputValue(), "\n\n-- \nMe\nExample Org\n");
  assert.equal(await composer.getByRole("button", { name: "Send" }).isDisabled(), true);
  await composer.getByRole("combobox", { name: "To" }).fill("someone@example.org");
  assert.equal(await composer.getByRole("button", { name: "Send" }).isDisabled(), false);
  await page.keyboard.press("Escape");
  await composer.waitFor({ state: "detached" });
  await page.getByText("Saved in Drafts").waitFor();
  const draft = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_draft").at(-1).args.message);
  assert.deepEqual(draft.to, ["someone@example.org"]);
  await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  await composer.getByRole("combobox", { name: "To" }).fill("nobody@refused.example");
  await composer.getByLabel("Subject").fill("Typed with care");
  // A refusal is said in the composer, which keeps everything typed.
  await composer.getByRole("button", { name: "Send" }).click();
  await composer.getByRole("alert").getByText("The server refused the recipient nobody@refused.example (550 5.1.1 no such user).", { exact: false }).waitFor();
  assert.equal(await composer.getByLabel("Subject").inputValue(), "Typed with care");
  await composer.getByRole("button", { name: "Discard" }).click();
  await composer.waitFor({ state: "detached" });
  const saves = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_draft").map((c) => c.args.message.subject));
  assert.ok(!saves.includes("Typed with care") || (await page.evaluate(() => window.__calls.some((c) => c.cmd === "discard_draft"))), "a discarded message leaves no draft");
  await page.close();
});

test("a folder's rows on this computer show at once, before the server has answered", async () => {
  const { page, list } = await openWithRefreshHeld("News");
  // The refresh is held until released below, so rows shown now came from this computer.
  // The list may ask for the refresh just after painting them: wait for it to be asked
  // (checking at once raced that in a CI run), and fail if it never is.
  await list.getByRole("option", { name: /Weekly News/ }).waitFor();
  await page.waitForFunction(() => typeof window.__fake.releaseRefresh === "function", null, { timeout: 5000 });
  assert.equal(await list.getByRole("option", { name: /Weekly News/ }).count(), 1, "the cached row is shown while the server has not answered");
  await page.evaluate(() => window.__fake.releaseRefresh());
  await page.waitForFunction(() => window.__calls.filter((c) => c.cmd === "list_envelopes" && c.args.folder === "News").length >= 2);
  assert.equal(await list.getByRole("option", { name: /Weekly News/ }).count(), 1, "the refreshed page replaces the cached one");
  await page.close();
});

test("at start, the first folder's rows on this computer show before the servers list their folders", async () => {
  const page = await open("one-account", "light", { holdFolders: true });
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Lunch on Friday/ }).waitFor();
  assert.equal(await page.evaluate(() => typeof window.__fake.releaseFolders), "function", "the folder list has not come yet");
  await page.evaluate(() => window.__fake.releaseFolders());
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "News", exact: true }).waitFor();
  await page.close();
});

test("rows scrolled to while a folder is brought up to date are filled once its refreshed page comes", async () => {
  const { page, list } = await openWithRefreshHeld("Big");
  const filled = (n) => `[role="listbox"] [role="option"][aria-posinset="${n}"][data-uid]`;
  // The cached rows, then a jump to the end while the server has not answered.
  await page.waitForSelector(filled(1));
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.waitForSelector(filled(100000));
  // The refreshed page replaces the cached rows: the rows in view come again, not "Loading…".
  await page.evaluate(() => window.__fake.releaseRefresh());
  // Once the refreshed page (the second read at offset 0) has replaced the rows, the rows in
  // view must be asked for again, then filled. (Checking right after that read was made
  // raced its answer: the rows were dropped only after the check.)
  const askedAgain = () => {
    const reads = window.__calls.filter((c) => c.cmd === "list_envelopes" && c.args.folder === "Big");
    const refreshed = reads.filter((c) => c.args.offset === 0)[1];
    return refreshed !== undefined && reads.slice(reads.indexOf(refreshed) + 1).some((c) => c.args.offset > 0);
  };
  await page.waitForFunction(askedAgain, null, { timeout: 5000 }).catch(() => {});
  assert.ok(await page.evaluate(askedAgain), "the rows in view are asked for again after the refreshed page");
  const loading = '[role="listbox"] [role="option"][aria-busy="true"]';
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 0, loading, { timeout: 5000 }).catch(() => {});
  assert.equal(await page.locator(loading).count(), 0, "no row left loading");
  await page.waitForSelector(filled(100000), { timeout: 5000 });
  await page.close();
});

test("composer: a suggestion chosen with the arrows stays chosen when a slower answer for the same text comes", async () => {
  const page = await open("one-account");
  await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  const to = composer.getByRole("combobox", { name: "To" });
  const list = composer.getByRole("listbox", { name: "To suggestions" });
  await to.pressSequentially("a");
  await list.getByRole("option", { name: /Anders/ }).waitFor();
  // The answer for "an" is slow; the list still shows the one for "a" when the arrow goes down.
  await page.evaluate(() => (window.__fake.holdSuggestions = true));
  await to.press("n");
  await page.waitForFunction(() => typeof window.__fake.releaseSuggestions === "function");
  await page.keyboard.press("ArrowDown");
  assert.equal(await list.getByRole("option", { name: /Anders/ }).getAttribute("aria-selected"), "true");
  // The answer lands within the page's pending promise callbacks; 50 ms covers them.
  await page.evaluate(() => {
    window.__fake.holdSuggestions = false;
    window.__fake.releaseSuggestions();
    return new Promise((r) => setTimeout(r, 50));
  });
  assert.equal(await list.getByRole("option", { name: /Anders/ }).getAttribute("aria-selected"), "true", "the choice survives the answer");
  await page.keyboard.press("Enter");
  assert.deepEqual(await composer.locator(".chip").allInnerTexts().then((t) => t.map((x) => x.replace("×", "").trim())), ["Anders Berg"]);
  await page.close();
});

test("composer: a panel or the whole window, as the user last left it", async () => {
  const page = await open("one-account");
  const write = () => page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  const size = () => composer.evaluate((el) => ({ w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height }));
  const viewport = page.viewportSize();
  await write();
  const panel = await size();
  assert.ok(panel.w < viewport.width * 0.9, `a panel at first (${panel.w} of ${viewport.width})`);
  const toggle = composer.getByRole("button", { name: "Fill the window" });
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await toggle.click();
  const full = await size();
  assert.equal(Math.round(full.w), viewport.width, "the whole width");
  assert.equal(Math.round(full.h), viewport.height, "the whole height");
  assert.ok((await composer.getByRole("button", { name: "Send" }).boundingBox()).y + 20 < viewport.height, "Send still in sight");
  await page.keyboard.press("Escape");
  await composer.waitFor({ state: "detached" });
  // Remembered: the next message (and the next start of the window) opens the same way.
  await page.reload();
  await write();
  assert.equal(await composer.getByRole("button", { name: "Fill the window" }).getAttribute("aria-pressed"), "true");
  assert.equal(Math.round((await size()).w), viewport.width);
  await composer.getByRole("button", { name: "Fill the window" }).click();
  assert.ok((await size()).w < viewport.width * 0.9, "and back to a panel");
  await page.close();
});

test("composer: completion from seen addresses, identities with their signatures, files by picker and drop, rich text, autosave", async () => {
  const page = await browser.newPage();
  await page.addInitScript(() => { globalThis.__petrelAutosaveMs = 400; });
  await page.addInitScript(installFakeBackend, "one-account");
  await page.goto(base);
  await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  // Completion: a listbox of addresses; arrows choose, Enter takes, the field continues.
  const to = composer.getByRole("combobox", { name: "To" });
  await to.pressSequentially("an");
  const list = composer.getByRole("listbox", { name: "To suggestions" });
  await list.getByRole("option", { name: "Ana Lima <ana@example.org>" }).waitFor();
  assert.equal(await list.getByRole("option").count(), 2);
  await page.keyboard.press("ArrowDown");
  assert.equal(await list.getByRole("option", { name: /Anders/ }).getAttribute("aria-selected"), "true");
  await page.keyboard.press("Enter");
  // Taken as a chip; the field continues empty for the next.
  assert.deepEqual(await composer.locator(".chip").allInnerTexts().then((t) => t.map((x) => x.replace("×", "").trim())), ["Anders Berg"]);
  assert.equal(await to.inputValue(), "");
  await list.waitFor({ state: "detached" });
  // Escape in an open list closes the list, not the composer.
  await to.pressSequentially("bo");
  await list.waitFor();
  await page.keyboard.press("Escape");
  await list.waitFor({ state: "detached" });
  assert.equal(await composer.isVisible(), true);
  await to.fill("");
  // A comma makes a chip of what was typed; Backspace in the empty field takes it back to
  // edit, × removes one; an address that cannot be one is marked.
  await to.pressSequentially("not-an-address,");
  const bad = composer.locator(".chip.bad", { hasText: "not-an-address" });
  await bad.waitFor();
  assert.equal(await bad.getAttribute("title"), "Not an address: not-an-address");
  await page.keyboard.press("Backspace");
  assert.equal(await to.inputValue(), "not-an-address");
  await to.fill("");
  assert.equal(await composer.locator(".chip").count(), 1, "only Anders is left");

  // Identity: the signature follows the sender.
  const body = composer.getByRole("textbox", { name: "Message" });
  await body.fill("Hello Anders,\n\n-- \nMe\nExample Org\n");
  await composer.getByLabel("From").selectOption({ label: "Me (support) <support@example.org>" });
  assert.equal(await body.inputValue(), "Hello Anders,\n\n-- \nSupport team\n");
  await composer.getByLabel("Subject").fill("Files");

  // Files: picker (two) and drop (one), with sizes and a total; one removed.
  await composer.locator('input[type="file"]').setInputFiles([
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello notes") },
    { name: "photo.jpg", mimeType: "image/jpeg", buffer: Buffer.alloc(3000, 7) },
  ]);
  const files = composer.getByRole("list", { name: "Attachments" });
  await files.getByText("photo.jpg").waitFor();
  await files.getByText("3 KB").waitFor();
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([1, 2, 3, 4])], "data.bin", { type: "application/octet-stream" }));
    return dt;
  });
  await composer.getByRole("dialog").or(page.getByRole("dialog", { name: "New message" })).first().dispatchEvent("drop", { dataTransfer: dropped });
  await files.getByText("data.bin").waitFor();
  await composer.getByText("3 files, 3 KB").waitFor();
  await composer.getByRole("button", { name: "Remove notes.txt" }).click();
  await composer.getByText("2 files, 3 KB").waitFor();

  // Rich text: formatting buttons; sent with its plain text.
  await composer.getByRole("checkbox", { name: "Rich text" }).check();
  const editor = composer.getByRole("textbox", { name: "Message" });
  await editor.click();
  await page.keyboard.press("Control+a");
  await composer.getByRole("toolbar", { name: "Formatting" }).getByRole("button", { name: "Bold" }).click();

  // Autosave: a draft is saved by itself after a pause, with what was typed.
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "save_draft" && c.args.message.attachments.length === 2 && /<b>|<strong>/.test(c.args.message.html ?? "")));
  await composer.getByText(/^Draft saved at/).waitFor();
  const saved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_draft").at(-1).args);
  assert.equal(saved.account, "work-1");
  assert.equal(saved.message.from, "support@example.org");
  assert.deepEqual(saved.message.attachments.map((a) => a.name), ["photo.jpg", "data.bin"]);
  assert.equal(saved.message.attachments[1].data, "AQIDBA==");
  await composer.getByRole("button", { name: "Send" }).click();
  await composer.waitFor({ state: "detached" });
  const sent = await page.evaluate(() => window.__calls.find((c) => c.cmd === "send_message").args.message);
  assert.match(sent.html, /<b>|<strong>/);
  assert.match(sent.body, /Hello Anders/);
  assert.equal(sent.message_id, saved.message.message_id ?? "draft1@example.org", "the draft's identity goes with the send");
  await page.close();
});

test("drafts: Edit draft continues one, with its files and Bcc", async () => {
  const page = await open("one-account");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Drafts", exact: true }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Half-written plan/ }).click();
  await page.getByRole("toolbar", { name: "Message actions" }).getByRole("button", { name: "Edit draft" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  assert.equal(await composer.locator(".chip", { hasText: "boss@example.org" }).getAttribute("title"), "boss@example.org", "Bcc as a chip");
  assert.equal(await composer.getByRole("textbox", { name: "Message" }).inputValue(), "First point", "no second signature");
  await composer.getByRole("list", { name: "Attachments" }).getByText("plan.txt").waitFor();
  await composer.getByRole("button", { name: "Send" }).click();
  await composer.waitFor({ state: "detached" });
  const sent = await page.evaluate(() => window.__calls.find((c) => c.cmd === "send_message").args.message);
  assert.equal(sent.message_id, "plan@example.org");
  await page.close();
});

test("outbox: queued mail shows as an Outbox folder with Send now, Edit and Delete", async () => {
  const page = await open("one-account");
  await page.evaluate(() => { window.__fake.offline = true; });
  for (const subject of ["First", "Second"]) {
    await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
    const composer = page.getByRole("dialog", { name: "New message" });
    await composer.getByRole("combobox", { name: "To" }).fill("bob@example.org");
    await composer.getByLabel("Subject").fill(subject);
    await composer.getByRole("button", { name: "Send" }).click();
    await composer.waitFor({ state: "detached" });
    await page.getByText("Saved in the outbox").waitFor();
  }
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "Outbox, 2 waiting" }).click();
  const panel = page.getByRole("region", { name: "Outbox of Work" });
  await panel.getByText("2 messages waiting for the outgoing server.").waitFor();
  await panel.getByRole("button", { name: "Send now" }).click();
  await page.getByText("Still waiting: Cannot reach smtp.example.org.").waitFor();
  await panel.getByRole("button", { name: "Delete Second" }).click();
  await page.getByText("“Second” deleted from the outbox").waitFor();
  await panel.getByRole("button", { name: "Edit First" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  assert.equal(await composer.getByLabel("Subject").inputValue(), "First");
  await page.evaluate(() => { window.__fake.offline = false; });
  await composer.getByRole("button", { name: "Send" }).click();
  await page.getByText("Message sent").waitFor();
  await panel.getByText("Nothing waits to be sent.").waitFor();
  await page.close();
});

test("list: the sender's first words after the subject, recipients in Drafts, an arrival time marked — asked for after the rows", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const row = list.getByRole("option", { name: /Lunch on Friday/ });
  await row.locator(".preview").getByText("— Shall we try the new place by the harbour?").waitFor();
  const subject = await row.locator(".subject").evaluate((e) => { const c = getComputedStyle(e); return [c.whiteSpace, c.textOverflow, e.getBoundingClientRect().height < 2 * parseFloat(c.fontSize) * 1.3]; });
  assert.deepEqual(subject, ["nowrap", "ellipsis", true], "one line, cut with an ellipsis when long");
  const asked = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "row_extras").map((c) => [c.args.folder, c.args.uids]));
  assert.deepEqual(asked[0], ["INBOX", [3, 2, 1]]);
  // Mail without a Date of its own shows when it arrived, marked so (to the eye and the ear).
  const digest = list.getByRole("option", { name: /Digest/ });
  await digest.locator(".arrived").waitFor();
  assert.match(await digest.getAttribute("aria-label") ?? await digest.textContent(), /\(arrival\)/);
  assert.equal(await list.getByRole("option", { name: /Lunch on Friday/ }).locator(".arrived").count(), 0);
  await digest.click();
  await page.getByRole("article", { name: "Message" }).getByText("(when it arrived: the message has no date of its own)").waitFor();
  // Another folder's rows get their own lines, never another folder's.
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: /^Drafts/ }).click();
  const draft = list.getByRole("option", { name: /Half-written plan/ });
  await draft.locator(".preview").getByText("— First point").waitFor();
  assert.match(await draft.locator(".from").textContent(), /^To: Ana Lima, Bob \+1$/, "Drafts and Sent list whom the mail goes to");
  assert.equal(await list.getByText("Shall we try").count(), 0);
  await page.close();
});

test("reader: the sender's initials and address, 'to me', attachments as chips, a one-line remote-content bar", async () => {
  const page = await open("one-account");
  const reader = page.getByRole("article", { name: "Message" });
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Lunch on Friday/ }).click();
  await reader.getByText("Shall we try", { exact: false }).waitFor();
  const header = await reader.locator("header").innerText();
  assert.match(header, /AL/, "initials beside the name");
  assert.match(header, /Ana Lima <ana@example\.org>/, "the address beside the name: a name alone can claim anything");
  assert.match(header, /to me/);
  assert.equal(await reader.locator(".avatar").getAttribute("aria-hidden"), "true", "decorative: the name is read instead");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: /^News/ }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /This week in sailing/ }).click();
  const chips = reader.getByRole("list", { name: "Attachments" }).getByRole("listitem");
  await chips.first().waitFor();
  assert.equal(await chips.count(), 3);
  await page.screenshot({ path: join(artifacts, "reader-attachments-remote-bar.png") });
  const boxes = await chips.evaluateAll((items) => items.map((li) => ({ width: li.getBoundingClientRect().width, list: li.parentElement.getBoundingClientRect().width, icon: !!li.querySelector("svg") })));
  assert.ok(boxes.every((b) => b.icon), "each chip has its type's icon");
  assert.ok(boxes.every((b) => b.width < b.list * 0.9), "chips as wide as what they say, not rows across the reader");
  const bar = reader.getByRole("region", { name: "Remote content" });
  await bar.getByRole("button", { name: "Show for this message" }).waitFor();
  assert.ok((await bar.boundingBox()).height <= 34, "one quiet line");
  await page.close();
});

test("reader: View source from the More menu or Ctrl+U, the first part of a large message said", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().click();
  await page.getByRole("article", { name: "Message" }).getByRole("heading", { level: 1 }).waitFor();
  await page.keyboard.press("Control+u");
  const dialog = page.getByRole("dialog", { name: /^Source of / });
  const source = dialog.getByLabel("Message source");
  await source.getByText("DKIM-Signature: v=1", { exact: false }).waitFor();
  assert.match(await source.textContent(), /ünïcode kept/);
  assert.equal(await source.evaluate((e) => e === document.activeElement), true, "the source has the focus, to scroll by keyboard");
  await dialog.getByText("3.0 MB; the first", { exact: false }).waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("toolbar", { name: "Message actions" }).getByRole("button", { name: "More" }).click();
  await page.getByRole("menu", { name: "More" }).getByRole("menuitem", { name: "View source" }).click();
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "detached" });
  await page.close();
});

test("outbox: a message that may have been sent waits for the user: It arrived files it, Send again sends it", async () => {
  const page = await open("one-account");
  await page.evaluate(() => { window.__fake.offline = true; });
  for (const subject of ["First", "Second"]) {
    await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
    const composer = page.getByRole("dialog", { name: "New message" });
    await composer.getByRole("combobox", { name: "To" }).fill("bob@example.org");
    await composer.getByLabel("Subject").fill(subject);
    await composer.getByRole("button", { name: "Send" }).click();
    await composer.waitFor({ state: "detached" });
  }
  // As the engine reports them after Petrel was stopped while they were leaving.
  await page.evaluate(() => { window.__fake.offline = false; for (const q of window.__fake.outbox) q.unsure = true; });
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: /^Outbox/ }).click();
  const panel = page.getByRole("region", { name: "Outbox of Work" });
  await panel.getByText("2 may have been sent: ask a recipient, then say whether it arrived.").waitFor();
  assert.equal(await panel.getByRole("note").filter({ hasText: "May have been sent" }).count(), 2);
  assert.equal(await panel.getByRole("button", { name: "Send now" }).isDisabled(), true, "nothing waits for the server");
  await panel.getByRole("button", { name: "It arrived: file First in Sent" }).click();
  await page.getByText("“First” filed in Sent").waitFor();
  assert.deepEqual(await page.evaluate(() => window.__fake.filedInSent.length), 1);
  await panel.getByRole("button", { name: "Send again: Second" }).click();
  await page.getByText("“Second” sent again").waitFor();
  await panel.getByText("Nothing waits to be sent.").waitFor();
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "settle_unsure").map((c) => c.args.arrived));
  assert.deepEqual(calls, [true, false]);
  await page.close();
});

test("setup wizard: settings found with their source, the advisor's questions and recommendation, trust, connect; nothing found shows the log", async () => {
  const page = await open("one-account");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Home");
  await wizard.getByLabel("Email address").fill("me@nothing.example");
  await wizard.getByLabel("Password").fill("correct horse");
  await wizard.getByRole("button", { name: "Continue" }).click();
  // Nothing found: said, with what was tried, exportable, and the manual form offered.
  await wizard.getByRole("alert").getByText("could not find the settings for nothing.example", { exact: false }).waitFor();
  await wizard.getByRole("log", { name: "Connection log" }).getByText("HTTP 404", { exact: false }).waitFor();
  await wizard.getByRole("button", { name: "Export log…" }).click();
  const exported = await page.evaluate(() => window.__calls.find((c) => c.cmd === "export_setup_log").args);
  assert.equal(exported.email, "me@nothing.example");
  await wizard.getByRole("button", { name: "Back" }).click();

  await wizard.getByLabel("Email address").fill("me@home.example");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const found = wizard.getByRole("region", { name: "Settings found" });
  await found.getByText("autoconfig.home.example", { exact: false }).waitFor();
  await found.getByText("IMAP: mail.example.org, port 993, TLS").waitFor();
  await found.getByText("Sending (SMTP): mail.example.org, port 465, TLS").waitFor();
  // The untrusted certificate is shown with its fingerprint; trusting it is a choice.
  await wizard.getByRole("region", { name: "Certificate of mail.example.org" }).getByRole("checkbox", { name: "Trust the certificate of mail.example.org" }).check();
  // Review H3: a server outside home.example gets the password only after a yes naming it.
  const where = wizard.getByRole("region", { name: "Where your password goes" });
  await where.getByText("not part of", { exact: false }).waitFor();
  assert.equal(await wizard.getByRole("button", { name: "Continue" }).isDisabled(), true, "no login before the yes");
  await where.getByRole("checkbox", { name: "Yes, send my password to mail.example.org" }).check();
  await wizard.getByRole("button", { name: "Continue" }).click();

  // The advisor: IMAP by default; one device + often offline → POP3 with a policy.
  const advice = wizard.getByRole("region", { name: "Recommendation" });
  await advice.getByText("We recommend IMAP").waitFor();
  await advice.getByText("Your mailbox on the server uses 5.5 MB of 100 MB.").waitFor();
  await wizard.getByRole("radio", { name: "Often slow or missing" }).check();
  await advice.getByText("We recommend POP3").waitFor();
  assert.equal(await wizard.getByRole("radio", { name: /POP3 — mail comes to this computer \(recommended\)/ }).isChecked(), true);
  await advice.getByText("The other choice:", { exact: false }).waitFor();
  await wizard.getByRole("radio", { name: "On several devices (phone, tablet, another computer)" }).check();
  await advice.getByText("We recommend IMAP").waitFor();
  // The user may still pick the other one.
  await wizard.getByRole("radio", { name: /POP3 — mail comes to this computer/ }).check();
  await wizard.getByRole("button", { name: "Connect" }).click();
  await wizard.waitFor({ state: "detached" });
  const form = await page.evaluate(() => window.__calls.find((c) => c.cmd === "add_account").args.form);
  const confirmed = await page.evaluate(() => window.__calls.filter((c) => ["add_account", "server_quota"].includes(c.cmd)).map((c) => [c.cmd, c.args.confirmedHosts]));
  assert.deepEqual(confirmed, [["server_quota", ["mail.example.org"]], ["add_account", ["mail.example.org"]]]);
  assert.equal(form.protocol, "pop3");
  assert.equal(form.imap.port, 995, "the POP3 server found");
  assert.equal(form.imap.pinned_cert_sha256, "ab".repeat(32), "pinned because the user trusted it");
  assert.equal(form.smtp.pinned_cert_sha256, "ab".repeat(32), "same host, same certificate");
  assert.equal(form.pop3.leave_days, 14, "several devices: leave mail 14 days");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Home" }).waitFor();
  await page.close();
});

test("setup wizard: settings from DNS records (not protected against tampering) name the server the password would go to", async () => {
  const page = await open("empty");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Srv");
  await wizard.getByLabel("Email address").fill("me@srv.example");
  await wizard.getByLabel("Password").fill("correct horse");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const where = wizard.getByRole("region", { name: "Where your password goes" });
  await where.getByText("not protected against tampering", { exact: false }).waitFor();
  await where.getByText("mail.example.org", { exact: false }).first().waitFor();
  assert.equal(await wizard.getByRole("button", { name: "Continue" }).isDisabled(), true);
  assert.equal(await page.evaluate(() => window.__calls.filter((c) => c.cmd === "server_quota").length), 0, "no login of any kind");
  await page.close();
});

test("setup wizard: Microsoft signs in in the browser — a waiting step with Cancel, then the account is added with a ticket and no password", async () => {
  const page = await open("one-account");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Ana");
  await wizard.getByLabel("Email address").fill("ana@outlook.com");
  // No password: Microsoft takes none from mail programs.
  await wizard.getByRole("button", { name: "Continue" }).click();
  const signIn = wizard.getByRole("region", { name: "Sign in with Microsoft" });
  await signIn.getByRole("button", { name: "Sign in with Microsoft" }).waitFor();
  assert.equal(await wizard.getByRole("button", { name: /Continue/ }).count(), 0, "no password route where only OAuth2 works");
  // Cancel while waiting for the browser.
  await signIn.getByRole("button", { name: "Sign in with Microsoft" }).click();
  const waiting = wizard.getByRole("region", { name: "Waiting for the browser" });
  await waiting.getByText("Waiting for you to sign in with Microsoft in your browser", { exact: false }).waitFor();
  await waiting.getByRole("button", { name: "Cancel" }).click();
  await signIn.getByRole("button", { name: "Sign in with Microsoft" }).waitFor();
  // Again, to the end.
  await signIn.getByRole("button", { name: "Sign in with Microsoft" }).click();
  await wizard.getByRole("region", { name: "Recommendation" }).waitFor();
  await wizard.getByRole("button", { name: "Connect" }).click();
  await wizard.waitFor({ state: "detached" });
  const calls = await page.evaluate(() => window.__calls.filter((c) => ["sign_in", "cancel_sign_in", "add_account", "server_quota"].includes(c.cmd)).map((c) => [c.cmd, c.args]));
  assert.deepEqual(calls.map(([cmd]) => cmd), ["sign_in", "cancel_sign_in", "sign_in", "add_account"], "no quota look-up (it would need a password)");
  assert.deepEqual(calls[0][1], { provider: { kind: "microsoft" }, clientId: null, loginHint: "ana@outlook.com" });
  const form = calls[3][1].form;
  assert.deepEqual(form.sign_in, { kind: "oauth2", provider: { kind: "microsoft" }, client_id: null });
  assert.equal(form.sign_in_ticket, "ticket-1");
  assert.equal(form.password, "");
  await page.close();
});

test("an OAuth2 account whose sign-in ended says so, and Account options signs it in again", async () => {
  const page = await open("oauth-expired");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  // The engine tells the window when an account's state changes.
  await page.evaluate(() => window.__emit("account-status", { account: "work-1", state: "sign_in_again", message: "Your sign-in has expired or was revoked: sign in again.", retry_in_seconds: 900, pending_actions: 1 }));
  await page.getByText("Work: sign in again (your sign-in expired or was revoked) (1 change waiting)").waitFor();
  await (await treeMenu(page, "Work", "Account options…")).click();
  const dialog = page.getByRole("dialog", { name: "Account options" });
  const group = dialog.getByRole("group", { name: "Sign-in" });
  await group.getByText("This account signs in with Microsoft", { exact: false }).waitFor();
  await group.getByRole("button", { name: "Sign in again" }).click();
  await group.getByRole("status").getByText("Signed in with Microsoft.", { exact: false }).waitFor();
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "sign_in_again").map((c) => c.args));
  assert.deepEqual(calls, [{ account: "work-1" }]);
  // Back to a password: a wrong one is refused in words, the right one switches.
  await group.getByLabel("Or use a password instead").fill("wrong");
  await group.getByRole("button", { name: "Use the password" }).click();
  await group.getByRole("alert").getByText("rejected the login", { exact: false }).waitFor();
  await group.getByLabel("Or use a password instead").fill("correct horse");
  await group.getByRole("button", { name: "Use the password" }).click();
  await group.getByRole("status").getByText("now signs in with its password", { exact: false }).waitFor();
  const switched = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "change_sign_in").map((c) => [c.args.signIn, c.args.ticket]));
  assert.deepEqual(switched.at(-1), [{ kind: "password" }, null]);
  await page.close();
});

test("setup wizard: personal Gmail without a Google client ID in this build explains the app-password route", async () => {
  const page = await open("empty");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Ana");
  await wizard.getByLabel("Email address").fill("ana@gmail.com");
  await wizard.getByLabel("Password").fill("abcdabcdabcdabcd");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const region = wizard.getByRole("region", { name: "Sign in with Google" });
  await region.getByRole("heading", { name: "Use an app password" }).waitFor();
  await region.getByText("2-Step Verification", { exact: false }).waitFor();
  assert.equal(await region.getByRole("button", { name: "Sign in with Google" }).count(), 0);
  await wizard.getByRole("button", { name: "Continue with a password" }).waitFor();
  await page.close();
});

test("setup wizard: an internationalized domain's servers are shown in Unicode, with the A-label beside them, and are its own", async () => {
  const page = await open("empty");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Ana");
  await wizard.getByLabel("Email address").fill("ana@bücher.example");
  await wizard.getByLabel("Password").fill("correct horse");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const found = wizard.getByRole("region", { name: "Settings found" });
  await found.getByText("IMAP: mail.bücher.example (mail.xn--bcher-kva.example), port 993, TLS").waitFor();
  assert.equal(await wizard.getByRole("region", { name: "Where your password goes" }).count(), 0, "the servers are under the address's own domain");
  await wizard.getByRole("region", { name: "Certificate of mail.bücher.example (mail.xn--bcher-kva.example)" }).waitFor();
  // The address's domain in the words too, whatever form the email field handed over.
  await page.getByRole("button", { name: "Back" }).click();
  await wizard.getByLabel("Email address").fill("ana@nothing.example");
  await wizard.getByRole("button", { name: "Continue" }).click();
  await wizard.getByText("Petrel could not find the settings for nothing.example.", { exact: false }).waitFor();
  await page.close();
});

test("the certificate question says why: a certificate for another server is the interception case", async () => {
  const page = await open("empty");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Name");
  await wizard.getByLabel("Email address").fill("me@wrongname.example");
  await wizard.getByLabel("Password").fill("correct horse");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const card = wizard.getByRole("region", { name: "Certificate of mail.example.org" });
  await card.getByRole("alert").getByText("was issued for another server", { exact: false }).waitFor();
  assert.equal(await card.getByText("normal for a self-signed server", { exact: false }).count(), 0, "not the self-signed words");
  await page.close();
});

test("removing an account asks first, and keeps local mail unless told otherwise", async () => {
  const page = await open("pop3-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await (await treeMenu(page, "Work", "Account options…")).click();
  await page.getByRole("dialog", { name: "Account options" }).getByRole("button", { name: "Remove account…" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Remove account" });
  await confirm.getByText("The mail downloaded to this computer is kept", { exact: false }).waitFor();
  const box = confirm.getByRole("checkbox", { name: /Also delete the mail stored on this computer/ });
  assert.equal(await box.isChecked(), false, "keeping local mail is the default");
  await confirm.getByRole("button", { name: "Remove account" }).click();
  await page.getByText("Account removed. Its local mail is kept in /home/me/.config/petrel/mail/work-1").waitFor();
  assert.equal(await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Work" }).count(), 0);
  const call = await page.evaluate(() => window.__calls.find((c) => c.cmd === "remove_account").args);
  assert.deepEqual(call, { account: "work-1", deleteLocalMail: false });
  await page.close();
});

test("setup wizard: while it looks, the settings can be typed instead, with what was entered kept", async () => {
  const page = await open("one-account");
  await openWizard(page);
  const wizard = page.getByRole("dialog", { name: "Add account" });
  await wizard.getByLabel("Your name").fill("Slow");
  await wizard.getByLabel("Email address").fill("me@slow.example");
  await wizard.getByLabel("Password").fill("correct horse");
  await wizard.getByRole("button", { name: "Continue" }).click();
  const stages = wizard.getByRole("list", { name: "Where Petrel looks" });
  await stages.waitFor();
  // The sources run side by side, and each line says its own state.
  await stages.getByText("Your provider's settings file — trying…").waitFor();
  await stages.getByText("Asking likely servers (IMAP) — trying…").waitFor();
  await stages.getByText("Petrel's list of mail providers — nothing there").waitFor();
  await wizard.getByRole("button", { name: "Edit settings instead" }).click();
  assert.equal(await wizard.getByLabel("Display name").inputValue(), "Slow");
  assert.equal(await wizard.getByLabel("Email address").inputValue(), "me@slow.example");
  // The late answer of the search does not take the form away.
  await page.waitForTimeout(1800);
  assert.equal(await wizard.getByLabel("Display name").isVisible(), true);
  await page.close();
});

test("unsubscribed folders are hidden until asked for, and can be subscribed", async () => {
  const page = await open("one-account");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "INBOX", exact: true }).waitFor();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  assert.equal(await tree.getByRole("treeitem", { name: "Old lists" }).count(), 0);
  await (await treeMenu(page, "Work", "Show all folders", { role: "menuitemcheckbox" })).click();
  await tree.getByRole("treeitem", { name: "Old lists" }).click();
  assert.equal(await (await treeMenu(page, "Old lists", "Show all folders", { role: "menuitemcheckbox" })).getAttribute("aria-checked"), "true");
  await page.getByRole("menu").getByRole("menuitem", { name: "Subscribe" }).click();
  await (await treeMenu(page, "Old lists", "Unsubscribe")).waitFor();
  await page.getByRole("menu").getByRole("menuitemcheckbox", { name: "Show all folders" }).click();
  await tree.getByRole("treeitem", { name: "INBOX", exact: true }).click();
  await tree.getByRole("treeitem", { name: "Old lists" }).waitFor(); // subscribed now
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_subscribed").map((c) => c.args));
  assert.deepEqual(calls, [{ account: "work-1", path: "Old lists", subscribed: true }]);
  await page.close();
});

test("HTML mail shows in a sandboxed frame with remote content blocked until allowed", async () => {
  const page = await open("one-account");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "News" }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /This week in sailing/ }).click();
  const reader = page.getByRole("article", { name: "Message" });
  const frame = reader.locator('iframe[title="Message body"]');
  await frame.waitFor();
  assert.equal(await frame.getAttribute("sandbox"), "allow-popups allow-popups-to-escape-sandbox", "no scripts, no same-origin");
  assert.match(await frame.getAttribute("srcdoc"), /img-src data:;/);
  assert.equal(await page.frameLocator('iframe[title="Message body"]').getByRole("heading", { name: "This week" }).count(), 1);
  const bar = reader.getByRole("region", { name: "Remote content" });
  await bar.waitFor();
  await bar.getByRole("button", { name: "Show for this message" }).click();
  await bar.waitFor({ state: "detached" });
  assert.match(await frame.getAttribute("srcdoc"), /img-src data: http: https:;/);

  // Attachments: listed with size; Save reports where the file went.
  const files = reader.getByRole("list", { name: "Attachments" });
  assert.match(await files.innerText(), /report\.pdf\s+\.pdf\s+47 KB/);
  // Review H2: a program is never opened (no Open button, Save stays), its real extension
  // shows; another type asks first, naming the type.
  assert.equal(await files.getByRole("button", { name: "Open invoicefdp.exe" }).count(), 0);
  assert.match(await files.innerText(), /invoicefdp\.exe\s+\.exe/);
  await files.getByText("A program or script: not opened from mail").waitFor();
  await files.getByRole("button", { name: "Open data.zip" }).click();
  const ask = reader.getByRole("alertdialog", { name: "Open data.zip?" });
  await ask.getByText(".zip file (application/zip)").waitFor();
  await ask.getByRole("button", { name: "Open", exact: true }).click();
  await ask.waitFor({ state: "detached" });
  await files.getByRole("button", { name: "Open report.pdf" }).click();
  const opened = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "open_attachment").map((c) => [c.args.index, c.args.confirmed]));
  assert.deepEqual(opened, [[4, true], [2, false]]);
  await files.getByRole("button", { name: "Save report.pdf", exact: true }).click();
  await page.getByRole("status").getByText("Saved to /home/me/Downloads/report.pdf").waitFor();
  await files.getByRole("button", { name: "Save report.pdf as…" }).click();
  await page.getByRole("status").getByText("Saved to /home/me/Documents/chosen.pdf").waitFor();

  // Plain-text mail: links are real links that open outside.
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "INBOX", exact: true }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /Build is green/ }).click();
  await reader.getByRole("link", { name: "https://ci.example.org/run/42" }).click();
  const calls = await page.evaluate(() => window.__calls.filter((c) => ["open_link", "save_attachment"].includes(c.cmd)).map((c) => [c.cmd, c.args]));
  assert.deepEqual(calls, [
    ["save_attachment", { account: "work-1", folder: "News", uid: 9, index: 2, ask: false }],
    ["save_attachment", { account: "work-1", folder: "News", uid: 9, index: 2, ask: true }],
    ["open_link", { url: "https://ci.example.org/run/42" }],
  ]);
  await page.close();
});

test("always showing remote content for a sender is remembered", async () => {
  const page = await open("one-account");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "News" }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /This week in sailing/ }).click();
  const reader = page.getByRole("article", { name: "Message" });
  await reader.getByRole("region", { name: "Remote content" }).getByRole("button", { name: "Always show from news@example.org" }).click();
  await page.reload();
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "News" }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option", { name: /This week in sailing/ }).click();
  const frame = reader.locator('iframe[title="Message body"]');
  await frame.waitFor();
  assert.match(await frame.getAttribute("srcdoc"), /img-src data: http: https:;/);
  assert.equal(await reader.getByRole("region", { name: "Remote content" }).count(), 0);
  await page.close();
});

test("a 100,000-message folder: only rows on screen exist, pages come by position, the end is reachable", async () => {
  const page = await open("one-account");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Big" }).click();
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Message 100000/ }).waitFor();
  assert.ok((await list.getByRole("option").count()) < 40, "virtualized: a screenful of rows in the DOM");
  assert.equal(await list.getByRole("option").first().getAttribute("aria-setsize"), "100000");

  // Scroll to the very end: the oldest message shows.
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await list.getByRole("option", { name: /Message 1$/ }).waitFor();
  assert.equal(await list.getByRole("option", { name: /Message 1$/ }).getAttribute("aria-posinset"), "100000");
  const offsets = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "list_envelopes" && c.args.folder === "Big").map((c) => c.args.offset));
  assert.ok(offsets.length <= 4, `pages by position, not the folder: ${offsets}`);
  assert.ok(offsets.includes(99800), `the last page was asked for: ${offsets}`);

  // Keyboard: Home and End select the first and last message.
  await list.focus();
  await page.keyboard.press("Home");
  await list.getByRole("option", { name: /Message 100000/, selected: true }).waitFor();
  await page.keyboard.press("End");
  await list.getByRole("option", { name: /Message 1$/, selected: true }).waitFor();
  await page.screenshot({ path: join(artifacts, "big-folder-end.png") });
  await page.close();
});

test("conversation view: a 100k folder as conversations, opened with → and closed with ←, own replies from Sent", async () => {
  const page = await open("one-account");
  await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Big" }).click();
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Message 100000/ }).waitFor();
  const toggle = page.getByRole("search", { name: "Quick filter" }).getByRole("button", { name: "Conversations" });
  await toggle.click();
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  const head = list.getByRole("option", { name: /Conversation of 5 messages, closed: .*Message 99997/ });
  await head.waitFor();
  assert.equal(await head.getAttribute("aria-setsize"), "25000", "one row per conversation");
  assert.equal(await list.getByRole("option").count() < 40, true, "still virtualized");

  // → opens the conversation: its messages follow, the reply from Sent among them.
  await head.click();
  await page.keyboard.press("ArrowRight");
  await list.getByRole("option", { name: /Message 100000/ }).waitFor();
  assert.equal(await list.getByRole("option").first().getAttribute("aria-setsize"), "25004");
  const mine = list.getByRole("option", { name: /\(in Sent\).*Re: Message 0/ });
  await mine.click();
  await page.getByRole("article", { name: "Message" }).getByText("Body of Sent 900000").waitFor();
  const read = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "read_message").at(-1).args);
  assert.deepEqual([read.folder, read.uid], ["Sent", 900000], "the reply opens from Sent");

  // ← from a reply closes the conversation and returns to its first row.
  await page.keyboard.press("ArrowLeft");
  await page.waitForFunction(() => document.querySelector('[role="listbox"] [role="option"]')?.getAttribute("aria-setsize") === "25000");
  // The end of the list is the oldest conversation.
  await list.focus();
  await page.keyboard.press("End");
  await list.getByRole("option", { name: /Message 1$/, selected: true }).waitFor();
  const offsets = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "list_threads").map((c) => c.args.offset));
  assert.ok(Math.max(...offsets) >= 24800 && offsets.length < 12, `pages by position: ${offsets}`);
  await page.screenshot({ path: join(artifacts, "conversations.png") });

  // Off again: the plain list of 100,000 (the choice is remembered).
  await toggle.click();
  await page.waitForFunction(() => document.querySelector('[role="listbox"] [role="option"]')?.getAttribute("aria-setsize") === "100000");
  assert.equal(await page.evaluate(() => localStorage.getItem("petrel.conversations")), "off");
  await page.close();
});

test("multi-select with shift and ctrl, bulk delete, and dragging rows onto a folder", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const rows = list.getByRole("option");
  await rows.first().waitFor();
  await rows.nth(0).click();
  await rows.nth(2).click({ modifiers: ["Shift"] });
  assert.equal(await list.getByRole("option", { selected: true }).count(), 3);
  await rows.nth(1).click({ modifiers: ["Control"] });
  assert.equal(await list.getByRole("option", { selected: true }).count(), 2);
  await page.keyboard.press("Delete");
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 1);

  // Drag the remaining message onto Projects: it moves there.
  await list.getByRole("option").first().dragTo(page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "Projects" }).locator(".row").first());
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 0);
  const calls = await page.evaluate(() => window.__calls.filter((c) => /_messages$/.test(c.cmd)).map((c) => [c.cmd, c.args.uids.sort(), c.args.to ?? null]));
  assert.deepEqual(calls, [
    ["delete_messages", [1, 3], null],
    ["move_messages", [2], "Projects"],
  ]);
  await page.close();
});

test("All Inboxes merges the accounts by date, marks each row's account, and acts on the right account", async () => {
  const page = await open("two-accounts");
  const tree = page.getByRole("tree", { name: "Folders" });
  for (const name of ["All Inboxes", "Unread", "Flagged"]) await tree.getByRole("treeitem", { name }).waitFor();
  await tree.getByRole("treeitem", { name: "All Inboxes" }).click();
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").nth(3).waitFor();
  const texts = await list.getByRole("option").allInnerTexts();
  assert.match(texts[0], /Home:\s*Mum[\s\S]*Sunday lunch/, "newest first across accounts, marked with the account");
  assert.match(texts[1], /Work:\s*Ana Lima[\s\S]*Lunch on Friday/);
  await list.getByRole("option", { name: /Sunday lunch/ }).click();
  await page.getByRole("article", { name: "Message" }).getByText("Come at one.").waitFor();
  await page.getByRole("article", { name: "Message" }).getByRole("button", { name: "Archive" }).click();
  await page.waitForFunction(() => !document.querySelector('[role="listbox"]').textContent.includes("Sunday lunch"));
  const calls = await page.evaluate(() => window.__calls.filter((c) => ["read_message", "archive_messages"].includes(c.cmd)).slice(0, 2).map((c) => [c.cmd, c.args.account, c.args.folder, c.args.uid ?? c.args.uids]));
  assert.deepEqual(calls, [
    ["read_message", "home-2", "INBOX", 3],
    ["archive_messages", "home-2", "INBOX", [3]],
  ]);
  // Flagged shows flagged mail of every account (Bob's "Build is green" is flagged).
  await tree.getByRole("treeitem", { name: "Flagged" }).click();
  await list.getByRole("option", { name: /Build is green/ }).waitFor();
  assert.equal(await list.getByRole("option").count(), 1);
  await page.close();
});

test("search: / and Ctrl+K focus the box, operators complete, results across folders with marked words, server results, errors under the box, Escape goes back", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").nth(2).waitFor();
  const box = page.getByRole("combobox", { name: "Search all mail" });
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Search all mail", "/ focuses the search box");
  await list.focus();
  await page.keyboard.press("Control+k");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Search all mail", "Ctrl+K focuses the search box");

  // Operators are completed as they are typed (Tab or a click takes one).
  await page.keyboard.type("fr");
  const ops = page.getByRole("listbox", { name: "Search operators" });
  await ops.getByRole("option", { name: /from:/ }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await box.inputValue(), "from:");
  // An unknown operator is said under the box; the list stays as it was.
  await box.fill("frm:ana");
  await page.keyboard.press("Enter");
  const alert = page.getByRole("alert").filter({ hasText: "frm:" });
  await alert.waitFor();
  assert.equal(await box.getAttribute("aria-invalid"), "true");
  assert.equal(await list.getByRole("option").count(), 3, "the folder stays listed");

  // Words anywhere (here: a body and a nested folder), across folders, matched words marked.
  await box.fill("harbour");
  await page.keyboard.press("Enter");
  await page.getByRole("group", { name: "Search results" }).waitFor();
  assert.equal(await page.getByRole("alert").count(), 0, "the error went with a good query");
  const hit = list.getByRole("option", { name: /Lunch on Friday/ });
  await hit.waitFor();
  assert.equal(await list.getByRole("option").count(), 1);
  assert.equal(await hit.locator("mark").first().innerText(), "harbour", "the snippet marks the word");
  assert.match(await hit.innerText(), /INBOX · Work/, "where it lives");
  // Opening a result shows it in the reader, from its own folder.
  await hit.click();
  await page.getByRole("heading", { name: "Lunch on Friday?" }).waitFor();

  // The servers are asked after the local answer: their results are marked and open too.
  await box.fill("invoice");
  await page.keyboard.press("Enter");
  const remote = list.getByRole("option", { name: /Your November statement/ });
  await remote.waitFor();
  assert.match(await remote.innerText(), /on the server/);
  await page.getByText(/servers searched \(3 folders\)/).waitFor();
  await remote.click();
  await page.getByText("Invoice 2026-11 is attached.").waitFor();
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "search_mail").map((c) => c.args.server));
  assert.deepEqual(calls.slice(-2), [false, true], "local first, then the servers");

  // Sorting by best match asks again; Escape returns to the folder.
  await page.getByLabel("Sort").selectOption("relevance");
  await page.waitForFunction(() => window.__calls.filter((c) => c.cmd === "search_mail").at(-1).args.order === "relevance");
  await list.focus();
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector('[role="group"][aria-label="Search results"]'));
  await list.getByRole("option", { name: /Build is green/ }).waitFor();
  assert.equal(await list.getByRole("option").count(), 3);
  await page.screenshot({ path: `${artifacts}search.png` });
  await page.close();
});

test("search: a result opens in its conversation (Enter, double click or the button), Escape returns to the results", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").nth(2).waitFor();
  const box = page.getByRole("combobox", { name: "Search all mail" });
  await box.fill("suites");
  await page.keyboard.press("Enter");
  const hit = list.getByRole("option", { name: /Build is green/ });
  await hit.waitFor();
  const show = page.getByRole("button", { name: "Show in conversation" });
  assert.equal(await show.isDisabled(), true, "nothing selected yet");
  await hit.click();
  await page.getByRole("heading", { name: "Build is green" }).waitFor();

  // Enter on the result: its folder as conversations, its conversation open (the user's
  // reply from Sent under it), the message selected and shown.
  await list.focus();
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "← Back to results" }).waitFor();
  const selected = list.locator('[role="option"][aria-selected="true"]');
  await selected.filter({ hasText: "Build is green" }).waitFor();
  assert.equal(await selected.count(), 1);
  await list.getByRole("option", { name: /Re: Build is green/ }).waitFor();
  assert.equal(await list.getByRole("option").count(), 4, "three conversations, one open");
  await page.getByRole("heading", { name: "Build is green" }).waitFor();
  const conversations = page.getByRole("search", { name: "Quick filter" }).getByRole("button", { name: "Conversations" });
  assert.equal(await conversations.getAttribute("aria-pressed"), "true");
  const asked = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "conversation_of").map((c) => c.args));
  assert.deepEqual(asked, [{ account: "work-1", folder: "INBOX", uid: 2 }]);

  // Escape: back to the results, asked again.
  await list.focus();
  await page.keyboard.press("Escape");
  await page.getByRole("group", { name: "Search results" }).waitFor();
  await hit.waitFor();
  // A double click does the same; the remembered view (conversations off) comes back for
  // a folder chosen afterwards.
  await hit.dblclick();
  await page.getByRole("button", { name: "← Back to results" }).waitFor();
  await page.getByRole("tree").getByRole("treeitem", { name: /^Archive/ }).first().click();
  await page.waitForFunction(() => !document.querySelector('[aria-label="Result in its conversation"]'));
  assert.equal(await conversations.getAttribute("aria-pressed"), "false");
  await page.close();
});

test("a message file from the command line opens in a reader of its own, copied to a folder and answered from a chosen account", async () => {
  const page = await open("message-file");
  const reader = page.getByRole("dialog", { name: "plans.eml — message file" });
  await reader.getByRole("heading", { name: "Harbour plans" }).waitFor();
  // The same rules as the reader: sanitized HTML in a sandboxed frame, remote content
  // blocked until allowed; no folder actions (it is a file), no attachment buttons.
  assert.equal(await reader.locator("iframe").getAttribute("sandbox"), "allow-popups allow-popups-to-escape-sandbox");
  await reader.getByRole("region", { name: "Remote content" }).waitFor();
  for (const gone of ["Archive", "Delete", "Flag", "Mark as read"]) assert.equal(await reader.getByRole("button", { name: gone, exact: true }).count(), 0, gone);
  assert.equal(await reader.getByRole("button", { name: "Open map.pdf" }).count(), 0);
  await reader.getByText("map.pdf").waitFor();
  await page.screenshot({ path: join(artifacts, "message-file.png") });

  // Kept: copied into a folder of the chosen account.
  await reader.getByLabel("Account").selectOption({ index: 0 });
  await reader.getByLabel("Copy to folder").selectOption("Archive");
  await page.getByText("Copied “plans.eml” to Archive").waitFor();
  const copied = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "copy_message_file").map((c) => c.args));
  assert.deepEqual(copied, [{ account: "work-1", folder: "Archive", path: "/home/me/Downloads/plans.eml" }]);

  await reader.getByRole("button", { name: "Reply", exact: true }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  await composer.waitFor();
  assert.equal(await composer.getByLabel("Subject").inputValue(), "Re: Harbour plans");
  const asked = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "start_composition_from_file").map((c) => c.args));
  assert.deepEqual(asked, [{ account: "work-1", path: "/home/me/Downloads/plans.eml", kind: "reply" }]);
  assert.equal(await reader.count(), 0, "the composer takes the file's place");
  await page.close();
});

test("import: a Thunderbird profile's accounts go to the account form, its mail imports with progress, Stop, and a report", async () => {
  const page = await open("one-account");
  await page.getByRole("button", { name: "Import…" }).click();
  const dialog = page.getByRole("dialog", { name: "Import mail" });
  await dialog.getByRole("combobox", { name: "Profile" }).waitFor();
  await dialog.getByRole("button", { name: "Read profile" }).click();
  const found = dialog.getByRole("list", { name: "Accounts in the profile" });
  await found.getByText("pop.home.example.org:995").waitFor();
  await page.screenshot({ path: join(artifacts, "import-thunderbird.png") });

  // Mail first: into the chosen account, stopped midway, then run again to the end.
  await page.evaluate(() => (window.__fake.importDelay = 150));
  await dialog.getByLabel("Folder for Local Folders").fill("From Thunderbird");
  await dialog.getByRole("button", { name: "Import Local Folders" }).click();
  const bar = dialog.getByRole("progressbar", { name: "Imported so far" });
  await bar.waitFor();
  await dialog.getByRole("status").filter({ hasText: "Importing Local Folders: INBOX" }).waitFor();
  await dialog.getByRole("button", { name: "Stop" }).click();
  await dialog.getByText(/Stopped: imported \d+ messages/).waitFor();
  await dialog.getByText("Import the same again to go on where it stopped.").waitFor();
  const asked = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "import_mail").map((c) => c.args));
  assert.deepEqual(asked, [{ account: "work-1", folder: "From Thunderbird", source: { kind: "thunderbird", profile: "/home/me/.thunderbird/abc.default-release", store: "server1" } }]);
  await page.evaluate(() => (window.__fake.importDelay = 5));
  await dialog.getByRole("button", { name: "Import Local Folders" }).click();
  await dialog.getByText("Imported 298 messages into INBOX, Archive. 2 deleted messages left out. 120 messages Thunderbird downloaded will not be downloaded again.").waitFor();
  await dialog.getByText("1 item left out").click();
  await dialog.getByText(/larger than 256 MB/).waitFor();

  // The account: the form with Thunderbird's settings; the password is asked.
  await found.getByRole("button", { name: "Add me@home.example.org" }).click();
  const form = page.getByRole("dialog", { name: "Add account" });
  await form.waitFor();
  assert.equal(await form.getByLabel("Email address").inputValue(), "me@home.example.org");
  assert.equal(await form.getByLabel("Password").inputValue(), "", "never taken from Thunderbird");
  assert.equal(await dialog.count(), 0, "the form takes the import's place");
  await page.keyboard.press("Escape");
  await dialog.waitFor();
  await page.close();
});

test("import: an mbox file into a folder; a wrong profile folder is said in words", async () => {
  const page = await open("one-account");
  await page.getByRole("button", { name: "Import…" }).click();
  const dialog = page.getByRole("dialog", { name: "Import mail" });
  await dialog.getByLabel("Profile folder").fill("/home/me/Documents");
  await dialog.getByRole("button", { name: "Read profile" }).click();
  await dialog.getByRole("alert").filter({ hasText: "/home/me/Documents is not a Thunderbird profile" }).waitFor();

  await dialog.getByRole("tab", { name: "Mail files" }).click();
  await dialog.getByRole("button", { name: "Choose…" }).click();
  // The chooser answers asynchronously: the field fills when it does.
  await page.waitForFunction(() => [...document.querySelectorAll("textarea")].some((t) => t.value === "/home/me/old.mbox"));
  assert.equal(await dialog.getByLabel("File", { exact: true }).inputValue(), "/home/me/old.mbox");
  await dialog.getByLabel("Folder", { exact: true }).fill("Old mail");
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByText(/^Imported 298 messages/).waitFor();
  const asked = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "import_mail").map((c) => c.args));
  assert.deepEqual(asked, [{ account: "work-1", folder: "Old mail", source: { kind: "mbox", path: "/home/me/old.mbox" } }]);
  await dialog.getByRole("button", { name: "Close" }).click();
  assert.equal(await dialog.count(), 0);
  await page.close();
});

test("Get mail checks every account's INBOX whatever folder is open (POP3 downloads only there)", async () => {
  const page = await open("two-accounts");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "News" }).click();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await page.evaluate(() => (window.__calls.length = 0));
  await page.getByRole("button", { name: "Get mail" }).click();
  await page.waitForFunction(() => window.__calls.filter((c) => c.cmd === "refresh_folder").length >= 3);
  const refreshed = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "refresh_folder").map((c) => `${c.args.account}/${c.args.folder}/${c.args.force}`));
  assert.deepEqual(refreshed.sort(), ["home-2/INBOX/true", "work-1/INBOX/true", "work-1/News/true"]);
  await page.close();
});

/** Elements that stick out of their box or the window (scrolling boxes and ellipsis text
 * excepted), and toolbars whose buttons went onto a second row. */
async function overflowAt(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll(".app *")) {
      const cs = getComputedStyle(el);
      if (cs.display === "none" || cs.visibility === "hidden" || el.closest("svg")) continue;
      const r = el.getBoundingClientRect();
      // (Screen-reader-only text is 1 px on purpose.)
      if (r.width <= 1 || r.height <= 1) continue;
      if (r.right > innerWidth + 1) bad.push(`${el.tagName}.${el.className} ends at ${Math.round(r.right)} of ${innerWidth}`);
      if (["auto", "scroll"].includes(cs.overflowX) || cs.textOverflow === "ellipsis") continue;
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && cs.overflowX !== "visible") bad.push(`${el.tagName}.${el.className} clips ${el.scrollWidth} > ${el.clientWidth}`);
    }
    for (const bar of document.querySelectorAll('[role="toolbar"][aria-label="Mail actions"], [role="toolbar"][aria-label="Message actions"], [role="search"][aria-label="Quick filter"]')) {
      const boxes = [...bar.children].map((c) => c.getBoundingClientRect()).filter((b) => b.width > 1);
      // A second row: an item that starts below where another ends.
      if (Math.max(...boxes.map((b) => b.top)) >= Math.min(...boxes.map((b) => b.bottom)) - 1) bad.push(`${bar.getAttribute("aria-label")} wraps onto a second row`);
    }
    return bad;
  });
}

/** Why a dialog does not fit the window: the dialog itself past an edge, or a button
 * outside any scrolling part of it (its actions) out of sight. */
async function dialogMisfits(dialog) {
  return dialog.evaluate((d) => {
    const bad = [];
    const r = d.getBoundingClientRect();
    if (r.top < -1 || r.left < -1 || r.bottom > innerHeight + 1 || r.right > innerWidth + 1) bad.push(`the dialog spans ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
    const scrolls = (el) => { for (let p = el.parentElement; p && p !== d.parentElement; p = p.parentElement) { const o = getComputedStyle(p).overflowY; if ((o === "auto" || o === "scroll") && p.scrollHeight > p.clientHeight + 1) return true; } return false; };
    for (const b of d.querySelectorAll("button")) {
      const br = b.getBoundingClientRect();
      if (br.width <= 1 || getComputedStyle(b).visibility === "hidden" || scrolls(b)) continue;
      if (br.bottom > innerHeight + 1 || br.right > innerWidth + 1) bad.push(`“${b.textContent.trim() || b.getAttribute("aria-label")}” out of sight`);
    }
    return bad;
  });
}

test("folder menu: Mark all read (off when nothing is unread) and Properties", async () => {
  const page = await open("one-account");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: /^News/ }).click();
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option", { name: /Unread: Weekly News/ }).waitFor();
  await (await treeMenu(page, "News", "Mark all read")).click();
  await page.getByText("Every message in News is marked read").waitFor();
  await list.getByRole("option", { name: /^Weekly News/ }).waitFor();
  assert.equal(await list.getByRole("option", { name: /Unread:/ }).count(), 0, "the open list shows it");
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "mark_all_read").map((c) => c.args));
  assert.deepEqual(calls, [{ account: "work-1", folder: "News" }]);
  // Nothing unread now: the item is there, and off.
  await tree.getByRole("treeitem", { name: /^News/ }).click({ button: "right" });
  const menu = page.getByRole("menu", { name: "News actions" });
  assert.equal(await menu.getByRole("menuitem", { name: "Mark all read" }).isDisabled(), true);
  await menu.getByRole("menuitem", { name: "Properties…" }).click();
  const props = page.getByRole("dialog", { name: "Properties of News" });
  assert.match(await props.innerText(), /Messages\s*1\s*Unread\s*0/);
  assert.match(await props.innerText(), /On the server/);
  await props.getByRole("button", { name: "Close" }).click();
  await props.waitFor({ state: "detached" });
  await page.close();
});

test("every dialog fits the smallest window, or scrolls its own body with its buttons in sight", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  await page.addInitScript(installFakeBackend, "one-account");
  await page.goto(base);
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().click();
  await page.getByRole("article", { name: "Message" }).getByRole("heading").first().waitFor();
  const problems = [];
  const check = async (name, open) => {
    await open();
    const dialog = page.getByRole("dialog", { name }).or(page.getByRole("alertdialog", { name })).first();
    await dialog.waitFor();
    for (const p of await dialogMisfits(dialog)) problems.push(`${name}: ${p}`);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
  };
  await check("New message", () => page.getByRole("button", { name: "Write" }).click());
  await check("Add account", () => page.getByRole("button", { name: "Add account" }).click());
  await check("Import mail", () => page.getByRole("button", { name: "Import…" }).click());
  await check("Preferences", () => page.getByRole("button", { name: "Preferences" }).click());
  await check("Keyboard shortcuts", () => page.getByRole("button", { name: "Keyboard shortcuts" }).click());
  await check("Account options", async () => (await treeMenu(page, "Work", "Account options…")).click());
  await check(/^Source of /, () => page.keyboard.press("Control+u"));
  assert.deepEqual(problems, [], problems.join("\n"));
  await page.close();
});

test("panes: the separators resize by mouse and keyboard and are remembered; at the smallest window nothing overflows, light and dark", async () => {
  for (const scheme of ["light", "dark"]) {
    const page = await browser.newPage({ colorScheme: scheme, viewport: { width: 1000, height: 640 } });
    await page.addInitScript(installFakeBackend, "one-account");
    await page.goto(base);
    const list = page.getByRole("listbox", { name: "Messages" });
    await list.getByRole("option").first().click();
    await page.getByRole("article", { name: "Message" }).getByRole("heading").first().waitFor();
    assert.deepEqual(await overflowAt(page), [], `${scheme}: nothing overflows or wraps at 1000 × 640`);
    await page.screenshot({ path: join(artifacts, `min-size-${scheme}.png`) });
    await page.close();
  }

  const page = await open("one-account");
  const tree = page.getByRole("navigation", { name: "Accounts and folders" });
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  const width = () => tree.evaluate((e) => Math.round(e.getBoundingClientRect().width));
  const before = await width();
  // Mouse: drag the folder pane's edge 60 px to the right.
  const sep = page.getByRole("separator", { name: "Resize the folder pane" });
  const box = await sep.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + 200, { steps: 5 });
  await page.mouse.up();
  assert.equal(await width(), before + 60, "dragged 60 px wider");
  // Keyboard: ← on the list's separator narrows the list by 16 px; its value says how wide.
  const listSep = page.getByRole("separator", { name: "Resize the message list" });
  const listWidth = Number(await listSep.getAttribute("aria-valuenow"));
  await listSep.focus();
  await page.keyboard.press("ArrowLeft");
  assert.equal(Number(await listSep.getAttribute("aria-valuenow")), listWidth - 16);
  await page.reload();
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  assert.equal(await width(), before + 60, "the folder pane's width is remembered");
  assert.equal(Number(await page.getByRole("separator", { name: "Resize the message list" }).getAttribute("aria-valuenow")), listWidth - 16, "and the list's");
  await page.close();
});

test("context menus: a message's by right click and by the Menu key, with one or several selected", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const bob = list.getByRole("option", { name: /Build is green/ });
  await bob.click({ button: "right" });
  const menu = page.getByRole("menu", { name: "Message actions menu" });
  await menu.waitFor();
  assert.equal(await bob.getAttribute("aria-selected"), "true", "a right click selects the row under it");
  for (const item of ["Reply", "Reply all", "Forward", "Forward as attachment", "Remove flag", "Archive", "Delete"]) await menu.getByRole("menuitem", { name: item, exact: true }).waitFor();
  await page.screenshot({ path: join(artifacts, "context-menu-message.png") });
  await menu.getByRole("menuitem", { name: "Remove flag" }).click();
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "set_flags"));
  assert.equal(await menu.count(), 0, "a choice closes the menu");

  // Several selected: the menu acts on all of them; opened from the keyboard.
  await list.getByRole("option").first().click();
  await list.getByRole("option").nth(1).click({ modifiers: ["Shift"] });
  await page.keyboard.press("ContextMenu");
  await menu.waitFor();
  assert.equal(await menu.getByRole("menuitem", { name: "Reply", exact: true }).count(), 0, "no reply to two messages");
  assert.equal(await menu.getByRole("menuitem", { name: "Archive 2 messages" }).evaluate((e) => e === document.activeElement), true, "the first item has the focus");
  await page.keyboard.press("Escape");
  await menu.waitFor({ state: "detached" });
  assert.equal(await list.evaluate((e) => e.contains(document.activeElement)), true, "Escape gives the focus back to where it was, in the list");
  await page.close();
});

test("accessibility: axe-core finds nothing serious or critical in any view, light or dark", async () => {
  for (const scheme of ["light", "dark"]) {
    const page = await open("one-account", scheme);
    const list = page.getByRole("listbox", { name: "Messages" });
    await list.getByRole("option").first().click();
    await page.getByRole("article", { name: "Message" }).getByRole("heading").first().waitFor();
    const views = [["the three panes with a message open", async () => {}]];
    views.push(["a message's context menu", async () => {
      await list.getByRole("option").first().click({ button: "right" });
      await page.getByRole("menu").waitFor();
    }]);
    views.push(["the message source", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("menu").waitFor({ state: "detached" });
      await page.keyboard.press("Control+u");
      await page.getByRole("dialog", { name: /^Source of / }).waitFor();
    }]);
    views.push(["the composer", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("dialog", { name: /^Source of / }).waitFor({ state: "detached" });
      await page.getByRole("button", { name: "Write" }).click();
      await page.getByRole("dialog", { name: "New message" }).waitFor();
    }]);
    views.push(["the setup wizard", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("dialog", { name: "New message" }).waitFor({ state: "detached" });
      await page.getByRole("button", { name: "Add account" }).click();
      await page.getByRole("dialog", { name: "Add account" }).waitFor();
    }]);
    views.push(["import", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Import…" }).click();
      await page.getByRole("dialog", { name: "Import mail" }).getByRole("button", { name: "Read profile" }).click();
      await page.getByRole("list", { name: "Accounts in the profile" }).waitFor();
    }]);
    views.push(["preferences", async () => {
      await page.getByRole("dialog", { name: "Import mail" }).getByRole("button", { name: "Close" }).click();
      await page.getByRole("button", { name: "Preferences" }).click();
      await page.getByRole("dialog").first().waitFor();
    }]);
    views.push(["account options", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("dialog").waitFor({ state: "detached" });
      await (await treeMenu(page, "Work", "Account options…")).click();
      await page.getByRole("dialog", { name: "Account options" }).waitFor();
    }]);
    views.push(["search results", async () => {
      await page.keyboard.press("Escape");
      await page.getByRole("dialog").waitFor({ state: "detached" });
      await page.getByRole("combobox", { name: "Search all mail" }).fill("lunch");
      await page.keyboard.press("Enter");
      await page.getByRole("group", { name: "Search results" }).waitFor();
    }]);
    const problems = [];
    for (const [i, [name, show]] of views.entries()) {
      await show();
      for (const p of await accessibilityProblems(page)) problems.push(`${scheme}, ${name}: ${p}`);
      // For review: every view in both themes (artifacts/ui/, not kept in git).
      await page.screenshot({ path: join(artifacts, `view-${String(i + 1).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-")}-${scheme}.png`) });
    }
    assert.deepEqual(problems, [], problems.join("\n"));
    await page.close();
  }
});

test("preferences: the list above the message, and compact rows; remembered", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().waitFor();
  const rowHeight = () => list.getByRole("option").first().evaluate((e) => Math.round(e.getBoundingClientRect().height));
  assert.equal(await rowHeight(), 52);
  await page.getByRole("button", { name: "Preferences" }).click();
  const dialog = page.getByRole("dialog", { name: "Preferences" });
  await dialog.getByLabel("The list above the message").check();
  await dialog.getByLabel("Compact (more messages on the screen)").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  const place = async () => {
    const l = await page.getByRole("region", { name: "Message list" }).boundingBox();
    const r = await page.getByRole("article", { name: "Message" }).boundingBox();
    return { listAbove: l.y + l.height <= r.y + 1, sameColumn: Math.abs(l.x - r.x) < 2 };
  };
  // Saving answers over IPC, then the layout changes: read it once it has landed.
  assert.deepEqual(await settled(place, { listAbove: true, sameColumn: true }), { listAbove: true, sameColumn: true });
  assert.equal(await settled(rowHeight, 42), 42);
  assert.equal(await list.getByRole("option").first().evaluate((e) => e.scrollHeight <= e.clientHeight + 1), true, "a compact row still shows its two lines whole");
  assert.equal(await page.getByRole("separator", { name: "Resize the message list" }).count(), 0, "no list-width separator when stacked");
  await page.screenshot({ path: join(artifacts, "stacked-compact.png") });
  await page.reload();
  await list.getByRole("option").first().waitFor();
  assert.deepEqual(await settled(place, { listAbove: true, sameColumn: true }), { listAbove: true, sameColumn: true }, "remembered");
  assert.equal(await settled(rowHeight, 42), 42);
  await page.close();
});

test("an unread row shows a dot and says 'Unread' to a screen reader; a read one does not", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  const lunch = list.getByRole("option", { name: /Lunch on Friday/ });
  await lunch.waitFor();
  assert.match(await lunch.evaluate((e) => e.textContent), /^\s*Unread: /, "unread named");
  assert.equal(await lunch.locator(".unread-dot").count(), 1);
  const bob = list.getByRole("option", { name: /Build is green/ });
  assert.doesNotMatch(await bob.evaluate((e) => e.textContent), /Unread/);
  await page.close();
});

test("an empty folder says what it is for", async () => {
  const page = await open("one-account");
  const tree = page.getByRole("tree", { name: "Folders" });
  await tree.getByRole("treeitem", { name: "Trash", exact: true }).click();
  await page.getByText("The Trash is empty. Deleted messages wait here until you delete them for good.").waitFor();
  await tree.getByRole("treeitem", { name: "Archive", exact: true }).click();
  await page.getByText("Nothing archived yet.", { exact: false }).waitFor();
  assert.equal(await page.getByText("New mail appears here by itself").count(), 0, "no promise of new mail in the Archive");
  await page.close();
});

test("a queued message sent in the background: the status bar says so instead of still 'saved in the outbox'", async () => {
  const page = await open("one-account");
  await page.evaluate(() => { window.__fake.offline = true; });
  await page.getByRole("toolbar", { name: "Mail actions" }).getByRole("button", { name: "Write" }).click();
  const composer = page.getByRole("dialog", { name: "New message" });
  await composer.getByRole("combobox", { name: "To" }).fill("bob@example.org");
  await composer.getByLabel("Subject").fill("Later");
  await composer.getByRole("button", { name: "Send" }).click();
  await page.getByText("Saved in the outbox").waitFor();
  // The outbox's retry delivered it: the count falls to 0.
  await page.evaluate(() => window.__emit("outbox-changed", { account: "work-1", queued: 0, retry_in_seconds: null }));
  await page.getByText("The message waiting in the outbox was sent").waitFor();
  assert.equal(await page.getByText("Saved in the outbox").count(), 0);
  await page.close();
});

test("reader: plain text in a proportional font; a long quote folds away and opens on request", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().waitFor();
  const quote = ["> On Monday Ana wrote:", "> Shall we meet", "> by the harbour", "> at nine,", "> or later?", "> Ana"].join("\n");
  await page.evaluate((text) => {
    window.__deliver("work-1", "INBOX", { uid: 90, from: "Bo", subject: "Re: Harbour", date: Math.floor(Date.now() / 1000), seen: false, flagged: false, size: 400, text });
    window.__emit("folder-changed", { account: "work-1", folder: "INBOX", total: 4, unread: 2, added: 1, removed: 0, arrived: [] });
  }, `Nine is fine.\n\n${quote}\n\nBo`);
  await list.getByRole("option", { name: /Re: Harbour/ }).click();
  const reader = page.getByRole("article", { name: "Message" });
  await reader.getByText("Nine is fine.").waitFor();
  const family = await reader.getByText("Nine is fine.").evaluate((e) => getComputedStyle(e).fontFamily);
  assert.doesNotMatch(family, /mono/i, `a proportional font: ${family}`);
  const folded = reader.getByText("Show quoted text (6 lines)");
  await folded.waitFor();
  assert.equal(await reader.getByText("by the harbour", { exact: false }).isVisible(), false, "folded");
  await folded.click();
  await reader.getByText("by the harbour", { exact: false }).waitFor();
  await page.close();
});

test("first run: the setup wizard opens by itself", async () => {
  const page = await open("empty");
  await page.getByRole("dialog", { name: "Add account" }).waitFor();
  await page.close();
});

test("quick filter and sort are asked of the backend and reset per folder", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").nth(2).waitFor();
  const filter = page.getByRole("search", { name: "Quick filter" });
  await filter.getByLabel("Filter messages").click();
  await page.keyboard.type("lunch");
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 1);
  await filter.getByRole("button", { name: "Unread" }).click();
  assert.equal(await filter.getByRole("button", { name: "Unread" }).getAttribute("aria-pressed"), "true");
  await list.getByRole("option", { name: /Lunch on Friday/ }).waitFor();
  await filter.getByLabel("Filter messages").fill("");
  await filter.getByRole("button", { name: "Unread" }).click();
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 3);
  await filter.getByLabel("Sort by").selectOption("sender-asc");
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('[role="listbox"] [role="option"]');
    return rows.length === 3 && rows[0].textContent.includes("Ana Lima");
  });
  const order = await list.getByRole("option").allInnerTexts();
  assert.match(order[0], /Ana Lima/);
  assert.match(order[2], /news@example\.org/);
  const last = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "list_envelopes").at(-1).args.query);
  assert.deepEqual(last, { sort: "sender", ascending: true, text: "", unread_only: false, flagged_only: false, attachments_only: false });
  // Only mail with files: Bob's build report.
  await filter.getByRole("button", { name: "Files" }).click();
  await page.waitForFunction(() => document.querySelectorAll('[role="listbox"] [role="option"]').length === 1);
  await list.getByRole("option", { name: /Build is green/ }).waitFor();
  // A filter that matches nothing says so and how to undo it.
  await filter.getByLabel("Filter messages").fill("no such words");
  await page.getByText("No messages match the filter").waitFor();
  await page.close();
});

test("? lists the keyboard shortcuts; Escape closes the list", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await page.keyboard.press("?");
  const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await dialog.waitFor();
  for (const what of ["Mark as read / unread", "Archive", "Search all mail (Escape goes back to the folder, or from a result's conversation to the results)", "Get mail"]) await dialog.getByText(what, { exact: true }).waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
  await dialog.waitFor();
  await page.close();
});

test("preferences: keep running in the tray, start at login (hidden) — saved by the backend; the tray's Get mail and a notification's click are heard", async () => {
  const page = await open("one-account");
  await page.getByRole("listbox", { name: "Messages" }).getByRole("option").first().waitFor();
  await page.getByRole("button", { name: "Preferences" }).click();
  const dialog = page.getByRole("dialog", { name: "Preferences" });
  const group = dialog.getByRole("group", { name: "On this computer" });
  const hidden = group.getByLabel("…in the tray, without the window");
  assert.equal(await hidden.isDisabled(), true, "start hidden needs start at login");
  await group.getByLabel("Keep running in the tray when the window is closed").check();
  await group.getByLabel("Start Petrel when I log in").check();
  await hidden.check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const saved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_desktop_options").map((c) => c.args.options));
  assert.deepEqual(saved, [{ keep_running_in_tray: true, start_at_login: true, start_hidden: true }]);
  // Opened again: what the backend keeps.
  await page.getByRole("button", { name: "Preferences" }).click();
  assert.equal(await dialog.getByRole("group", { name: "On this computer" }).getByLabel("Start Petrel when I log in").isChecked(), true);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // The tray menu's Get mail reaches the window as an event.
  const before = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "refresh_folder").length);
  await page.evaluate(() => window.__emit("get-mail"));
  await page.waitForFunction((n) => window.__calls.filter((c) => c.cmd === "refresh_folder").length > n, before);

  // A click on a new-mail notification: that message, in its folder, selected and open.
  await page.getByRole("tree").getByRole("treeitem", { name: /^Archive/ }).first().click();
  await page.evaluate(() => window.__emit("open-message", { account: "work-1", folder: "INBOX", uid: 2 }));
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.locator('[role="option"][aria-selected="true"]').filter({ hasText: "Build is green" }).waitFor();
  await page.getByRole("heading", { name: "Build is green" }).waitFor();
  await page.close();
});

test("preferences: mark as read after a delay, or only by hand", async () => {
  const page = await open("one-account");
  const list = page.getByRole("listbox", { name: "Messages" });
  await list.getByRole("option").first().waitFor();
  await page.getByRole("button", { name: "Preferences" }).click();
  const dialog = page.getByRole("dialog", { name: "Preferences" });
  await dialog.getByLabel("Mark messages as read").selectOption("after-delay");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });

  const t0 = Date.now();
  await list.getByRole("option", { name: /Lunch on Friday/ }).click();
  await page.getByRole("article", { name: "Message" }).getByText("Shall we try").waitFor();
  const opened = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "read_message").at(-1).args.markRead);
  assert.equal(opened, false, "opening alone does not mark it read");
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "set_flags" && c.args.seen === true), null, { timeout: 10_000 });
  assert.ok(Date.now() - t0 >= 2_900, "marked read after the delay, not before");

  // "Only when I say so": nothing is marked after opening.
  await page.getByRole("button", { name: "Preferences" }).click();
  await dialog.getByLabel("Mark messages as read").selectOption("manually");
  await dialog.getByRole("button", { name: "Save" }).click();
  const before = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_flags").length);
  await list.getByRole("option", { name: /Digest/ }).click();
  await page.waitForTimeout(3_500);
  assert.equal(await page.evaluate(() => window.__calls.filter((c) => c.cmd === "set_flags").length), before);
  await page.close();
});

test("follows the OS light/dark setting", async () => {
  const bg = async (scheme) => {
    const page = await open("one-account", scheme);
    await page.getByRole("tree", { name: "Folders" }).getByRole("treeitem", { name: "INBOX", exact: true }).waitFor();
    if (scheme === "dark") await page.screenshot({ path: join(artifacts, "dark-mode.png") });
    const color = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.close();
    return color.match(/\d+/g).slice(0, 3).map(Number);
  };
  const light = await bg("light");
  const dark = await bg("dark");
  const luminance = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
  assert.ok(luminance(light) > 200, `light background ${light}`);
  assert.ok(luminance(dark) < 60, `dark background ${dark}`);
});
