// What the real-window specs (and the UI benchmark) share: the built binaries, a harness
// started through `petrel-harness serve`, and tauri-driver with the app's environment.
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { sleep } from "./webdriver.mjs";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
export const HARNESS = join(targetDir, "debug", "petrel-harness");
export const ARTIFACTS = join(root, "artifacts", "e2e");

/** Starts `petrel-harness serve ARGS`; resolves with its JSON (dir, ports, users…). */
export function startHarness(args = []) {
  return new Promise((resolve, reject) => {
    const harness = spawn(HARNESS, ["serve", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    harness.on("error", reject);
    harness.on("exit", (code) => reject(new Error(`petrel-harness exited with ${code}`)));
    createInterface({ input: harness.stdout }).once("line", (line) => resolve({ harness, info: JSON.parse(line) }));
  });
}

/** Starts tauri-driver on `port` (its WebKitWebDriver on `nativePort` when given) with
 * `env` added to this process's environment, and waits until it answers. */
export async function startDriver(port, env, nativePort = null) {
  const args = ["--port", String(port), "--native-driver", "/usr/bin/WebKitWebDriver"];
  if (nativePort) args.push("--native-port", String(nativePort));
  // The app's own state outside Petrel's dirs (the window's size and position) goes to a
  // throw-away XDG config dir unless the spec sets one: tests never write the user's.
  const xdg = env.XDG_CONFIG_HOME ?? mkdtempSync(join(tmpdir(), "petrel-e2e-xdg-"));
  const driver = spawn("tauri-driver", args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, XDG_CONFIG_HOME: xdg, ...env } });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return driver;
    } catch {
      await sleep(200);
    }
  }
  throw new Error("tauri-driver did not start");
}

/** Runs doveadm against the harness described by `info` (the serve output); its stdout.
 * Reads the server's side directly, never through Petrel. */
export function doveadm(info, args, input) {
  const r = spawnSync("doveadm", ["-c", join(info.dir, "dovecot.conf"), ...args], { input });
  if (r.status !== 0) throw new Error(`doveadm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.toString();
}
