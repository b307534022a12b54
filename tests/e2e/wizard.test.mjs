// Real-window E2E: a newcomer adds an account with the setup wizard — name, address and
// password only. Discovery runs against a real DNS server on loopback (dnsmasq serving the
// harness domain's SRV records; nothing outside is asked), the certificate is trusted after
// seeing it, the advisor's questions are answered, and the account ends with mail in the
// list: once choosing IMAP (several devices), once POP3 (one computer, often offline).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, HARNESS, startDriver, startHarness, targetDir, doveadm as runDoveadm } from "./setup.mjs";
import { WebDriver, by, sleep, openWizard } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const DRIVER_PORT = 4444;

let harness, info, driver, dns, configDir, logDir, cacheDir;

const doveadm = (args, input) => runDoveadm(info, args, input);

async function freeUdpPort() {
  const s = createSocket("udp4");
  await new Promise((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const user = (name) => info.users.find((u) => u.login.startsWith(`${name}@`));

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info } = await startHarness());
  doveadm(["save", "-u", user("bob").login, "-m", "INBOX"], "From: Harbour <harbour@example.test>\r\nSubject: Harbour notes for bob\r\nMessage-ID: <e2e-wizard-bob@example.test>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\nTide at six.\r\n");
  const domain = user("alice").login.split("@")[1];
  const records = [
    "--address=/localhost/127.0.0.1",
    // Names under .test are answered here or not at all (no forwarding, no waiting).
    "--local=/test/",
    `--srv-host=_imaps._tcp.${domain},localhost,${info.ports.imaps},0,0`,
    `--srv-host=_pop3s._tcp.${domain},localhost,${info.ports.pop3s},0,0`,
    `--srv-host=_submissions._tcp.${domain},localhost,${info.ports.submissions},0,0`,
  ];
  // A DNS server that answers before the app starts (a fresh port if one was taken).
  let port;
  for (let attempt = 0; attempt < 3 && !port; attempt++) {
    const candidate = await freeUdpPort();
    dns = spawn("dnsmasq", [
      "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null", "--pid-file",
      "--bind-interfaces", "--listen-address=127.0.0.1", `--port=${candidate}`, "--log-facility=-", ...records,
    ], { stdio: ["ignore", "inherit", "inherit"] });
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${candidate}`]);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && dns.exitCode === null) {
      const answer = await resolver.resolveSrv(`_imaps._tcp.${domain}`).catch(() => null);
      if (answer?.length) {
        port = candidate;
        break;
      }
      await sleep(200);
    }
    if (!port) dns.kill("SIGTERM");
  }
  assert.ok(port, "dnsmasq answers on loopback");
  driver = await startDriver(DRIVER_PORT, {
    PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, PETREL_CHECK_SECONDS: "2",
    // Discovery asks only the loopback DNS server; web sources point at a closed port.
    PETREL_SETUP_DNS: `127.0.0.1:${port}`, PETREL_SETUP_PORTS: "http=9,https=9", PETREL_SETUP_ISPDB: "http://127.0.0.1:9/v1.1/",
  });
});

after(async () => {
  driver?.kill("SIGTERM");
  dns?.kill("SIGTERM");
  harness?.kill("SIGTERM");
  await sleep(300);
  for (const dir of [configDir, logDir, cacheDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const dialog = "//*[@role='dialog' and @aria-labelledby='wizard-title']";
const list = "//*[@role='listbox' and @aria-label='Messages']";
const radio = (text) => `${dialog}//label[contains(normalize-space(.), ${JSON.stringify(text)})]//input`;

async function newcomer(wd, name, who, answers, expect, shot, firstRun) {
  await openWizard(wd, firstRun);
  await wd.type(await wd.waitFor(by.field("Your name"), "the wizard"), name);
  await wd.type(await wd.waitFor(by.field("Email address")), who.login);
  await wd.type(await wd.waitFor(by.field("Password")), who.password);
  await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Continue']`));
  // Found through the domain's DNS service records, with a certificate to decide on.
  await wd.waitFor(`${dialog}//section[@aria-label='Settings found'][contains(., 'service records')]`, "the settings found", 60_000);
  await wd.click(await wd.waitFor(`${dialog}//section[starts-with(@aria-label, 'Certificate of')]//input[@type='checkbox']`, "the certificate question"));
  // SRV records (no DNSSEC) name "localhost", outside the address's domain: the password
  // goes there only after a yes that names it (review H3).
  await wd.click(await wd.waitFor(`${dialog}//section[@aria-label='Where your password goes'][contains(., 'localhost')]//input[@type='checkbox']`, "the question naming the server"));
  await wd.screenshot(join(ARTIFACTS, `${shot}-found.png`));
  await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Continue']`));
  for (const a of answers) await wd.click(await wd.waitFor(radio(a), a));
  await wd.waitFor(`${dialog}//section[@aria-label='Recommendation'][contains(., ${JSON.stringify(`We recommend ${expect}`)})]`, `the recommendation of ${expect}`);
  await wd.screenshot(join(ARTIFACTS, `${shot}-advice.png`));
  await wd.click(await wd.waitFor(`${dialog}//button[normalize-space(.)='Connect']`));
}

test("a newcomer sets up IMAP and POP3 accounts with the wizard and ends with mail in the list", async () => {
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await newcomer(wd, "Alice Newcomer", user("alice"), ["On several devices"], "IMAP", "50-wizard-imap", true);
    await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='Alice Newcomer']", "the new account in the tree", 60_000);
    await wd.waitFor(`${list}//*[@role='option']`, "alice's mail in the list", 60_000);
    await wd.screenshot(join(ARTIFACTS, "52-wizard-imap-mail.png"));

    await newcomer(wd, "Bob Offline", user("bob"), ["Only on this computer", "Often slow or missing"], "POP3", "53-wizard-pop3", false);
    await wd.waitFor("//*[@role='tree']//*[@role='treeitem' and @aria-label='Bob Offline']", "the POP3 account in the tree", 60_000);
    await wd.waitFor(`${list}//*[@role='option'][contains(., 'Harbour notes for bob')]`, "bob's mail downloaded by POP3", 60_000);
    await wd.screenshot(join(ARTIFACTS, "55-wizard-pop3-mail.png"));

    const saved = JSON.parse(await readFile(join(configDir, "accounts.json"), "utf8")).accounts;
    const alice = saved.find((a) => a.display_name === "Alice Newcomer");
    const bob = saved.find((a) => a.display_name === "Bob Offline");
    assert.equal(alice.protocol, "imap");
    assert.equal(bob.protocol, "pop3");
    assert.equal(bob.pop3.leave_on_server, "days", "one computer, often offline: a copy stays a few days");
    assert.equal(alice.smtp.port, info.ports.submissions, "the outgoing server was found and checked too");
    assert.ok(alice.imap.pinned_cert_sha256, "the certificate the user trusted is pinned");
  } finally {
    await wd.quit();
  }
});
