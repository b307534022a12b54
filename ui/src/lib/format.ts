/** List date: time for today, weekday+time within a week, else the date. */
export function formatListDate(epochSeconds: number | null, now: Date = new Date()): string {
  if (epochSeconds === null) return "";
  const d = new Date(epochSeconds * 1000);
  const sameDay = d.toDateString() === now.toDateString();
  if (sameDay) return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const ageDays = (now.getTime() - d.getTime()) / 86_400_000;
  if (ageDays >= 0 && ageDays < 6)
    return d.toLocaleDateString(undefined, { weekday: "short" }) + " " +
      d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
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
