// Real-window E2E: the HTML attack corpus (tests/servers/attack) opened in the real Petrel
// window (WebKitGTK) while a loopback HTTP server counts every request the mails try to
// make. Expected: no script runs and nothing is fetched until remote content is allowed;
// then only image requests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HARNESS, root, startDriver, startHarness, targetDir, doveadm as runDoveadm } from "./setup.mjs";
import { WebDriver, sleep } from "./webdriver.mjs";

const APP = join(targetDir, "debug", "petrel");
const CORPUS = join(root, "tests", "servers", "attack");
const DRIVER_PORT = 4444;

let harness, info, driver, beacon, configDir, logDir, cacheDir;
const requests = [];

const doveadm = (args, input) => runDoveadm(info, args, input);

before(async () => {
  for (const bin of [APP, HARNESS]) await stat(bin).catch(() => { throw new Error(`${bin} is missing: run npm test (it builds it)`); });
  beacon = createServer((req, res) => {
    requests.push({ path: req.url, accept: req.headers.accept ?? "" });
    res.writeHead(404).end();
  });
  await new Promise((r) => beacon.listen(0, "127.0.0.1", r));
  const beaconUrl = `http://127.0.0.1:${beacon.address().port}`;
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
  ({ harness, info } = await startHarness());
  const alice = info.users.find((u) => u.login.startsWith("alice@"));
  doveadm(["mailbox", "create", "-s", "-u", alice.login, "Attacks"]);
  for (const name of (await readdir(CORPUS)).filter((n) => n.endsWith(".eml")).sort()) {
    const raw = (await readFile(join(CORPUS, name), "utf8")).replaceAll("{{BEACON}}", beaconUrl);
    doveadm(["save", "-u", alice.login, "-m", "Attacks"], raw);
  }
  // The account, as the demo sets it up: settings file + password in the (test) keychain.
  const made = spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir], { input: JSON.stringify(info) + "\n" });
  assert.equal(made.status, 0, `demo-account: ${made.stderr}`);
  // The reader as users get it on Linux: compositing off (Petrel's default), while the
  // rest of the suite turns it on for its screenshots (scripts/test.sh), because
  // WebKitWebDriver's Take Screenshot never answers with it off (WebKitGTK 2.50.6, any
  // page: tests/webkit/screenshot-hang.mjs). So this test takes no screenshots.
  driver = await startDriver(DRIVER_PORT, { PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir, WEBKIT_DISABLE_COMPOSITING_MODE: "1" });
});

after(async () => {
  driver?.kill("SIGTERM");
  spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir ?? "/nonexistent", "--remove"]);
  harness?.kill("SIGTERM");
  beacon?.close();
  await sleep(300);
  for (const dir of [configDir, logDir, cacheDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const option = (subject) => `//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][contains(., ${JSON.stringify(subject)})]`;
const frame = "//article[@aria-label='Message']//iframe[@title='Message body']";

test("the HTML attack corpus runs no script and fetches nothing until remote content is allowed, then only images", async () => {
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, APP);
  try {
    await wd.click(await wd.waitFor(`//*[@role='tree']//*[@role='treeitem' and @aria-label='Attacks']`, "the Attacks folder"));
    await wd.waitFor(`//*[@role='listbox' and @aria-label='Messages']//*[@role='option'][11]`, "all eleven attack messages");
    const names = (await readdir(CORPUS)).filter((n) => n.endsWith(".eml")).map((n) => n.replace(/\.eml$/, "")).sort();
    for (const name of names) {
      await wd.click(await wd.waitFor(option(`Attack ${name}`)));
      await wd.waitFor(`${frame}[contains(@srcdoc, ${JSON.stringify(`Attack ${name}`)})]`, `the frame showing ${name}`);
      await sleep(700); // time for anything that would load or run to do so
      assert.deepEqual(requests, [], `after opening ${name}, nothing may have been fetched`);
    }

    // Allowing remote content for the tracking-pixel mail fetches its image, nothing else.
    await wd.click(await wd.waitFor(option("Attack 10-tracking-pixel")));
    // The bar is the same element for every message: wait until the reader shows this one,
    // or the click grants the message opened before (the grant is per message).
    await wd.waitFor(`${frame}[contains(@srcdoc, ${JSON.stringify("Attack 10-tracking-pixel")})]`, "the frame showing the tracking pixel mail");
    await wd.click(await wd.waitFor(`//*[@role='region' and @aria-label='Remote content']//button[normalize-space(.)='Show for this message']`, "the remote-content bar"));
    const deadline = Date.now() + 10_000;
    while (!requests.some((r) => r.path === "/pixel.gif") && Date.now() < deadline) await sleep(100);
    assert.ok(requests.some((r) => r.path === "/pixel.gif"), "the allowed image is fetched");
    // And for the CSS mail: CSS images load, @import/stylesheets/scripts do not.
    await wd.click(await wd.waitFor(option("Attack 06-css")));
    await wd.click(await wd.waitFor(`//*[@role='region' and @aria-label='Remote content']//button[normalize-space(.)='Show for this message']`, "the remote-content bar"));
    await sleep(1500);
    const paths = [...new Set(requests.map((r) => r.path))].sort();
    const images = new Set(["/pixel.gif", "/css-url.png"]);
    assert.ok(paths.every((p) => images.has(p)), `only image requests once allowed, got ${paths.join(", ")}`);
  } finally {
    await wd.quit();
  }
});
