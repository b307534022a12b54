// Real-window E2E: a message being written is saved to the IMAP Drafts folder by itself
// (autosave), the copy is replaced rather than added to, and after the app is closed and
// started again the draft is opened from Drafts and continued; Discard removes it from the
// server. Checked with doveadm (not through Petrel).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, HARNESS, startDriver, startHarness, targetDir } from "./setup.mjs";
import { WebDriver, by, sleep } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;

let harness, info, driver, configDir, logDir, cacheDir, alice;

/** Bodies of the messages in alice's Drafts, as Dovecot has them; null while Petrel is
 * replacing a copy (doveadm then meets a message expunged under it: asked again). */
function drafts() {
  const r = spawnSync("doveadm", ["-c", join(info.dir, "dovecot.conf"), "fetch", "-u", alice, "body", "mailbox", "Drafts", "ALL"]);
  if (r.status !== 0 && /expunged/i.test(r.stderr.toString())) return null;
  assert.equal(r.status, 0, `doveadm fetch: ${r.stderr}`);
  return r.stdout.toString().split(/^body:/m).slice(1).map((b) => b.trim());
}

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info } = await startHarness());
  alice = info.users.find((u) => u.login.startsWith("alice@")).login;
  const made = spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir, "--user", "alice"], { input: JSON.stringify(info) + "\n" });
  assert.equal(made.status, 0, `demo-account: ${made.stderr}`);
  driver = await startDriver(DRIVER_PORT, { PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, PETREL_CHECK_SECONDS: "2" });
});

after(async () => {
  driver?.kill("SIGTERM");
  spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir ?? "/nonexistent", "--user", "alice", "--remove"]);
  harness?.kill("SIGTERM");
  await sleep(300);
  for (const dir of [configDir, logDir, cacheDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const composer = "//*[@role='dialog' and @aria-label='New message']";
const toField = `${composer}//label[normalize-space(.)='To']/following-sibling::input`;
const body = `${composer}//textarea[@aria-label='Message']`;
const treeitem = (name) => `//*[@role='tree']//*[@role='treeitem' and @aria-label=${JSON.stringify(name)}]`;

async function waitForDrafts(check, what) {
  const deadline = Date.now() + 30_000;
  let last = [];
  while (Date.now() < deadline) {
    const now = drafts();
    if (now !== null) {
      last = now;
      if (check(last)) return last;
    }
    await sleep(250);
  }
  throw new Error(`${what}; Drafts holds: ${JSON.stringify(last)}`);
}

test("a draft saves itself, replaces its copy, and is continued after a restart", async () => {
  let wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await wd.waitFor("//*[@role='listbox' and @aria-label='Messages']//*[@role='option']", "alice's mail");
    await wd.click(await wd.waitFor(by.button("Write"), "the toolbar"));
    await wd.type(await wd.waitFor(toField, "the To field"), "Bob <bob@example.test>");
    await wd.type(await wd.waitFor(by.field("Subject")), "Plans for the regatta");
    await wd.type(await wd.waitFor(body), "First: boats.");
    // No button pressed: the composer saves on its own within a few seconds.
    await wd.waitFor(`${composer}//*[@role='status'][starts-with(normalize-space(.), 'Draft saved at')]`, "the autosave", 20_000);
    await waitForDrafts((d) => d.length === 1 && d[0].includes("First: boats."), "the first draft on the server");
    await wd.type(await wd.waitFor(body), " Second: crews.");
    // The new copy is filed first and the old one removed after (a crash leaves two, never
    // none): wait for the state after both steps.
    const second = await waitForDrafts((d) => d.length === 1 && d[0].includes("Second: crews."), "the second save replacing the first");
    assert.equal(second.length, 1, "the new copy replaced the old one");
    await wd.screenshot(join(ARTIFACTS, "40-draft-autosaved.png"));
    await wd.click(await wd.waitFor(`${composer}//button[normalize-space(.)='Close']`));
    await wd.waitFor("//*[contains(., 'Saved in Drafts')]", "the notice");
  } finally {
    await wd.quit();
  }

  // A new start of the app: the draft is in Drafts and continues where it was.
  wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await wd.click(await wd.waitFor(`${treeitem("Drafts")}//*[contains(@class, 'row')]`, "the Drafts folder"));
    await wd.click(await wd.waitFor("//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][contains(., 'Plans for the regatta')]", "the draft in the list"));
    await wd.click(await wd.waitFor("//article[@aria-label='Message']//button[normalize-space(.)='Edit draft']", "Edit draft"));
    // The composer opens once the draft is read back (an IPC round trip): wait for it.
    await wd.waitFor(body, "the composer with the draft");
    const text = await wd.execute("return document.querySelector('textarea[aria-label=\"Message\"]').value");
    assert.match(text, /^First: boats\. Second: crews\./);
    // The draft's recipient comes back as a chip (its whole address in its title).
    const toChip = `${composer}//label[normalize-space(.)='To']/following-sibling::span[contains(@class, 'chip')]`;
    const to = await wd.execute(`return document.evaluate(${JSON.stringify(toChip)}, document, null, 9, null).singleNodeValue?.getAttribute("title")`);
    assert.equal(to, "Bob <bob@example.test>");
    await wd.screenshot(join(ARTIFACTS, "41-draft-reopened.png"));
    await wd.click(await wd.waitFor(`${composer}//button[normalize-space(.)='Discard']`));
    await waitForDrafts((d) => d.length === 0, "Discard removes the draft from the server");
  } finally {
    await wd.quit();
  }
});
