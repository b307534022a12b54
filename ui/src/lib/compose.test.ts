import { describe, expect, it } from "vitest";
import { base64Size, chipLabel, completeLast, lastToken, looksLikeAddress, splitAddresses, splitKeepingRest, swapSignature, textToHtml, withSignature } from "./compose";

describe("addresses typed as text", () => {
  it("splits on commas and semicolons and completes the last one", () => {
    expect(splitAddresses("a@x, Bob <b@y>; ,c@z")).toEqual(["a@x", "Bob <b@y>", "c@z"]);
    expect(lastToken("a@x, bo")).toBe("bo");
    expect(lastToken("bo")).toBe("bo");
    expect(completeLast("a@x, bo", "Bob <b@y>")).toBe("a@x, Bob <b@y>, ");
    expect(completeLast("bo", "Bob <b@y>")).toBe("Bob <b@y>, ");
  });
});

describe("signatures", () => {
  it("go above a quote, and are swapped in place when the sender changes", () => {
    const reply = "\n\nOn Monday, Ana wrote:\n> hi\n";
    const body = withSignature(reply, "Alice");
    expect(body.startsWith("\n\n-- \nAlice\n")).toBe(true);
    expect(body.endsWith(reply)).toBe(true);
    const swapped = swapSignature(`Text${body}`, "Alice", "Alice at work");
    expect(swapped).toContain("-- \nAlice at work\n");
    expect(swapped).not.toContain("-- \nAlice\n");
    expect(swapSignature("Text", "", "")).toBe("Text");
    expect(withSignature("", "")).toBe("");
  });
});

describe("sizes and rich text", () => {
  it("measures base64 and turns text into paragraphs safely", () => {
    expect(base64Size(btoa("hello"))).toBe(5);
    expect(base64Size(btoa("hell"))).toBe(4);
    expect(textToHtml("a <b>\nc\n\nd")).toBe("<p>a &lt;b&gt;<br>c</p><p>d</p>");
  });
});

describe("recipients as chips", () => {
  it("splits on commas outside quotes and angle brackets", () => {
    expect(splitAddresses('"Lima, Ana" <ana@x>, b@y')).toEqual(['"Lima, Ana" <ana@x>', "b@y"]);
    expect(splitKeepingRest("a@x, Bob <b@y>, bo")).toEqual({ done: ["a@x", "Bob <b@y>"], rest: "bo" });
    expect(splitKeepingRest("a@x, ")).toEqual({ done: ["a@x"], rest: "" });
  });
  it("labels a chip by name and knows what cannot be an address", () => {
    expect(chipLabel("Ana Lima <ana@x>")).toBe("Ana Lima");
    expect(chipLabel('"Lima, Ana" <ana@x>')).toBe("Lima, Ana");
    expect(chipLabel("<ana@x>")).toBe("ana@x");
    expect(chipLabel("bob@y")).toBe("bob@y");
    expect(looksLikeAddress("Ana <ana@x>")).toBe(true);
    expect(looksLikeAddress("bob")).toBe(false);
    expect(looksLikeAddress("a b@x")).toBe(false);
  });
});
