// `npm run bench -- ui`: the real Petrel window (release build, WebKitGTK under Xvfb, via
// tauri-driver) with a 100,000-message folder from the harness. Prints `metric value unit`:
//   ui_folder_first_sync_ms  click on the never-opened folder → first rows painted (includes
//                            the header sync of 100k messages)
//   ui_index_after_sync_ms   from the whole folder listed until search indexing is over
//   ui_folder_open_ms        click on the (cached) folder → first rows painted, median of 7
//                            (measured once indexing is over: the window at rest)
//   ui_scroll_to_end_ms      jump to the end of the list → the last row painted, median of 7
//   ui_open_message_ms       click on a row never opened → its message shown in the reader
//                            (fetched from the server, parsed, marked read), median of 7,
//                            measured after the memory figures below
//   ui_busy_pss_mb           the app process and its WebKit processes right after the above,
//                            PSS (shared pages not counted twice)
//   ui_total_rss_mb          the same 10 s later, at rest, RSS
//   ui_total_pss_mb          the same, PSS
//   ui_start_pss_mb          the same right after start, before any folder is opened
//   ui_floor_pss_mb          the floor: the same build with the same settings and window
//                            showing an empty page (`petrel --bench-floor-window`), PSS,
//                            10 s after its start
//   ui_pss_over_floor_mb     ui_total_pss_mb minus the floor, same run (goal <= 100)
//   ui_cold_start_ms         launch of the release build → the cached rows painted (process
//                            start to the first message row's frame), median of 5 (<= 1000)
//   ui_cold_start_parts_ms   the same split at the page's navigation start, DOM ready, accounts
//                            listed and the cached page answered
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebDriver, sleep } from "../e2e/webdriver.mjs";
import { HARNESS, root, startDriver, startHarness, targetDir } from "../e2e/setup.mjs";

const APP = join(targetDir, "release", "petrel");
const MESSAGES = Number(process.env.PETREL_BENCH_MESSAGES ?? 100000);
const PORT = 4446; // tauri-driver; WebKitWebDriver gets 4447 (4445 is its default)

// How long the window rests before its memory is read (see ui_total_pss_mb).
const REST_MS = Number(process.env.PETREL_BENCH_REST_MS ?? 10_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { harness, info } = await startHarness(["--bulk", String(MESSAGES)]);
const configDir = await mkdtemp(join(tmpdir(), "petrel-bench-config-"));
const cacheDir = await mkdtemp(join(tmpdir(), "petrel-bench-cache-"));
const logDir = await mkdtemp(join(tmpdir(), "petrel-bench-logs-"));
const made = spawnSync(HARNESS, ["demo-account", "--petrel-config", configDir], { input: JSON.stringify(info) + "\n" });
if (made.status !== 0) throw new Error(`demo-account: ${made.stderr}`);
const driver = await startDriver(PORT, { PETREL_CONFIG_DIR: configDir, PETREL_CACHE_DIR: cacheDir, PETREL_LOG_DIR: logDir }, 4447);

// The next frame, or 50 ms when the window gets no frames (a hidden Xvfb window may not).
const PAINTED = `const painted = (f) => { let called = false; const once = () => { if (!called) { called = true; f(); } }; requestAnimationFrame(once); setTimeout(once, 50); };`;

// Clicks a tree item and waits, in the page, until the list paints a row of that folder.
const OPEN = PAINTED + `
  const [name, needle, done] = arguments;
  const item = [...document.querySelectorAll('[role="treeitem"]')].find((t) => t.getAttribute("aria-label") === name);
  const t0 = performance.now();
  item.querySelector(".label").click();
  const check = () => {
    const row = [...document.querySelectorAll('[role="listbox"] [role="option"]')].find((r) => r.textContent.includes(needle));
    if (row) painted(() => done(performance.now() - t0));
    else setTimeout(check, 1);
  };
  check();`;

// Clicks the `i`-th loaded row and waits until the reader shows a new message, done loading.
const OPEN_MESSAGE = PAINTED + `
  const [i, done] = arguments;
  const rows = [...document.querySelectorAll('[role="listbox"] [role="option"][data-uid]')];
  const reader = () => document.querySelector('article[aria-label="Message"]');
  const before = reader()?.querySelector("h1")?.textContent ?? null;
  const t0 = performance.now();
  rows[i].click();
  const check = () => {
    const article = reader();
    const title = article?.querySelector("h1")?.textContent ?? null;
    const shown = article && article.getAttribute("aria-busy") !== "true" && title !== null && title !== before && article.querySelector(".body, iframe");
    if (shown) painted(() => done(performance.now() - t0));
    else setTimeout(check, 1);
  };
  check();`;

// Jumps to the end and waits until the last row (not a placeholder) is painted.
const TO_END = PAINTED + `
  const [total, done] = arguments;
  const list = document.querySelector('[role="listbox"]');
  const t0 = performance.now();
  list.scrollTop = list.scrollHeight;
  const check = () => {
    const last = list.querySelector('[role="option"][aria-posinset="' + total + '"][data-uid]');
    if (last) painted(() => done(performance.now() - t0));
    else setTimeout(check, 1);
  };
  check();`;

let smapsSeen = 0;
async function rssOfTree(rootPid, when = "") {
  const children = new Map();
  const rss = new Map();
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      rss.set(Number(pid), Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(pid));
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  let pss = 0;
  const parts = [];
  const walk = async (pid) => {
    total += rss.get(pid) ?? 0;
    // PSS splits pages shared between the processes (WebKit's libraries are mapped by the
    // app and its web process alike), so the sum does not count them twice; anonymous
    // memory is what the processes allocated themselves.
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? 0) / 1024;
    pss += field("Pss");
    const name = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "?")).trim();
    // PETREL_BENCH_SMAPS=<dir>: each process's mappings kept, to see which ones hold it.
    if (process.env.PETREL_BENCH_SMAPS) {
      const label = (when || "now").replace(/\W+/g, "-");
      const smaps = await readFile(`/proc/${pid}/smaps`, "utf8").catch(() => "");
      await writeFile(join(process.env.PETREL_BENCH_SMAPS, `${++smapsSeen}-${label}-${name}-${pid}.smaps`), smaps);
    }
    parts.push(`${name} rss ${((rss.get(pid) ?? 0) / 1024).toFixed(0)} / pss ${field("Pss").toFixed(0)} / anon ${field("Pss_Anon").toFixed(0)} MB`);
    for (const c of children.get(pid) ?? []) await walk(c);
  };
  await walk(rootPid);
  console.error(`ui memory by process${when ? ` (${when})` : ""}: ${parts.join("; ")}`);
  return { rss: total / 1024, pss };
}

async function appPid() {
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const exe = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (exe.split("\0")[0] === APP) return Number(pid);
  }
  return null;
}

// When `pid` started, in ms since the epoch: its start in clock ticks since boot
// (/proc/PID/stat field 22) against the uptime read now; 10 ms resolution.
async function startedAtMs(pid) {
  const now = Date.now();
  const uptime = Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]); // field 22; fields[0] is field 3
  const hz = Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;
  return now - (uptime - ticks / hz) * 1000;
}

// The first real message row (not a placeholder) painted: the frame's time, epoch ms, and
// where the page's part of the start went, as epoch ms: its navigation start, DOM ready,
// and the window's own marks (ui/src/lib/startMarks.ts: accounts listed, cached page
// answered) for the cold start's breakdown.
const FIRST_ROWS = PAINTED + `
  const [done] = arguments;
  const report = () => {
    const origin = performance.timeOrigin;
    const nav = performance.getEntriesByType("navigation")[0];
    const mark = (name) => origin + (performance.getEntriesByName("petrel:" + name)[0]?.startTime ?? NaN);
    done({ shown: Date.now(), origin, ready: origin + (nav?.domContentLoadedEventEnd ?? NaN), accounts: mark("accounts"), page: mark("cached page") });
  };
  const check = () => document.querySelector('[role="listbox"] [role="option"][data-uid]') ? painted(report) : setTimeout(check, 1);
  check();`;

let wd = null;
try {
  wd = await WebDriver.start(`http://127.0.0.1:${PORT}`, APP, 120_000);
  await wd.waitFor(`//*[@role='treeitem' and @aria-label='Bulk']`, "the Bulk folder", 60_000);
  // The floor: the app with its window and tree shown, before any folder is opened.
  await sleep(2000);
  const startPid = await appPid();
  const atStart = startPid ? await rssOfTree(startPid) : null;
  // The first open syncs 100k headers: allow it minutes, not WebDriver's default 30 s.
  await wd.cmd("POST", "/timeouts", { script: 120_000 });
  const script = (body, args) => wd.cmd("POST", "/execute/async", { script: body, args });
  const first = await script(OPEN, ["Bulk", "Bulk message"]);
  // The rest measures the synced folder: wait until the whole folder is listed.
  await script(
    `const [total, done] = arguments;
     const check = () => document.querySelector('[role="option"][aria-setsize="' + total + '"]') ? done(true) : setTimeout(check, 50);
     check();`,
    [MESSAGES],
  );
  // A first sync of 100k rows is followed by indexing them for search (the status bar says
  // "Indexing mail for search"); the folder measures below are of the window at rest, so
  // wait for that to end (quiet for 2 s), and say how long it took.
  const indexed = await script(
    `const [done] = arguments;
     const t0 = performance.now();
     let quietSince = null;
     const check = () => {
       const busy = document.body.textContent.includes("Indexing mail for search");
       if (busy) quietSince = null; else quietSince ??= performance.now();
       if (quietSince !== null && performance.now() - quietSince > 2000) done(quietSince - t0);
       else setTimeout(check, 50);
     };
     check();`,
    [],
  );
  console.log(`ui_index_after_sync_ms ${indexed.toFixed(0)} ms`);
  // Where the memory over the floor comes from: after the first sync and indexing, before
  // the open/scroll rounds (stderr only).
  if (startPid) await rssOfTree(startPid, "after the first sync and indexing");
  const opens = [];
  const ends = [];
  for (let i = 0; i < 7; i++) {
    await script(OPEN, ["INBOX", "Welcome to Petrel"]);
    opens.push(await script(OPEN, ["Bulk", "Bulk message"]));
    try {
      ends.push(await script(TO_END, [MESSAGES]));
    } catch (e) {
      const state = await wd.execute(`const l = document.querySelector('[role="listbox"]'); const o = [...l.querySelectorAll('[role="option"]')]; return JSON.stringify({ top: l.scrollTop, height: l.scrollHeight, client: l.clientHeight, options: o.length, first: o[0]?.getAttribute("aria-posinset"), last: o.at(-1)?.getAttribute("aria-posinset"), lastText: o.at(-1)?.textContent });`);
      console.error("scroll-to-end state:", state);
      await wd.screenshot(join(root, "artifacts", "bench-ui-scroll.png")).catch(() => {});
      throw e;
    }
  }
  const pid = await appPid();
  console.log(`ui_folder_first_sync_ms ${first.toFixed(0)} ms`);
  console.log(`ui_folder_open_ms ${median(opens).toFixed(1)} ms`);
  console.log(`ui_scroll_to_end_ms ${median(ends).toFixed(1)} ms`);
  // Memory right after the workload, then at rest: the app gives freed heap back within
  // one look of its heap keeper (every 5 s) and WebKit's own scavenger within seconds, so
  // the goal is measured REST_MS after the last action (the floor is measured the same
  // way, REST_MS after its start).
  const busy = pid ? await rssOfTree(pid, "busy") : null;
  if (busy) console.log(`ui_busy_pss_mb ${busy.pss.toFixed(0)} MB (right after the workload)`);
  await sleep(REST_MS);
  const memory = pid ? await rssOfTree(pid, "at rest") : null;
  if (memory) {
    console.log(`ui_total_rss_mb ${memory.rss.toFixed(0)} MB`);
    console.log(`ui_total_pss_mb ${memory.pss.toFixed(0)} MB (${REST_MS / 1000} s at rest)`);
    if (atStart) console.log(`ui_start_pss_mb ${atStart.pss.toFixed(0)} MB (window shown, no folder open; rss ${atStart.rss.toFixed(0)} MB)`);
  }
  else console.log("ui_total_rss_mb unknown (app process not found)");
  const total = memory?.pss ?? null;
  // The reader, after the memory figures (so they stay comparable with earlier runs).
  const reads = [];
  for (let i = 0; i < 7; i++) reads.push(await script(OPEN_MESSAGE, [i * 2]));
  console.log(`ui_open_message_ms ${median(reads).toFixed(1)} ms (runs ${reads.map((r) => r.toFixed(0)).join(", ")})`);
  await wd.quit();
  wd = null;

  // Cold start: launch → the cached rows painted (the app opens where it was left).
  const starts = [];
  const parts = { native: [], load: [], accounts: [], page: [], paint: [] };
  for (let i = 0; i < 5; i++) {
    wd = await WebDriver.start(`http://127.0.0.1:${PORT}`, APP, 120_000);
    const started = await startedAtMs(await appPid());
    await wd.cmd("POST", "/timeouts", { script: 60_000 });
    const at = await wd.cmd("POST", "/execute/async", { script: FIRST_ROWS, args: [] });
    starts.push(at.shown - started);
    // process start → the page's navigation (engine, GTK, WebKit's processes) → DOM ready
    // (the UI's code loaded and run) → accounts listed → the cached page answered → the
    // first row's frame.
    parts.native.push(at.origin - started);
    parts.load.push(at.ready - at.origin);
    parts.accounts.push(at.accounts - at.ready);
    parts.page.push(at.page - at.accounts);
    parts.paint.push(at.shown - at.page);
    await wd.quit();
    wd = null;
  }
  console.log(`ui_cold_start_ms ${median(starts).toFixed(0)} ms (runs ${starts.map((x) => x.toFixed(0)).join(", ")})`);
  const part = (xs) => median(xs).toFixed(0);
  console.log(`ui_cold_start_parts_ms native ${part(parts.native)}, page load ${part(parts.load)}, accounts ${part(parts.accounts)}, cached page ${part(parts.page)}, paint ${part(parts.paint)} ms (medians: process start → navigation → DOM ready → accounts listed → cached page answered → first row's frame)`);

  // The floor: the same build, settings and window with an empty page.
  wd = await WebDriver.start(`http://127.0.0.1:${PORT}`, APP, 120_000, ["--bench-floor-window"]);
  await sleep(REST_MS);
  const floorPid = await appPid();
  const floor = floorPid ? await rssOfTree(floorPid, "floor") : null;
  if (floor) {
    console.log(`ui_floor_pss_mb ${floor.pss.toFixed(0)} MB (rss ${floor.rss.toFixed(0)} MB)`);
    if (total !== null) console.log(`ui_pss_over_floor_mb ${(total - floor.pss).toFixed(0)} MB`);
  }
} finally {
  await wd?.quit();
  driver.kill("SIGTERM");
  harness.kill("SIGTERM");
  await sleep(300);
  for (const dir of [configDir, cacheDir, logDir]) await rm(dir, { recursive: true, force: true });
}
