// The tests' "system browser" for sign-in: Petrel opens the authorization URL with this
// (PETREL_OAUTH_BROWSER="node tests/servers/oidc/browser.mjs"), and it does what a person
// would: follows the redirects, signs in on the provider's login page, allows access on its
// consent page, and lands on Petrel's loopback redirect, whose answer it prints.
//
//   node browser.mjs <authorization URL>
// Environment: OIDC_LOGIN (the account to sign in as, default alice@example.test),
// OIDC_BROWSER_ACTION=deny (press "Cancel" on the consent page instead).
const start = process.argv[2];
if (!start) {
  console.error("usage: browser.mjs <url>");
  process.exit(2);
}
const login = process.env.OIDC_LOGIN ?? "alice@example.test";
const deny = process.env.OIDC_BROWSER_ACTION === "deny";
const jar = new Map();

function remember(res, url) {
  for (const line of res.headers.getSetCookie?.() ?? []) {
    const [pair] = line.split(";");
    const [name, ...rest] = pair.split("=");
    jar.set(name.trim(), rest.join("="));
  }
  void url;
}
const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

async function go(url, init = {}) {
  for (let hops = 0; hops < 20; hops++) {
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers ?? {}), cookie: cookies() } });
    remember(res, url);
    const next = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && next) {
      url = new URL(next, url).toString();
      init = {};
      continue;
    }
    return { url, res, body: await res.text() };
  }
  throw new Error("too many redirects");
}

// The page's first form: its action and hidden inputs.
function form(html, pageUrl) {
  const m = html.match(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/);
  if (!m) return null;
  const fields = {};
  for (const input of m[2].matchAll(/<input[^>]*>/g)) {
    const name = input[0].match(/name="([^"]+)"/)?.[1];
    const value = input[0].match(/value="([^"]*)"/)?.[1] ?? "";
    if (name) fields[name] = value;
  }
  return { action: new URL(m[1].replaceAll("&amp;", "&"), pageUrl).toString(), fields };
}

let page = await go(start);
for (let step = 0; step < 5; step++) {
  const f = form(page.body, page.url);
  if (!f) break;
  if (f.fields.prompt === "login" || "login" in f.fields) {
    f.fields.login = login;
    f.fields.password = "any";
  }
  // "Cancel" on the consent page is a link to the interaction's abort address.
  if (deny && f.fields.prompt === "consent") {
    page = await go(`${f.action.replace(/\/$/, "")}/abort`);
    break;
  }
  page = await go(f.action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(f.fields).toString(),
  });
}
process.stdout.write(`${page.res.status} ${page.url}\n${page.body}\n`);
