// A small W3C WebDriver client (fetch only) for tauri-driver + WebKitWebDriver, with helpers
// that find elements by ARIA role and accessible name, the way a person finds them.
import { spawnSync } from "node:child_process";
import { writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

const ELEMENT = "element-6066-11e4-a52f-4a5c4b8c0f04";

export class WebDriver {
  constructor(base, sessionId) {
    this.base = base;
    this.sessionId = sessionId;
  }

  /** A session with the app at `application`, started with `args` (its command line). */
  static async start(base, application, timeoutMs = 60_000, args = []) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        const res = await raw(base, "POST", "/session", {
          capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application, args } } },
        });
        return new WebDriver(base, res.sessionId);
      } catch (e) {
        last = e;
        await sleep(500);
      }
    }
    throw new Error(`could not start a WebDriver session: ${last}`);
  }

  cmd(method, path, body) {
    return raw(this.base, method, `/session/${this.sessionId}${path}`, body);
  }

  async quit() {
    await this.cmd("DELETE", "").catch(() => {});
    // One Petrel per config dir: the next session's app must not find this one still
    // exiting (it would hand over to it and end).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && spawnSync("pgrep", ["-x", "petrel"]).status === 0) await sleep(100);
  }

  async findAll(xpath) {
    const found = await this.cmd("POST", "/elements", { using: "xpath", value: xpath });
    // W3C key first; some drivers still answer with the legacy JSON Wire "ELEMENT" key.
    return found.map((e) => e[ELEMENT] ?? e.ELEMENT ?? Object.values(e)[0]);
  }

  /** Waits until `xpath` matches a displayed element and returns its id. */
  async waitFor(xpath, what = xpath, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const id of await this.findAll(xpath)) {
        if (await this.cmd("GET", `/element/${id}/displayed`).catch(() => false)) return id;
      }
      await sleep(150);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  click(id) { return this.cmd("POST", `/element/${id}/click`, {}); }
  clear(id) { return this.cmd("POST", `/element/${id}/clear`, {}); }
  type(id, text) { return this.cmd("POST", `/element/${id}/value`, { text }); }
  text(id) { return this.cmd("GET", `/element/${id}/text`); }
  attribute(id, name) { return this.cmd("GET", `/element/${id}/attribute/${name}`); }
  /** Runs `script` (a function body) in the page and returns its result. */
  execute(script, args = []) { return this.cmd("POST", "/execute/sync", { script, args }); }

  async screenshot(path) {
    // Let the page paint what the last assertion saw before capturing it.
    await this.cmd("POST", "/execute/async", {
      script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(done));",
      args: [],
    }).catch(() => sleep(300));
    const png = await this.cmd("GET", "/screenshot");
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.from(png, "base64"));
  }
}

/** XPath string literal that survives quotes in `s`. */
export function lit(s) {
  if (!s.includes("'")) return `'${s}'`;
  return `concat('${s.split("'").join(`', "'", '`)}')`;
}

export const by = {
  role: (role, name) =>
    `//*[@role=${lit(role)}${name === undefined ? "" : ` and (@aria-label=${lit(name)} or normalize-space(.)=${lit(name)})`}]`,
  button: (name) => `//button[normalize-space(.)=${lit(name)} or @aria-label=${lit(name)}]`,
  field: (label) => `//label[starts-with(normalize-space(.), ${lit(label)})]//*[self::input or self::select]`,
  within: (outer, inner) => `(${outer})${inner.replace(/^\/\//, "//")}`,
};

async function raw(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json.value?.error) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The setup wizard: on a first run (no accounts) it opens by itself — checked here —
 * otherwise it comes from the toolbar's Add account. */
export async function openWizard(wd, firstRun) {
  const wizard = "//*[@role='dialog' and @aria-labelledby='wizard-title']";
  if (!firstRun) await wd.click(await wd.waitFor(by.button("Add account"), "the toolbar"));
  await wd.waitFor(wizard, firstRun ? "the wizard, opened by itself on the first run" : "the wizard");
}
