// The installed package (issue 18): the .deb that `npm test` builds from the debug build
// (`tauri build --debug --bundles deb`) is installed with dpkg, its desktop entry and
// icons checked, the installed /usr/bin/petrel started in the real window under Xvfb, and
// the package removed again. Needs root (or sudo without a password) for dpkg.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, startDriver, targetDir } from "./setup.mjs";
import { WebDriver, by, sleep } from "./webdriver.mjs";

const DEB_DIR = join(targetDir, "debug", "bundle", "deb");
const INSTALLED = "/usr/bin/petrel";
const DESKTOP = "/usr/share/applications/Petrel.desktop";
const DRIVER_PORT = 4444;

let deb, driver, configDir, logDir, cacheDir;

/** Runs a command as root: directly when this is root, else through `sudo -n`. */
function asRoot(args) {
  const [cmd, ...rest] = process.getuid?.() === 0 ? args : ["sudo", "-n", ...args];
  const r = spawnSync(cmd, rest, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

const installed = () => spawnSync("dpkg-query", ["-W", "-f=${Status}", "petrel"], { encoding: "utf8" }).stdout.includes("install ok installed");

before(async () => {
  const debs = (await readdir(DEB_DIR).catch(() => [])).filter((f) => f.endsWith(".deb"));
  assert.equal(debs.length, 1, `one .deb in ${DEB_DIR} (npm test builds it with tauri build --debug --bundles deb)`);
  deb = join(DEB_DIR, debs[0]);
  configDir = await mkdtemp(join(tmpdir(), "petrel-e2e-config-"));
  logDir = await mkdtemp(join(tmpdir(), "petrel-e2e-logs-"));
  cacheDir = await mkdtemp(join(tmpdir(), "petrel-e2e-cache-"));
});

after(async () => {
  driver?.kill("SIGTERM");
  await sleep(300);
  // Never leave the test's package installed, whatever failed.
  if (installed()) asRoot(["dpkg", "-r", "petrel"]);
  for (const d of [configDir, logDir, cacheDir]) if (d) await rm(d, { recursive: true, force: true });
});

test("the .deb installs, declares mailto: and message/rfc822, starts as an installed program with an .eml file, and removes cleanly", async () => {
  // What the package declares, before installing it.
  const info = spawnSync("dpkg-deb", ["--field", deb, "Package", "Depends", "Section"], { encoding: "utf8" }).stdout;
  assert.match(info, /Package: petrel/);
  assert.match(info, /Depends: .*libwebkit2gtk-4\.1-0/);
  assert.match(info, /Section: mail/);

  asRoot(["dpkg", "-i", deb]);
  assert.ok(installed(), "dpkg lists petrel as installed");
  await stat(INSTALLED);
  const files = asRoot(["dpkg", "-L", "petrel"]).split("\n");
  for (const size of ["32x32", "64x64", "128x128", "256x256", "512x512"]) {
    assert.ok(files.includes(`/usr/share/icons/hicolor/${size}/apps/petrel.png`), `an icon at ${size}`);
  }

  // The desktop entry: valid, opens mail links and .eml files, passes them as arguments.
  const entry = await readFile(DESKTOP, "utf8");
  const mime = /^MimeType=(.*)$/m.exec(entry)?.[1].split(";").filter(Boolean) ?? [];
  assert.ok(mime.includes("x-scheme-handler/mailto"), "handles mailto: links");
  assert.ok(mime.includes("message/rfc822"), "opens .eml files");
  assert.match(entry, /^Exec=petrel %U$/m, "links and files reach Petrel as arguments");
  assert.match(entry, /^Categories=.*Email;/m);
  const valid = spawnSync("desktop-file-validate", [DESKTOP], { encoding: "utf8" });
  assert.equal(valid.status, 0, `desktop-file-validate: ${valid.stdout}${valid.stderr}`);

  // The installed program starts with an .eml file on its command line (as `petrel
  // file.eml`): its window, with the message in a reader of its own.
  const eml = join(configDir, "Tide tables.eml");
  await writeFile(eml, "From: Harbour Office <office@example.test>\r\nTo: me@example.test\r\nSubject: Tide tables\r\n\r\nHigh water at 06:12.\r\n");
  const home = join(configDir, "home");
  await mkdir(home, { recursive: true });
  driver = await startDriver(DRIVER_PORT, { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), PETREL_CONFIG_DIR: configDir, PETREL_LOG_DIR: logDir, PETREL_CACHE_DIR: cacheDir });
  const wd = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, INSTALLED, 60_000, [eml]);
  try {
    assert.equal(await wd.cmd("GET", "/title"), "Petrel");
    await wd.waitFor(by.button("Add account"), "the toolbar of the installed app");
    const reader = "//*[@role='dialog' and @aria-label='Tide tables.eml — message file']";
    await wd.waitFor(`${reader}//h1[normalize-space(.)='Tide tables']`, "the message file given on the command line");
    assert.match(await wd.text(await wd.waitFor(`${reader}//*[contains(@class, 'body')]`)), /High water at 06:12/);
    const pid = spawnSync("pgrep", ["-x", "petrel"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
    assert.ok(pid, "a petrel process runs");
    const exe = spawnSync("readlink", [`/proc/${pid}/exe`], { encoding: "utf8" }).stdout.trim();
    assert.equal(exe, INSTALLED, "the installed binary is what runs");
    await wd.screenshot(join(ARTIFACTS, "installed-package.png"));

    // Start at login, hidden: the installed program registers itself with the desktop's
    // autostart (an XDG autostart entry that starts it with --autostart).
    await wd.click(await wd.waitFor(`${reader}//button[normalize-space(.)='Close']`, "the file reader's Close"));
    await wd.click(await wd.waitFor(by.button("Preferences"), "the toolbar's Preferences"));
    const prefs = "//*[@role='dialog' and @aria-label='Preferences']";
    await wd.click(await wd.waitFor(`${prefs}//label[contains(., 'Start Petrel when I log in')]//input`, "start at login"));
    await wd.click(await wd.waitFor(`${prefs}//label[contains(., 'without the window')]//input`, "start hidden"));
    await wd.click(await wd.waitFor(`${prefs}//button[normalize-space(.)='Save']`));
    const autostart = join(home, ".config", "autostart");
    let entry = null;
    for (let i = 0; i < 50 && !entry; i++) {
      const names = await readdir(autostart).catch(() => []);
      if (names.length) entry = await readFile(join(autostart, names[0]), "utf8");
      else await sleep(100);
    }
    assert.ok(entry, "an autostart entry was written");
    assert.match(entry, /^Exec=.*\/usr\/bin\/petrel.* --autostart/m, entry);
    // Saved once the login item is there.
    let saved = null;
    for (let i = 0; i < 50 && !saved; i++) saved = await readFile(join(configDir, "desktop.json"), "utf8").catch(() => sleep(100).then(() => null));
    assert.deepEqual(JSON.parse(saved), { keep_running_in_tray: false, start_at_login: true, start_hidden: true });
    // The window's size is remembered for the next start.
    await wd.cmd("POST", "/window/rect", { width: 1111, height: 700 });
    await sleep(500);
  } finally {
    await wd.quit();
  }
  const again = await WebDriver.start(`http://127.0.0.1:${DRIVER_PORT}`, INSTALLED);
  try {
    await again.waitFor(by.button("Add account"), "the installed app, started again");
    const rect = await again.cmd("GET", "/window/rect");
    assert.deepEqual([rect.width, rect.height], [1111, 700], "the window comes back at its size");
  } finally {
    await again.quit();
    driver.kill("SIGTERM");
    driver = null;
  }

  asRoot(["dpkg", "-r", "petrel"]);
  assert.ok(!installed(), "removed");
  await assert.rejects(stat(INSTALLED), "the binary went with the package");
  await assert.rejects(stat(DESKTOP), "the desktop entry went with the package");
});
