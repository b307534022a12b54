// Real-window E2E: a POP3 account added through the form against the harness's Dovecot
// (POP3S): the mail is downloaded and listed, one message is deleted here (to the Trash,
// then for good) and — with "leave 14 days, also delete when deleted here" — its server copy
// goes on the next check (Get mail), checked with doveadm (not through Petrel). Then mail from an older
// program comes in: an mbox file imported through the Import dialog into a new local folder.
// New mail is announced by a desktop notification to a real notification server (dunst, on
// the test's session bus), and a click on it (dunstctl action) shows that message.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { spawn, execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, HARNESS, startDriver, startHarness, targetDir, doveadm as runDoveadm } from "./setup.mjs";
import { WebDriver, by, sleep, openWizard } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;

let harness, info, driver, configDir, logDir, cacheDir, importDir, alice, dunst, monitor;
let notifyCalls = "";

const doveadm = (args, input) => runDoveadm(info, args, input);

const onServer = () => Number(/messages=(\d+)/.exec(doveadm(["mailbox", "status", "-u", alice.login, "messages", "INBOX"]))?.[1]);

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  importDir = await mkdtemp(join(tmpdir(), "petrel-e2e-import-"));
  // As Thunderbird writes mbox: "From -" lines, ">From " quoting, read status.
  await writeFile(
    join(importDir, "old.mbox"),
    "From - Tue Mar  5 09:00:00 2019\nX-Mozilla-Status: 0001\nFrom: Ferry Office <ferry@example.test>\nSubject: Ferry timetable 2019\nDate: Tue, 05 Mar 2019 09:00:00 +0000\n\n>From March on, boats leave at nine.\n\n" +
      "From - Wed Mar  6 09:00:00 2019\nFrom: Ferry Office <ferry@example.test>\nSubject: Ferry strike notice\nDate: Wed, 06 Mar 2019 09:00:00 +0000\n\nNo boats on Friday.\n\n",
  );
  ({ harness, info } = await startHarness());
  alice = info.users.find((u) => u.login.startsWith("alice@"));
  for (const [n, subject] of [[1, "Tide tables for Sunday"], [2, "Old newsletter to delete"]]) {
    doveadm(["save", "-u", alice.login, "-m", "INBOX"], `From: Harbour <harbour${n}@example.test>\r\nSubject: ${subject}\r\nMessage-ID: <e2e-pop3-${n}@example.test>\r\nDate: Mon, 23 Nov 2026 0${n}:00:00 +0000\r\n\r\nMessage ${n}.${n === 1 ? " Meet at the lighthouse at noon." : ""}\r\n`);
  }
  // The notification server, and a listener on what the app asks of it.
  dunst = spawn("dunst", [], { stdio: "ignore" });
  monitor = spawn("dbus-monitor", ["--session", "interface='org.freedesktop.Notifications',member='Notify'"]);
  monitor.stdout.on("data", (chunk) => (notifyCalls += chunk));
  await sleep(500);
  driver = await startDriver(DRIVER_PORT, { PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, PETREL_CHECK_SECONDS: "3600" });
});

after(async () => {
  driver?.kill("SIGTERM");
  harness?.kill("SIGTERM");
  monitor?.kill("SIGTERM");
  dunst?.kill("SIGTERM");
  await sleep(300);
  for (const dir of [configDir, logDir, cacheDir, importDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

test("add a POP3 account: mail is downloaded and listed; deleting it here removes the server copy per the policy", async () => {
  // The harness's own demo mail is there too: count from what the server has now.
  const total = onServer();
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await openWizard(wd, true);
    await wd.click(await wd.waitFor(by.button("Set up manually"), "the wizard's manual way"));
    await wd.waitFor(by.role("dialog"), "the Add account dialog");
    await wd.type(await wd.waitFor(by.field("Display name")), "Alice at home");
    await wd.type(await wd.waitFor(by.field("Email address")), alice.login);
    await wd.click(await wd.waitFor("//label[contains(normalize-space(.), 'POP3 —')]//input", "the POP3 choice"));
    await wd.type(await wd.waitFor(by.field("POP3 server")), "127.0.0.1");
    const port = await wd.waitFor(by.field("Port"));
    assert.equal(await wd.attribute(port, "value"), "995", "POP3 over TLS defaults to port 995");
    await wd.clear(port);
    await wd.type(port, String(info.ports.pop3s));
    await wd.type(await wd.waitFor(by.field("Password")), alice.password);
    await wd.waitFor(by.field("Keep a copy on the server"), "the leave-on-server policy");
    await wd.click(await wd.waitFor(by.button("Connect")));
    // The harness's certificate comes from its own CA: trust it after seeing it.
    await wd.click(await wd.waitFor(by.button("Trust this certificate"), "the certificate question", 30_000));

    const list = "//*[@role='listbox' and @aria-label='Messages']";
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Tide tables for Sunday')]`, "the downloaded mail", 30_000);
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Old newsletter to delete')]`, "the second message");
    assert.equal(onServer(), total, "left on the server (14 days)");
    await wd.screenshot(join(ARTIFACTS, "30-pop3-downloaded.png"));

    // Delete here: to the Trash, then for good from the Trash.
    await wd.click(await wd.waitFor(`${list}//*[@role='option'][contains(., 'Old newsletter to delete')]`));
    await wd.waitFor("//article[@aria-label='Message'][contains(., 'Message 2.')]", "the message in the reader");
    await wd.click(await wd.waitFor(`//article[@aria-label='Message']//button[normalize-space(.)='Delete']`));
    await wd.click(await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='Trash']", "Trash"));
    await wd.click(await wd.waitFor(`${list}//*[@role='option'][contains(., 'Old newsletter to delete')]`, "the message in the Trash"));
    await wd.waitFor("//article[@aria-label='Message'][contains(., 'Message 2.')]");
    await wd.click(await wd.waitFor(`//article[@aria-label='Message']//button[normalize-space(.)='Delete permanently']`, "Delete permanently (in the Trash)"));
    // One click in a POP3 Trash must not erase the only copy: it asks first (review H4).
    const ask = "//*[@role='alertdialog' and @aria-label='Delete permanently']";
    await wd.waitFor(ask, "the question before deleting for good");
    await wd.screenshot(join(ARTIFACTS, "30b-pop3-delete-permanently.png"));
    await wd.click(await wd.waitFor(`${ask}//button[normalize-space(.)='Delete permanently']`));
    await wd.waitFor(`${list}[not(.//*[@role='option'][contains(., 'Old newsletter to delete')])]`, "the Trash without it");
    assert.equal(onServer(), total, "nothing leaves the server until the next check");

    // "Get mail" checks now: the server copy of the deleted message goes, the other stays.
    await wd.click(await wd.waitFor(by.button("Get mail")));
    const deadline = Date.now() + 20_000;
    while (onServer() !== total - 1 && Date.now() < deadline) await sleep(300);
    assert.equal(onServer(), total - 1, "deleted here → deleted on the server");
    const left = doveadm(["fetch", "-u", alice.login, "hdr.subject", "mailbox", "INBOX", "all"]);
    assert.match(left, /Tide tables for Sunday/);
    assert.doesNotMatch(left, /Old newsletter to delete/);
    await wd.click(await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='INBOX']", "INBOX"));
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Tide tables for Sunday')]`);
    await wd.screenshot(join(ARTIFACTS, "31-pop3-after-delete.png"));

    // An mbox from an older program, imported into a new local folder.
    await wd.click(await wd.waitFor(by.button("Import…"), "the Import button"));
    const dialog = "//*[@role='dialog' and @aria-labelledby='import-title']";
    await wd.click(await wd.waitFor(`${dialog}//*[@role='tab'][normalize-space(.)='Mail files']`, "the Mail files tab"));
    await wd.type(await wd.waitFor(`${dialog}//label[starts-with(normalize-space(.), 'File')]//textarea`, "the file field"), join(importDir, "old.mbox"));
    const folderField = await wd.waitFor(`${dialog}//label[starts-with(normalize-space(.), 'Folder')]//input`, "the folder field");
    await wd.clear(folderField);
    await wd.type(folderField, "Old mail");
    await wd.click(await wd.waitFor(`${dialog}//form//button[normalize-space(.)='Import']`));
    await wd.waitFor(`${dialog}//*[@role='status'][contains(., 'Imported 2 messages into Old mail.')]`, "the import's report", 30_000);
    await wd.screenshot(join(ARTIFACTS, "33-pop3-import.png"));
    await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Close']`));
    await wd.click(await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and starts-with(@aria-label, 'Old mail')]", "the imported folder in the tree", 20_000));
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Ferry strike notice')]`, "an imported message");
    await wd.click(await wd.waitFor(`${list}//*[@role='option'][contains(., 'Ferry timetable 2019')]`, "the other one"));
    await wd.waitFor("//article[@aria-label='Message'][contains(., 'From March on, boats leave at nine.')]", "its body, the >From quoting taken off");
    await wd.click(await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='INBOX']", "INBOX"));

    // New mail found by "Get mail" (the tray's too, with the window hidden): a notification
    // names its sender and subject; a click on it opens it. (Background checks are off in
    // this test, so only Get mail can have found it.)
    doveadm(["save", "-u", alice.login, "-m", "INBOX"], "From: Island Ferries <ferries@example.test>\r\nSubject: Boat to the island\r\nMessage-ID: <e2e-pop3-notify@example.test>\r\nDate: Mon, 23 Nov 2026 05:00:00 +0000\r\n\r\nThe boat leaves from pier 3.\r\n");
    await wd.click(await wd.waitFor(by.button("Get mail")));
    const told = Date.now() + 30_000;
    while (!notifyCalls.includes("Boat to the island") && Date.now() < told) await sleep(200);
    assert.match(notifyCalls, /member=Notify[\s\S]*Island Ferries[\s\S]*Boat to the island/, "the notification names the sender and the subject");
    assert.equal(notifyCalls.match(/member=Notify/g)?.length, 1, `the account's first download (its mail as it was) announced nothing: ${notifyCalls}`);
    await wd.click(await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='Trash']", "another folder first"));
    // Clicked once dunst shows it (the call above can be ahead of the display).
    const shown = Date.now() + 10_000;
    while (execFileSync("dunstctl", ["count", "displayed"]).toString().trim() === "0" && Date.now() < shown) await sleep(100);
    execFileSync("dunstctl", ["action", "0"]);
    await wd.waitFor("//article[@aria-label='Message'][contains(., 'The boat leaves from pier 3.')]", "the notified message in the reader after the click", 20_000);
    await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='INBOX' and @aria-selected='true']", "its folder selected");
    await wd.screenshot(join(ARTIFACTS, "34-pop3-notification-click.png"));

    // Search finds it by a word of its body (downloaded: indexed on this computer).
    await wd.type(await wd.waitFor("//input[@aria-label='Search all mail']", "the search box"), "lighthouse\uE007");
    await wd.waitFor("//*[@role='group' and @aria-label='Search results']", "the search results", 30_000);
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Tide tables for Sunday')][.//mark[normalize-space(.)='lighthouse']]`, "the message found by a body word, the word marked", 30_000);
    await wd.screenshot(join(ARTIFACTS, "32-pop3-search.png"));
  } finally {
    await wd.quit();
  }
});
