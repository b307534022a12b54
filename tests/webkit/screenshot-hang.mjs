// Reduced case for a WebKitGTK bug (2.50.6 here): with WEBKIT_DISABLE_COMPOSITING_MODE=1,
// WebKitWebDriver's Take Screenshot never answers, for any page. No Petrel code is
// involved: WebKit's own MiniBrowser shows a one-line page from a loopback server.
//
//   xvfb-run -a node tests/webkit/screenshot-hang.mjs                                # taken
//   WEBKIT_DISABLE_COMPOSITING_MODE=1 xvfb-run -a node tests/webkit/screenshot-hang.mjs # hangs
//
// Found while looking into why Petrel's attack-corpus E2E "hung" in that mode: it was the
// test's screenshot, not the reader (README, Benchmarks). Not run by `npm test`.
import { createServer } from "node:http";
import { spawn } from "node:child_process";

const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const PORT = 4460;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><h1>A page</h1>");
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const driver = spawn("WebKitWebDriver", [`--port=${PORT}`], { stdio: "inherit" });
await sleep(800);

async function call(method, path, body, ms = 30_000) {
  const response = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  });
  return response.json();
}

let verdict;
try {
  const session = await call("POST", "/session", {
    capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } } },
  });
  const id = session.value.sessionId;
  await call("POST", `/session/${id}/url`, { url: `http://127.0.0.1:${server.address().port}/` });
  const title = await call("POST", `/session/${id}/execute/sync`, { script: "return document.querySelector('h1').textContent", args: [] });
  console.log(`page shown: ${title.value}`);
  const started = Date.now();
  verdict = await call("GET", `/session/${id}/screenshot`, undefined, 10_000).then(
    (shot) => `screenshot taken in ${Date.now() - started} ms (${shot.value?.length ?? 0} base64 bytes)`,
    () => "screenshot: no answer in 10 s",
  );
} finally {
  console.log(`WEBKIT_DISABLE_COMPOSITING_MODE=${process.env.WEBKIT_DISABLE_COMPOSITING_MODE ?? "(unset)"}: ${verdict}`);
  driver.kill("SIGKILL");
  server.close();
  process.exit(0);
}
