import { describe, expect, it } from "vitest";
import { defaultImapPort, formatFingerprint, formatKib, formatListDate } from "./format";

describe("format", () => {
  const now = new Date("2026-11-20T15:00:00Z");

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
