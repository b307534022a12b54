// The command surface is written in three places: the Rust shell's generate_handler!, the
// UI's ipc.ts, and the Playwright fake backend. They must name the same commands.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(root + path, "utf8");

function shellCommands(): string[] {
  const lib = read("src-tauri/src/lib.rs");
  const list = lib.slice(lib.indexOf("generate_handler!["), lib.indexOf("])", lib.indexOf("generate_handler![")));
  return [...list.matchAll(/commands::\w+::(\w+)/g)].map((m) => m[1]);
}

function uiCommands(): string[] {
  return [...read("ui/src/lib/ipc.ts").matchAll(/call<[^(]*>\("(\w+)"/g)].map((m) => m[1]);
}

function fakeCommands(): string[] {
  const fake = read("tests/ui/fake-backend.js");
  const start = fake.indexOf("const handlers = {");
  const handlers = fake.slice(start, fake.indexOf("\n  };", start));
  // Handler keys sit at four spaces of indent: `    name: (` or `    name() {`.
  return [...handlers.matchAll(/^ {4}(\w+): (?:async )?\(/gm)].map((m) => m[1]).filter((n) => !n.startsWith("plugin"));
}

const sorted = (names: string[]) => [...new Set(names)].sort();

describe("the command surface", () => {
  it("is the same in the shell, the UI and the fake backend", () => {
    const shell = sorted(shellCommands());
    expect(shell.length).toBeGreaterThan(40);
    expect(sorted(uiCommands())).toEqual(shell);
    expect(sorted(fakeCommands())).toEqual(shell);
  });
});
