import { describe, expect, it } from "vitest";
import { RowWindow, scrollGeometry, visibleStart, PAGE, MAX_PAGES } from "./rowWindow.svelte";
import type { Envelope } from "../bindings/Envelope";

const row = (i: number): Envelope => ({ uid: 100000 - i, from: `s${i}`, subject: `m${i}`, date: 0, seen: true, flagged: false, answered: false, has_attachment: false, size: 1 });

function fakeFolder(total: number) {
  const calls: number[] = [];
  const fetch = async (offset: number, limit: number) => {
    calls.push(offset);
    const rows = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(row(i));
    return { offset, total, rows, offline: false };
  };
  return { calls, fetch };
}

describe("RowWindow", () => {
  it("loads only the pages it is asked for, once", async () => {
    const f = fakeFolder(100_000);
    const w = new RowWindow(f.fetch);
    w.reset(await f.fetch(0, PAGE));
    await w.ensure(99_950, 99_999);
    await w.ensure(99_960, 99_999);
    expect(f.calls).toEqual([0, 99_800]);
    expect(w.at(99_999)?.subject).toBe("m99999");
    expect(w.at(50_000)).toBeUndefined();
  });

  it("keeps a bounded number of pages, dropping those farthest from where the user is", async () => {
    const f = fakeFolder(100_000);
    const w = new RowWindow(f.fetch);
    w.reset(await f.fetch(0, PAGE));
    for (let p = 1; p <= MAX_PAGES + 5; p++) await w.ensure(p * PAGE, p * PAGE + 10);
    const last = (MAX_PAGES + 5) * PAGE;
    expect(w.at(last)?.subject).toBe(`m${last}`);
    expect(w.at(0)).toBeUndefined();
    let loaded = 0;
    for (let i = 0; i <= last + PAGE; i++) if (w.at(i)) loaded++;
    expect(loaded).toBe(MAX_PAGES * PAGE);
    // Scrolling back loads the dropped page again.
    await w.ensure(0, 10);
    expect(w.at(0)?.subject).toBe("m0");
  });

  it("an answer that started before a refresh does not replace the refreshed rows", async () => {
    const f = fakeFolder(10);
    const w = new RowWindow(f.fetch);
    const token = w.token();
    const stale = { offset: 0, total: 1, rows: [row(0)], offline: false };
    await w.refresh(); // newer rows arrive meanwhile
    w.settle(token, stale);
    expect(w.total).toBe(10);
  });

  it("removing rows moves the later ones up", async () => {
    const f = fakeFolder(10);
    const w = new RowWindow(f.fetch);
    w.reset(await f.fetch(0, PAGE));
    w.remove(new Set([row(2).uid, row(3).uid]));
    expect(w.total).toBe(8);
    expect(w.at(2)?.subject).toBe("m4");
    expect(w.find(row(9).uid)?.index).toBe(7);
  });
});

describe("scroll geometry", () => {
  it("caps the scroll height and maps the end of the scroll to the last row", () => {
    const rows = 1_000_000, rowH = 52, view = 600;
    const { height, scale } = scrollGeometry(rows, rowH, view);
    expect(height).toBe(8_000_000);
    const end = visibleStart(height - view, scale, rowH);
    // The last screenful shows the last rows.
    expect(end.first + Math.ceil(view / rowH)).toBeGreaterThanOrEqual(rows - 1);
    expect(scrollGeometry(100, rowH, view).scale).toBe(1);
  });
});
