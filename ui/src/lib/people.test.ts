import { describe, expect, it } from "vitest";
import { addressOf, addressedTo, colorFor, initials, PALETTE } from "./people";

describe("people", () => {
  it("takes initials from names, addresses and scripts whole", () => {
    expect(initials("Ana Lima")).toBe("AL");
    expect(initials("Ana Maria de Lima")).toBe("AL");
    expect(initials("ana@example.org")).toBe("A");
    expect(initials("Ana Lima <ana@example.org>")).toBe("AL");
    expect(initials("\"Lima, Ana\"")).toBe("LA");
    expect(initials("Émile Zola")).toBe("ÉZ");
    expect(initials("田中 太郎")).toBe("田太");
    expect(initials("😀 Smile")).toBe("😀S");
    expect(initials("   ")).toBe("?");
  });

  it("gives each address one colour from the palette, whatever its case", () => {
    expect(colorFor("Ana@Example.org")).toBe(colorFor("ana@example.org"));
    expect(PALETTE).toContain(colorFor("bob@example.org"));
    const spread = new Set(["a@x", "b@x", "c@x", "d@x", "e@x", "f@x", "g@x", "h@x"].map(colorFor));
    expect(spread.size).toBeGreaterThan(2);
  });

  it("knows mail addressed to the user", () => {
    expect(addressOf("Ana <ANA@example.org>")).toBe("ana@example.org");
    expect(addressedTo(["Me <me@example.org>", "bob@example.org"], ["ME@example.org"])).toBe(true);
    expect(addressedTo(["bob@example.org"], ["me@example.org", ""])).toBe(false);
  });
});
