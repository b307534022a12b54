// Points of the window's start as `performance` marks ("petrel:accounts", ...), read by the
// UI benchmark's cold start to say where the time goes. Each is set once per launch, so a
// long session does not pile them up.
const marked = new Set<string>();

export function markStart(name: string) {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark(`petrel:${name}`);
}
