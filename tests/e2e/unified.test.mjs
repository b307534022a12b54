// Real-window E2E: two accounts side by side (alice and bob on the harness). All Inboxes
// shows both, marked by account; a message with an attachment is read and the attachment
// saved to Downloads; a message is moved by dragging it onto a folder (checked by doveadm).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ARTIFACTS, HARNESS, startDriver, startHarness, targetDir, doveadm as runDoveadm } from "./setup.mjs";
import { WebDriver, sleep } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;

let harness, info, driver, home, configDir, logDir, cacheDir;

const doveadm = (args, input) => runDoveadm(info, args, input);

const login = (name) => info.users.find((u) => u.login.startsWith(`${name}@`)).login;

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  home = await mkdtemp(join(tmpdir(), "petrel-e2e-home-"));
  // Downloads where a desktop has it (XDG user dirs).
  await mkdir(join(home, ".config"), { recursive: true });
  await writeFile(join(home, ".config", "user-dirs.dirs"), `XDG_DOWNLOAD_DIR="${join(home, "Downloads")}"\n`);
  await mkdir(join(home, "Downloads"));
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info } = await startHarness());
  const raw = [
    "From: Carol <carol@example.test>", `To: ${login("bob")}`, "Subject: Minutes with notes attached",
    "Date: Mon, 23 Nov 2026 09:00:00 +0000", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b", "",
    "--b", "Content-Type: text/plain", "", "The minutes are attached.", "--b",
    'Content-Type: text/plain; name="notes.txt"', 'Content-Disposition: attachment; filename="notes.txt"', "", "Bring the charts.", "--b--", "",
  ].join("\r\n");
  doveadm(["save", "-u", login("bob"), "-m", "INBOX"], raw);
  for (const user of ["alice", "bob"]) {
    const made = spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir, "--user", user], { input: JSON.stringify(info) + "\n" });
    assert.equal(made.status, 0, `demo-account ${user}: ${made.stderr}`);
  }
  driver = await startDriver(DRIVER_PORT, {
    HOME: home, XDG_CONFIG_HOME: join(home, ".config"), PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir,
  });
});

after(async () => {
  driver?.kill("SIGTERM");
  for (const user of ["alice", "bob"]) spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir ?? "/nonexistent", "--user", user, "--remove"]);
  harness?.kill("SIGTERM");
  await sleep(300);
  for (const dir of [home, configDir, logDir, cacheDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const list = "//*[@role='listbox' and @aria-label='Messages']";
const option = (text) => `${list}//*[@role='option'][contains(., ${JSON.stringify(text)})]`;
const treeitem = (name) => `//*[@role='tree']//*[@role='treeitem' and @aria-label=${JSON.stringify(name)}]`;

test("All Inboxes shows both accounts; an attachment is saved; a message is moved by dragging it onto a folder", async () => {
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await wd.waitFor(treeitem("Bob (demo)"), "the second account in the tree");
    await wd.click(await wd.waitFor(`${treeitem("All Inboxes")}//*[contains(@class, 'row')]`, "All Inboxes"));
    await wd.waitFor(option("Minutes with notes attached"), "bob's message in All Inboxes");
    await wd.waitFor(option("Welcome to Petrel"), "alice's message in All Inboxes");
    await wd.waitFor(`${option("Minutes with notes attached")}//*[@title='Bob (demo)']`, "the row's account mark");
    await wd.waitFor(`${option("Welcome to Petrel")}//*[@title='Alice (demo)']`, "the other account's mark");
    await wd.screenshot(join(ARTIFACTS, "20-all-inboxes.png"));

    await wd.click(await wd.waitFor(option("Minutes with notes attached")));
    await wd.waitFor("//article[@aria-label='Message'][contains(., 'The minutes are attached.')]", "the message text");
    await wd.click(await wd.waitFor("//ul[@aria-label='Attachments']//button[@aria-label='Save notes.txt']", "the attachment's Save button"));
    await wd.waitFor(`//*[@role='status'][contains(., 'Saved to')]`, "where the file went");
    const saved = await readFile(join(home, "Downloads", "notes.txt"), "utf8");
    assert.match(saved, /Bring the charts\./);

    // Drag alice's "Welcome to Petrel" onto her Archive folder. WebKitWebDriver has no HTML5
    // drag-and-drop, so the page's own drag events are dispatched in the window.
    await wd.click(await wd.waitFor(`(${treeitem("INBOX")})[1]//*[contains(@class, 'label')]`, "alice's INBOX"));
    await wd.waitFor(option("Welcome to Petrel"));
    const moved = await wd.execute(`
      const row = [...document.querySelectorAll('[role="option"]')].find((r) => r.textContent.includes("Welcome to Petrel"));
      const target = [...document.querySelectorAll('[role="treeitem"][aria-label="Archive"] .row')][0];
      if (!row || !target) return "missing";
      const data = new DataTransfer();
      row.dispatchEvent(new DragEvent("dragstart", { bubbles: true, dataTransfer: data }));
      target.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: data }));
      target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data }));
      return "dropped";
    `);
    assert.equal(moved, "dropped");
    const deadline = Date.now() + 15_000;
    let archived = "";
    while (Date.now() < deadline && !archived.includes("Welcome to Petrel")) {
      archived = doveadm(["fetch", "-u", login("alice"), "hdr.subject", "mailbox", "Archive", "ALL"]);
      await sleep(300);
    }
    assert.match(archived, /Welcome to Petrel/, "the server has it in Archive");
    assert.doesNotMatch(doveadm(["fetch", "-u", login("alice"), "hdr.subject", "mailbox", "INBOX", "ALL"]), /Welcome to Petrel/);
    await wd.screenshot(join(ARTIFACTS, "21-moved-by-drag.png"));

    // One Petrel per config dir (review M2): a second launch hands its mailto: link to this
    // window and exits; the composer opens with what the link may set (no attach=).
    const second = spawn(APP, ["mailto:carol@example.test?subject=Second%20launch&attach=/etc/passwd"], {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir },
      stdio: "ignore",
    });
    const exitCode = await Promise.race([
      new Promise((resolve) => second.on("exit", (code) => resolve(code))),
      sleep(20_000).then(() => "still running"),
    ]);
    if (exitCode === "still running") second.kill("SIGKILL");
    assert.equal(exitCode, 0, "the second launch hands over and exits");
    const composer = "//*[@role='dialog' and @aria-label='New message']";
    await wd.waitFor(composer, "the composer opened by the handed-over mailto: link");
    // What the fields hold: typed text, and the recipients as chips (their addresses in their titles).
    const fields = await wd.execute(`return [...document.querySelectorAll('[role="dialog"] input')].map((i) => i.value).concat([...document.querySelectorAll('[role="dialog"] .chip')].map((c) => c.title)).join("|")`);
    assert.match(fields, /Second launch/);
    assert.match(fields, /carol@example\.test/);
    assert.doesNotMatch(fields, /passwd/);
    await wd.screenshot(join(ARTIFACTS, "22-second-launch-mailto.png"));
    await wd.click(await wd.waitFor(`${composer}//button[normalize-space(.)='Discard']`, "the composer's Discard"));
    await sleep(500);

    // A message file (as a file manager passes it: a file:// URI, relative names work too)
    // opens in a reader of its own, with the same rules for remote content.
    const eml = join(home, "Harbour plans.eml");
    await writeFile(eml, "From: Ana Lima <ana@example.test>\r\nTo: alice@example.test\r\nSubject: Harbour plans\r\n" +
      "Message-ID: <plans@example.test>\r\nContent-Type: text/html\r\n\r\n<p>Lunch by the <b>harbour</b> at one.</p><img src=\"https://tracker.example.net/p.gif\">\r\n");
    const third = spawn(APP, [pathToFileURL(eml).href], {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir },
      stdio: "ignore",
    });
    const thirdExit = await Promise.race([new Promise((resolve) => third.on("exit", (code) => resolve(code))), sleep(20_000).then(() => "still running")]);
    if (thirdExit === "still running") third.kill("SIGKILL");
    assert.equal(thirdExit, 0, "the launch with a file hands over and exits");
    const fileReader = "//*[@role='dialog' and @aria-label='Harbour plans.eml — message file']";
    await wd.waitFor(`${fileReader}//h1[normalize-space(.)='Harbour plans']`, "the message file's reader");
    await wd.waitFor(`${fileReader}//*[@role='region' and @aria-label='Remote content']`, "remote content blocked in the file too");
    await wd.screenshot(join(ARTIFACTS, "23-message-file.png"));
    await wd.click(await wd.waitFor(`${fileReader}//button[normalize-space(.)='Reply']`, "Reply in the file's reader"));
    await wd.waitFor(composer, "the reply's composer");
    const replyFields = await wd.execute(`return [...document.querySelectorAll('[role="dialog"] input')].map((i) => i.value).concat([...document.querySelectorAll('[role="dialog"] .chip')].map((c) => c.title)).join("|")`);
    assert.match(replyFields, /Re: Harbour plans/);
    assert.match(replyFields, /ana@example\.test/);
  } catch (e) {
    await wd.screenshot(join(ARTIFACTS, "2x-unified-failure.png")).catch(() => {});
    await writeFile(join(ARTIFACTS, "2x-unified-failure.log"), await readFile(join(logDir, "petrel.log")).catch(() => "no log"));
    throw e;
  } finally {
    await wd.quit();
  }
});
