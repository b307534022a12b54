import { describe, expect, it } from "vitest";
import { allowRemoteFrom, linkify, messageDocument, remoteAllowedSenders, remoteGrantKey, textBlocks } from "./reader";

describe("messageDocument", () => {
  it("turns off DNS prefetch of link hosts (a lookup would confirm the address is read)", () => {
    expect(messageDocument("<a href='https://t.example/x'>x</a>", false)).toContain('<meta http-equiv="x-dns-prefetch-control" content="off">');
  });
  it("forbids every fetch but inline images unless remote content is allowed", () => {
    const blocked = messageDocument("<p>x</p>", false);
    expect(blocked).toContain("default-src 'none'");
    expect(blocked).toContain("img-src data:;");
    expect(messageDocument("<p>x</p>", true)).toContain("img-src data: http: https:;");
  });
});

describe("linkify", () => {
  it("makes web and mailto links clickable and leaves the rest as text", () => {
    const pieces = linkify("See https://example.org/a?b=1. Or mailto:ana@example.org, not javascript:alert(1)");
    expect(pieces.filter((p) => p.href).map((p) => p.href)).toEqual(["https://example.org/a?b=1", "mailto:ana@example.org"]);
    expect(pieces.map((p) => p.text).join("")).toBe("See https://example.org/a?b=1. Or mailto:ana@example.org, not javascript:alert(1)");
  });
});

describe("remote content senders", () => {
  it("remembers senders case-insensitively", () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => data.set(k, v) } as unknown as Storage;
    allowRemoteFrom("News@Example.org", storage);
    expect(remoteAllowedSenders(storage).has("news@example.org")).toBe(true);
  });
});

describe("remote content for one message", () => {
  const m = { uid: 42, date: 1_700_000_000, from: "Shop <news@shop.example>", subject: "Offers" };
  it("is granted to that message, not to every message with the same UID", () => {
    const granted = remoteGrantKey("work", "INBOX", m);
    expect(remoteGrantKey("work", "INBOX", { ...m })).toBe(granted);
    expect(remoteGrantKey("work", "Junk", m)).not.toBe(granted);
    expect(remoteGrantKey("home", "INBOX", m)).not.toBe(granted);
    // Same folder and UID after a UIDVALIDITY change: another message.
    expect(remoteGrantKey("work", "INBOX", { ...m, subject: "Tracking", from: "x@evil.example" })).not.toBe(granted);
  });
});

describe("plain text blocks", () => {
  it("part the sender's words from quoted text, line for line", () => {
    const blocks = textBlocks("Yes, nine.\n\n> Shall we\n> meet?\n>> older\nBo");
    expect(blocks.map((b) => [b.quoted, b.lines])).toEqual([[false, 2], [true, 3], [false, 1]]);
    expect(blocks.map((b) => b.text).join("\n")).toBe("Yes, nine.\n\n> Shall we\n> meet?\n>> older\nBo");
  });
});
