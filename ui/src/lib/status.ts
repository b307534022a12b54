import type { AccountSettings } from "../bindings/AccountSettings";
import type { AccountStatus } from "../bindings/AccountStatus";

/** One line for the status bar: which accounts are not connected, and why, and how many
 * actions wait for a server. Null when everything is fine. */
export function statusLine(accounts: AccountSettings[], statuses: Record<string, AccountStatus>): string | null {
  const parts: string[] = [];
  for (const a of accounts) {
    const s = statuses[a.id];
    if (!s) continue;
    const name = a.display_name || a.email;
    const waiting = s.pending_actions > 0 ? ` (${s.pending_actions} change${s.pending_actions === 1 ? "" : "s"} waiting)` : "";
    if (s.state === "offline") {
      const retry = s.retry_in_seconds ? `, retrying in ${s.retry_in_seconds} s` : "";
      parts.push(`${name}: offline${retry}${waiting}`);
    } else if (s.state === "auth_failed") {
      parts.push(`${name}: the server refused the password${waiting}`);
    } else if (s.state === "sign_in_again") {
      parts.push(`${name}: sign in again (your sign-in expired or was revoked)${waiting}`);
    } else if (s.state === "certificate_problem") {
      parts.push(`${name}: certificate or TLS problem${waiting}`);
    } else if (waiting) {
      parts.push(`${name}:${waiting}`);
    }
  }
  return parts.length ? parts.join(" · ") : null;
}
