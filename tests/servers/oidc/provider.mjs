// A real OpenID Connect provider on loopback for Petrel's sign-in tests: npm
// `oidc-provider` (certified OP), with its development login and consent pages, which the
// tests' "browser" (browser.mjs) fills in as a person would. Dovecot validates the access
// tokens it issues through token introspection.
//
//   node tests/servers/oidc/provider.mjs          prints "READY <issuer>" when listening
//
// Environment: OIDC_PORT (0: any free port), OIDC_ACCESS_TTL (seconds, default 3600),
// OIDC_BIG_TOKENS=1 (access tokens of about 2.3 KB, like Microsoft's 1–2.5 KB ones),
// OIDC_INTROSPECTION_SECRET (the secret Dovecot's introspection client uses).
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 0);
const accessTtl = Number(process.env.OIDC_ACCESS_TTL ?? 3600);
const big = process.env.OIDC_BIG_TOKENS === "1";
const introspectionSecret = process.env.OIDC_INTROSPECTION_SECRET ?? "dovecot-introspection";
// The mail servers' resource: tokens for it are what IMAP, POP3 and SMTP accept.
const MAIL = "urn:petrel:mail";

const { createServer } = await import("node:http");
const server = createServer();
await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      // Petrel: a native public client (RFC 8252): loopback redirect on any port, PKCE.
      client_id: "petrel-test",
      application_type: "native",
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1/oauth/callback"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    },
    {
      // Dovecot's passdb oauth2: only introspects.
      client_id: "dovecot",
      client_secret: introspectionSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "email", "offline_access", "mail"],
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  // Any login the form is given is an account; its address is the login.
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: id, email_verified: true }),
  }),
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => MAIL,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== MAIL) throw new Error("unknown resource");
        // Opaque, so Dovecot can introspect it (structured JWTs can't be introspected).
        return { scope: "mail offline_access", accessTokenFormat: "opaque" };
      },
    },
  },
  // A refresh token whenever the client may use one (offline_access is asked for too).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  // Microsoft's access tokens are 1–2.5 KB: long opaque ones here (2,300 characters) meet
  // the paths where a line gets too long.
  formats: {
    bitsOfOpaqueRandomness: (_ctx, token) => (big && token.kind === "AccessToken" ? 2300 * 6 : 256),
  },
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
  },
});
provider.proxy = false;
server.on("request", provider.callback());
process.stdout.write(`READY ${issuer}\n`);
