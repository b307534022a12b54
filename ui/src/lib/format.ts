/** Calendar days from `d` to `now` in local time (0 today, 1 yesterday; negative ahead). */
function daysBefore(d: Date, now: Date): number {
  const day = (x: Date) => Date.UTC(x.getFullYear(), x.getMonth(), x.getDate());
  return Math.round((day(now) - day(d)) / 86_400_000);
}

/** A list row's date, as mail programs write it: "09:44" today, "Yesterday", "Tue" within
 * the week, "12 Nov" this year, "12 Nov 2024" before (in the user's language and order). */
export function formatListDate(epochSeconds: number | null, now: Date = new Date(), locale?: string): string {
  if (epochSeconds === null) return "";
  const d = new Date(epochSeconds * 1000);
  const days = daysBefore(d, now);
  if (days === 0) return d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (days === 1) {
    const word = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(-1, "day");
    return word.charAt(0).toLocaleUpperCase(locale) + word.slice(1);
  }
  if (days > 1 && days < 7) return d.toLocaleDateString(locale, { weekday: "short" });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(locale, { day: "numeric", month: "short" });
  return d.toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
}

export function formatFullDate(epochSeconds: number | null): string {
  if (epochSeconds === null) return "(no date)";
  return new Date(epochSeconds * 1000).toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

/** The usual port for a security choice: what the form proposes when the user switches. */
export function defaultImapPort(security: "tls" | "start_tls"): number {
  return security === "tls" ? 993 : 143;
}

/** Groups a hex fingerprint in pairs so a person can compare it: "ab:cd:…". */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{1,2}/g) ?? []).join(":");
}

/** A size in KiB as people read it: "820 KB", "12.4 MB", "1.5 GB" (1 KB = 1024 bytes). */
export function formatKib(kib: number): string {
  if (kib < 1024) return `${Math.round(kib)} KB`;
  const mib = kib / 1024;
  if (mib < 1024) return `${mib < 10 ? mib.toFixed(1) : Math.round(mib)} MB`;
  const gib = mib / 1024;
  return `${gib < 10 ? gib.toFixed(1) : Math.round(gib)} GB`;
}

/** "1,500 of 100,000" with the user's digit grouping. */
export function formatProgress(done: number, total: number): string {
  return `${done.toLocaleString()} of ${total.toLocaleString()}`;
}
