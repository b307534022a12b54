// Real-window E2E: the built Petrel app (tauri build --debug --no-bundle) under Xvfb, driven
// through tauri-driver + WebKitWebDriver, against the Dovecot harness and the real keychain.
// Run by `npm test` (or `npm run test:e2e` inside the environment scripts/test.sh sets up).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, HARNESS, startDriver, startHarness, targetDir } from "./setup.mjs";
import { WebDriver, by, sleep, openWizard } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;


/** What the config dir holds besides the running instance's own files (the lock that keeps
 *  one Petrel per config dir, and the hand-over address for later launches). */
async function savedSettings() {
  return (await readdir(configDir)).filter((f) => !["petrel.lock", "petrel.handoff"].includes(f));
}
let harness, harnessInfo, driver, configDir, logDir, cacheDir;

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info: harnessInfo } = await startHarness());
  driver = await startDriver(DRIVER_PORT, { PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, PETREL_CHECK_SECONDS: "2" });
});

after(async () => {
  driver?.kill("SIGTERM");
  harness?.kill("SIGTERM");
  await sleep(300);
  await rm(configDir, { recursive: true, force: true });
  await rm(logDir, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

/** A loopback port nobody listens on (bound, read, released). */
async function closedPort() {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function filesContaining(dir, needle) {
  const hits = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

test("add an IMAP account through the form: unreachable host, refused and trusted certificate, wrong password, then read a message", async () => {
  const alice = harnessInfo.users.find((u) => u.login.startsWith("alice@"));
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await wd.waitFor(by.button("Add account"), "the toolbar");
    await openWizard(wd, true);
    await wd.screenshot(join(ARTIFACTS, "01-first-start.png"));
    await wd.click(await wd.waitFor(by.button("Set up manually"), "the wizard's manual way"));

    await wd.type(await wd.waitFor(by.field("Display name")), "Alice");
    await wd.type(await wd.waitFor(by.field("Email address")), alice.login);
    await wd.type(await wd.waitFor(by.field("IMAP server")), "127.0.0.1");
    const port = await wd.waitFor(by.field("Port"));
    const dialogAlert = `${by.role("dialog")}//*[@role='alert']`;

    // 1. Nothing listens on this port: a clear "could not reach" message, nothing saved.
    const closed = await closedPort();
    await wd.clear(port);
    await wd.type(port, String(closed));
    await wd.type(await wd.waitFor(by.field("Password")), "wrong-password");
    await wd.click(await wd.waitFor(by.button("Connect")));
    assert.match(await wd.text(await wd.waitFor(dialogAlert, "the unreachable-host message")), /could not reach 127\.0\.0\.1:\d+/);
    await wd.screenshot(join(ARTIFACTS, "02-unreachable.png"));

    // 2. The real server: its certificate is unknown to Petrel. Refusing it saves nothing.
    await wd.clear(port);
    await wd.type(port, String(harnessInfo.ports.imaps));
    await wd.click(await wd.waitFor(by.button("Connect")));
    await wd.waitFor("//*[@data-sha256]", "the untrusted-certificate question");
    await wd.click(await wd.waitFor(by.button("Cancel")));
    assert.match(await wd.text(await wd.waitFor(dialogAlert, "the refused-certificate message")), /not trusted.*Nothing was saved/);
    assert.deepEqual(await savedSettings(), [], "nothing is saved after refusing the certificate");

    // 3. Trusting it, with a wrong password: the login must fail clearly.
    await wd.click(await wd.waitFor(by.button("Connect")));
    const fingerprint = await wd.waitFor("//*[@data-sha256]", "the untrusted-certificate question");
    assert.equal(await wd.attribute(fingerprint, "data-sha256"), harnessInfo.server_cert_sha256, "the fingerprint shown is the harness server's");
    await wd.screenshot(join(ARTIFACTS, "03-untrusted-certificate.png"));
    await wd.click(await wd.waitFor(by.button("Trust this certificate")));

    const wrong = `${dialogAlert}[contains(., 'Check the user name and password')]`;
    await wd.waitFor(wrong, "the wrong-password message");
    // In words, and in sight: not below the fold of the form (nor async-imap's debug text).
    const message = await wd.text(await wd.waitFor(wrong));
    assert.doesNotMatch(message, /code: |info: Some|None,/, `no debug text: ${message}`);
    let seen = false;
    for (let i = 0; i < 20 && !seen; i++) {
      seen = await wd.execute(`
        const el = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
        if (!el) return false;
        const r = el.getBoundingClientRect();
        for (let p = el.parentElement; p; p = p.parentElement) {
          const q = p.getBoundingClientRect();
          if (getComputedStyle(p).overflowY !== "visible" && (r.top < q.top - 1 || r.bottom > q.bottom + 1)) return false;
        }
        return r.top >= 0 && r.bottom <= innerHeight;`, [wrong]);
      if (!seen) await sleep(100);
    }
    assert.ok(seen, "the wrong-password message is in view without scrolling");
    await wd.screenshot(join(ARTIFACTS, "04-wrong-password.png"));
    assert.deepEqual(await savedSettings(), [], "nothing is saved after a failed login");

    const password = await wd.waitFor(by.field("Password"));
    await wd.clear(password);
    await wd.type(password, alice.password);
    await wd.click(await wd.waitFor(by.button("Connect")));

    await wd.waitFor(`//*[@role='tree']//*[@role='treeitem' and @aria-label='INBOX']`, "INBOX in the folder tree");
    await wd.waitFor(`//*[@role='tree']//*[@role='treeitem' and @aria-label='Petrel']`, "the nested folder");
    await wd.waitFor(`//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][5]`, "five seeded messages");
    const rows = await wd.findAll(`//*[@role='listbox' and @aria-label='Messages']//*[@role='option']`);
    assert.equal(rows.length, 5);

    await wd.click(await wd.waitFor(`//*[@role='option'][contains(., 'Welcome to Petrel')]`));
    const article = `//article[@aria-label='Message'][contains(., 'The petrel is a seabird')]`;
    assert.match(await wd.text(await wd.waitFor(article, "the body text in the reader")), /Ana Lima <ana@example\.test>/);
    await wd.screenshot(join(ARTIFACTS, "05-reading.png"));

    // Another device delivers a message while Petrel is open: it appears without a click.
    const raw = "From: Bob <bob@example.test>\r\nSubject: Arrived while Petrel was open\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\nHello again.\r\n";
    const saved = spawnSync("doveadm", ["-c", join(harnessInfo.dir, "dovecot.conf"), "save", "-u", alice.login, "-m", "INBOX"], { input: raw });
    assert.equal(saved.status, 0, `doveadm save: ${saved.stderr}`);
    await wd.waitFor(`//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][contains(., 'Arrived while Petrel was open')]`, "the new message, without user action");
    assert.match(await wd.text(await wd.waitFor(article)), /The petrel is a seabird/, "the open message stays open");
    await wd.screenshot(join(ARTIFACTS, "05b-new-mail-arrived.png"));

    const settings = JSON.parse(await readFile(join(configDir, "accounts.json"), "utf8"));
    assert.equal(settings.accounts[0].imap.pinned_cert_sha256, harnessInfo.server_cert_sha256);
    assert.deepEqual(await filesContaining(configDir, alice.password), [], "no password in the config dir");
    assert.deepEqual(await filesContaining(logDir, alice.password), [], "no password in the logs");
    assert.deepEqual(await filesContaining(cacheDir, alice.password), [], "no password in the mail cache");
    assert.ok((await readdir(cacheDir)).length > 0, "the app caches the message list where the test looks");
    assert.ok((await readdir(logDir)).includes("petrel.log"), "the app writes its log where the test looks");
  } finally {
    await wd.quit();
  }

  // A fresh start finds the account in the config file and the password in the keychain.
  const again = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await again.waitFor(`//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][contains(., 'Arrived while Petrel was open')]`, "the INBOX after a restart");
    await again.screenshot(join(ARTIFACTS, "06-after-restart.png"));
  } finally {
    await again.quit();
  }
});
