// The command surface is written in three places: the Rust shell's generate_handler!, the
// UI's ipc.ts, and the Playwright fake backend. They must name the same commands.
import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const sorted = (names) => [...new Set(names)].sort();

function shellCommands() {
  const lib = read("src-tauri/src/lib.rs");
  const start = lib.indexOf("generate_handler![");
  return [...lib.slice(start, lib.indexOf("])", start)).matchAll(/commands::\w+::(\w+)/g)].map((m) => m[1]);
}

function uiCommands() {
  return [...read("ui/src/lib/ipc.ts").matchAll(/call<[^(]*>\("(\w+)"/g)].map((m) => m[1]);
}

function fakeCommands() {
  const fake = read("tests/ui/fake-backend.js");
  const start = fake.indexOf("const handlers = {");
  const handlers = fake.slice(start, fake.indexOf("\n  };", start));
  // Handler keys sit at four spaces of indent: `    name: (` (the event plugin's are not commands).
  return [...handlers.matchAll(/^ {4}(\w+): (?:async )?\(/gm)].map((m) => m[1]);
}

test("the shell, the UI and the fake backend name the same commands", () => {
  const shell = sorted(shellCommands());
  assert.ok(shell.length > 40, `only ${shell.length} commands found in generate_handler!`);
  assert.deepEqual(sorted(uiCommands()), shell);
  assert.deepEqual(sorted(fakeCommands()), shell);
});
