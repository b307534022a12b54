import { describe, expect, it } from "vitest";
import { statusLine } from "./status";
import type { AccountSettings } from "../bindings/AccountSettings";

const account = (id: string, name: string): AccountSettings => ({
  id,
  display_name: name,
  email: `${id}@example.org`,
  imap: { host: "h", port: 993, security: "tls", username: id, pinned_cert_sha256: null },
  sync: { window_days: null, keep_offline: false, notify: true },
  protocol: "imap",
  pop3: { leave_on_server: "days", leave_days: 14, delete_when_deleted_here: true, headers_only: false, large_over_kib: null, check_minutes: 10 },
  smtp: null,
  sending: { signature: "", identities: [], server_files_sent: false },
  sign_in: { kind: "password" },
});

describe("statusLine", () => {
  it("is empty when every account is online with nothing waiting", () => {
    const s = { a: { account: "a", state: "online", message: null, retry_in_seconds: null, pending_actions: 0 } } as const;
    expect(statusLine([account("a", "Work")], { ...s })).toBeNull();
  });

  it("names offline and refused accounts with what waits", () => {
    const line = statusLine([account("a", "Work"), account("b", "Home")], {
      a: { account: "a", state: "offline", message: "x", retry_in_seconds: 8, pending_actions: 2 },
      b: { account: "b", state: "auth_failed", message: "no", retry_in_seconds: 900, pending_actions: 0 },
    });
    expect(line).toBe("Work: offline, retrying in 8 s (2 changes waiting) · Home: the server refused the password");
  });

  it("asks an OAuth2 account whose sign-in ended to sign in again, with what waits", () => {
    const line = statusLine([account("a", "Work")], {
      a: { account: "a", state: "sign_in_again", message: "x", retry_in_seconds: 900, pending_actions: 1 },
    });
    expect(line).toBe("Work: sign in again (your sign-in expired or was revoked) (1 change waiting)");
  });
});
