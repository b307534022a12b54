import { describe, expect, it } from "vitest";
import { complete, completions, lastWord } from "./search";

describe("search completion", () => {
  it("completes the operator being typed at the end", () => {
    expect(lastWord("budget fr")).toBe("fr");
    expect(completions("budget fr").map((c) => c.op)).toEqual(["from:"]);
    expect(completions("is:").map((c) => c.op)).toEqual(["is:unread", "is:read", "is:flagged", "is:answered"]);
    expect(completions("budget ")).toEqual([]);
    expect(completions("from:ana")).toEqual([]);
  });
  it("keeps a minus and puts a space after a finished operator", () => {
    expect(complete("plan -ha", "has:attachment")).toBe("plan -has:attachment ");
    expect(complete("plan fr", "from:")).toBe("plan from:");
  });
});
