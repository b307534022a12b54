// Real-window E2E of OAuth2 sign-in: the harness runs a real OpenID Connect provider
// (oidc-provider) whose tokens Dovecot accepts; the app's "system browser" is the tests'
// scripted browser (PETREL_OAUTH_BROWSER), which signs alice in on the provider's own pages.
// A person adds the account by hand with "Sign in with an OpenID Connect provider", sees
// INBOX, and sends bob a message that arrives.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, HARNESS, root, startDriver, startHarness, targetDir, doveadm as runDoveadm } from "./setup.mjs";
import { WebDriver, by, sleep, openWizard } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;
let harness, info, driver, configDir, logDir, cacheDir;
const user = (name) => info.users.find((u) => u.login.startsWith(`${name}@`));

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info } = await startHarness(["--oidc"]));
  assert.ok(info.oidc_issuer, "the harness runs the OpenID Connect provider");
  driver = await startDriver(DRIVER_PORT, {
    PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, PETREL_CHECK_SECONDS: "2",
    PETREL_OAUTH_BROWSER: `node ${join(root, "tests/servers/oidc/browser.mjs")}`,
    OIDC_LOGIN: user("alice").login,
  });
});

after(async () => {
  driver?.kill("SIGTERM");
  harness?.kill("SIGTERM");
  await sleep(300);
  for (const dir of [configDir, logDir, cacheDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const wizard = "//*[@role='dialog' and @aria-labelledby='wizard-title']";
const dialog = "//*[@role='dialog' and @aria-labelledby='add-account-title']";
const composer = "//*[@role='dialog' and @aria-label='New message']";

test("an account signed in with an OpenID Connect provider lists INBOX and sends mail", async () => {
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  const alice = user("alice").login;
  try {
    await openWizard(wd, true);
    await wd.click(await wd.waitFor(`${wizard}//button[normalize-space(.)='Set up manually']`, "the wizard"));
    await wd.type(await wd.waitFor(by.field("Display name"), "the form"), "Alice Signed In");
    await wd.type(await wd.waitFor(by.field("Email address")), alice);
    await wd.type(await wd.waitFor(by.field("IMAP server")), "localhost");
    const port = await wd.waitFor(by.field("Port"));
    await wd.clear(port);
    await wd.type(port, String(info.ports.imaps));
    await wd.execute(`const s = document.querySelector('select[aria-label="Sign-in"]'); s.value = 'oidc'; s.dispatchEvent(new Event('change', { bubbles: true }));`);
    await wd.type(await wd.waitFor(by.field("Provider (issuer URL)"), "the issuer field"), info.oidc_issuer);
    await wd.type(await wd.waitFor(by.field("Client ID")), "petrel-test");
    await wd.type(await wd.waitFor(by.field("SMTP server")), "localhost");
    const smtpPort = await wd.waitFor(by.field("SMTP port"));
    await wd.clear(smtpPort);
    await wd.type(smtpPort, String(info.ports.submissions));
    await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Sign in']`));
    await wd.waitFor(`${dialog}//*[@role='status'][contains(., ${JSON.stringify(`Signed in as ${alice}`)})]`, "the browser round trip", 60_000);
    await wd.screenshot(join(ARTIFACTS, "60-oauth-signed-in.png"));
    await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Connect']`));
    // The harness's certificate is its own CA's: trusted after seeing it (IMAP, then SMTP).
    for (let i = 0; i < 2; i++) {
      const trust = await wd.findAll(`${dialog}//button[normalize-space(.)='Trust this certificate']`);
      if (!trust.length) {
        await wd.waitFor(`${dialog}//button[normalize-space(.)='Trust this certificate'] | //*[@role='tree']//*[@role='treeitem' and @aria-label='Alice Signed In']`, "a certificate question or the account", 60_000);
      }
      const again = await wd.findAll(`${dialog}//button[normalize-space(.)='Trust this certificate']`);
      if (again.length) await wd.click(again[0]);
    }
    await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='Alice Signed In']", "the new account in the tree", 60_000);
    await wd.waitFor("//*[@role='listbox' and @aria-label='Messages']//*[@role='option']", "alice's INBOX", 60_000);
    await wd.screenshot(join(ARTIFACTS, "61-oauth-inbox.png"));

    await wd.click(await wd.waitFor(by.button("Write"), "the toolbar"));
    await wd.type(await wd.waitFor(`${composer}//label[normalize-space(.)='To']/following-sibling::input`, "the composer"), user("bob").login);
    await wd.type(await wd.waitFor(by.field("Subject")), "Signed in with a token");
    await wd.type(await wd.waitFor(`${composer}//textarea[@aria-label='Message']`), "No password anywhere.");
    await wd.click(await wd.waitFor(`${composer}//button[normalize-space(.)='Send']`));
    const deadline = Date.now() + 30_000;
    let arrived = "";
    while (Date.now() < deadline && !arrived.includes("Signed in with a token")) {
      arrived = runDoveadm(info, ["search", "-u", user("bob").login, "mailbox", "INBOX", "SUBJECT", "Signed in with a token"]);
      await sleep(300);
    }
    assert.ok(arrived.trim(), "bob received the message sent with a token");

    // Settings name the provider; no token in any file Petrel wrote.
    const saved = JSON.parse(await readFile(join(configDir, "accounts.json"), "utf8")).accounts;
    assert.deepEqual(saved[0].sign_in, { kind: "oauth2", provider: { kind: "oidc", issuer: info.oidc_issuer }, client_id: "petrel-test" });
    for (const dir of [configDir, logDir, cacheDir]) {
      for (const name of await readdir(dir, { recursive: true })) {
        const text = await readFile(join(dir, name), "latin1").catch(() => "");
        assert.ok(!/Bearer|refresh_token|access_token/.test(text), `${name} holds no token`);
      }
    }
  } finally {
    await wd.quit();
  }
});
