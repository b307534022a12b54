import { describe, expect, it } from "vitest";
import { clampWidth, fitWidths, loadWidths, saveWidths, DEFAULT_WIDTHS, READER_MIN } from "./panes";

function memory(): Storage {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k), clear: () => m.clear(), key: () => null, length: 0 } as Storage;
}

describe("pane widths", () => {
  it("stay within each pane's limits", () => {
    expect(clampWidth("tree", 20)).toBe(160);
    expect(clampWidth("list", 5000)).toBe(620);
    expect(clampWidth("list", Number.NaN)).toBe(DEFAULT_WIDTHS.list);
  });

  it("are remembered, and bad storage gives the defaults", () => {
    const s = memory();
    saveWidths({ tree: 300, list: 500 }, s);
    expect(loadWidths(s)).toEqual({ tree: 300, list: 500 });
    s.setItem("petrel.panes", "{not json");
    expect(loadWidths(s)).toEqual(DEFAULT_WIDTHS);
  });

  it("leave the reader its room in a small window: the list gives way first", () => {
    const fitted = fitWidths({ tree: 300, list: 600 }, 1000);
    expect(fitted.tree + fitted.list + READER_MIN).toBeLessThanOrEqual(1000);
    expect(fitted.tree).toBe(300);
    expect(fitWidths({ tree: 220, list: 380 }, 1400)).toEqual({ tree: 220, list: 380 });
  });
});
