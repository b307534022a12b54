import { describe, expect, it } from "vitest";
import { defaultImapPort, formatFingerprint, formatKib, formatListDate } from "./format";

describe("format", () => {
  const now = new Date("2026-11-20T15:00:00Z");

  it("dates rows as mail programs do: time today, Yesterday, weekday, day and month, then the year", () => {
    // Local noon on Friday 20 Nov 2026 (the rule counts calendar days where the user is).
    const friday = new Date(2026, 10, 20, 12, 0);
    const at = (y: number, m: number, d: number, h = 9, min = 44) => new Date(y, m - 1, d, h, min).getTime() / 1000;
    const table: [number, string][] = [
      [at(2026, 11, 20, 9, 44), "09:44"],
      [at(2026, 11, 20, 0, 5), "00:05"],
      [at(2026, 11, 19, 23, 59), "Yesterday"],
      [at(2026, 11, 17), "Tue"],
      [at(2026, 11, 14), "Sat"],
      [at(2026, 11, 13), "13 Nov"],
      [at(2026, 1, 2), "2 Jan"],
      [at(2025, 12, 31), "31 Dec 2025"],
      [at(2024, 11, 12), "12 Nov 2024"],
      [at(2026, 12, 1), "1 Dec"],
    ];
    for (const [when, shown] of table) expect(formatListDate(when, friday, "en-GB"), shown).toBe(shown);
    expect(formatListDate(at(2026, 11, 19), friday, "de-DE")).toBe("Gestern");
  });

  it("shows a time for today and a date for old mail", () => {
    const today = formatListDate(Date.parse("2026-11-20T09:30:00Z") / 1000, now);
    const old = formatListDate(Date.parse("2025-01-02T09:30:00Z") / 1000, now);
    expect(today).toMatch(/\d{1,2}[:.]\d{2}/);
    expect(old).toContain("2025");
    expect(formatListDate(null, now)).toBe("");
  });

  it("proposes the standard IMAP port for each security choice", () => {
    expect(defaultImapPort("tls")).toBe(993);
    expect(defaultImapPort("start_tls")).toBe(143);
  });

  it("groups fingerprints in colon-separated pairs for comparison", () => {
    expect(formatFingerprint("ab01ff")).toBe("AB:01:FF");
  });
});

describe("formatKib", () => {
  it("picks the unit people expect", () => {
    expect(formatKib(820)).toBe("820 KB");
    expect(formatKib(5.5 * 1024)).toBe("5.5 MB");
    expect(formatKib(12.4 * 1024)).toBe("12 MB");
    expect(formatKib(100 * 1024)).toBe("100 MB");
    expect(formatKib(1.5 * 1024 * 1024)).toBe("1.5 GB");
  });
});
