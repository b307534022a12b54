// The message list's rows by position, fetched from the backend in pages as they scroll
// into view: a 100k-row folder never crosses the IPC boundary whole (DESIGN §2, §8).
import type { Envelope } from "../bindings/Envelope";
import type { Marked } from "../bindings/Marked";

export const PAGE = 200;
/** Pages kept loaded: a long scroll through 100k rows drops the pages it left behind, so
 * the webview's memory stays flat. */
export const MAX_PAGES = 12;

/** Where a row sits in the conversation view (absent in plain lists). */
export type ThreadMark = {
  key: string;
  depth: number;
  /** The conversation's first row; `count` and `unread` are the conversation's. */
  head: boolean;
  count: number;
  unread: number;
  expanded: boolean;
  /** Newest date in the conversation (on its first row). */
  latest: number | null;
  /** The folder the message lives in when it is not the list's (own replies in Sent). */
  elsewhere: string | null;
};

/** A search result's extras: its matched words, where it lives, whether only the server has it. */
export type HitMark = {
  subject: Marked[];
  snippet: Marked[];
  place: string;
  onServer: boolean;
};

/** What a row gets after it is painted (see `RowExtra`). */
export type RowExtras = { preview?: string; to?: string; undated?: boolean };

export type ListRow = Envelope & { thread?: ThreadMark; hit?: HitMark } & RowExtras;

export type RowPage = { offset: number; total: number; rows: ListRow[]; offline?: boolean };

export type FetchPage = (offset: number, limit: number) => Promise<RowPage>;

export class RowWindow {
  total = $state(0);
  /** Bumped on every change; readers touch it to re-render. */
  version = $state(0);
  #rows = new Map<number, ListRow>();
  #inflight = new Set<number>();
  #generation = 0;
  #fetch: FetchPage;
  #decorate: (row: ListRow) => void;

  /** `decorate` adds what comes apart from the page (preview lines) to each row loaded. */
  constructor(fetch: FetchPage, decorate: (row: ListRow) => void = () => {}) {
    this.#fetch = fetch;
    this.#decorate = decorate;
  }

  at(i: number): ListRow | undefined {
    void this.version;
    return this.#rows.get(i);
  }

  /** The loaded row with `uid`, and its position. */
  find(uid: number | null): { index: number; row: ListRow } | null {
    void this.version;
    if (uid === null) return null;
    for (const [index, row] of this.#rows) if (row.uid === uid) return { index, row };
    return null;
  }

  /** Replaces everything with `page` (a new folder, or a reload). */
  reset(page: RowPage | null) {
    this.#generation++;
    this.#rows.clear();
    this.#inflight.clear();
    this.total = page?.total ?? 0;
    if (page) this.fill(page);
    else this.version++;
  }

  /** Taken before a load starts; see `settle`. */
  token(): number {
    return this.#generation;
  }

  /** Applies a load's answer unless the rows changed since `token` (a refresh after a
   * change elsewhere brought newer ones: the older answer must not replace them). */
  settle(token: number, page: RowPage) {
    if (token === this.#generation) this.reset(page);
  }

  fill(page: RowPage) {
    this.total = page.total;
    page.rows.forEach((row, k) => {
      this.#decorate(row);
      this.#rows.set(page.offset + k, row);
    });
    this.version++;
  }

  /** Applies `decorate` again to every loaded row (what it adds has changed). */
  redecorate() {
    for (const [i, row] of this.#rows) {
      // A new object: the list's keyed rows re-render only when their row changes.
      const next = { ...row };
      this.#decorate(next);
      this.#rows.set(i, next);
    }
    this.version++;
  }

  /** Loads the pages covering positions first..last that are not loaded or loading. */
  async ensure(first: number, last: number) {
    const generation = this.#generation;
    const lastRow = Math.min(last, this.total - 1);
    const jobs: Promise<void>[] = [];
    for (let p = Math.floor(Math.max(0, first) / PAGE); p * PAGE <= lastRow; p++) {
      if (this.#inflight.has(p) || this.#pageLoaded(p)) continue;
      this.#inflight.add(p);
      jobs.push(
        this.#fetch(p * PAGE, PAGE)
          .then((page) => {
            if (generation === this.#generation) {
              this.fill(page);
              this.#evict(Math.floor(first / PAGE));
            }
          })
          .catch(() => {
            // The next scroll asks again.
          })
          // A reset or refresh since cleared the set; p may be asked again by then.
          .finally(() => {
            if (generation === this.#generation) this.#inflight.delete(p);
          }),
      );
    }
    await Promise.all(jobs);
  }

  /** Reloads the loaded pages (after a change elsewhere), keeping the scroll position. */
  async refresh() {
    const pages = new Set([...this.#rows.keys()].map((i) => Math.floor(i / PAGE)));
    if (pages.size === 0) pages.add(0);
    const generation = ++this.#generation;
    // Loads under way belong to the rows being replaced: their answers are dropped.
    this.#inflight.clear();
    const answers = await Promise.all([...pages].map((p) => this.#fetch(p * PAGE, PAGE).catch(() => null)));
    if (generation !== this.#generation) return;
    this.#rows.clear();
    for (const page of answers) if (page) this.fill(page);
    this.version++;
  }

  patch(uid: number, changes: Partial<Envelope>) {
    const hit = this.find(uid);
    if (!hit) return;
    this.#rows.set(hit.index, { ...hit.row, ...changes });
    this.version++;
  }

  /** Takes rows out (moved, deleted): later rows move up. */
  remove(uids: Set<number>) {
    const entries = [...this.#rows].sort((a, b) => a[0] - b[0]);
    this.#rows.clear();
    let removed = 0;
    for (const [i, row] of entries) {
      if (uids.has(row.uid)) {
        removed++;
        continue;
      }
      this.#rows.set(i - removed, row);
    }
    this.total = Math.max(0, this.total - removed);
    this.version++;
  }

  /** Drops the loaded pages farthest from `center` beyond the first MAX_PAGES. */
  #evict(center: number) {
    const pages = [...new Set([...this.#rows.keys()].map((i) => Math.floor(i / PAGE)))];
    if (pages.length <= MAX_PAGES) return;
    pages.sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    const drop = new Set(pages.slice(0, pages.length - MAX_PAGES));
    for (const i of [...this.#rows.keys()]) if (drop.has(Math.floor(i / PAGE))) this.#rows.delete(i);
    this.version++;
  }

  #pageLoaded(p: number): boolean {
    const end = Math.min(this.total, (p + 1) * PAGE);
    for (let i = p * PAGE; i < end; i++) if (!this.#rows.has(i)) return false;
    return true;
  }
}

/** Scroll geometry for `total` rows of `rowHeight` in a viewport of `viewport` px, with the
 * scrollable height capped at `maxHeight` (browsers stop at ~16.7M px; 100k rows × 52 px
 * is 5.2M, a million would not fit): `scale` maps scroll pixels to row pixels. */
export function scrollGeometry(total: number, rowHeight: number, viewport: number, maxHeight = 8_000_000) {
  const full = total * rowHeight;
  const height = Math.min(full, maxHeight);
  const scale = full > height && height > viewport ? (full - viewport) / (height - viewport) : 1;
  return { height, scale };
}

/** First visible row and its pixel offset for a scroll position. */
export function visibleStart(scrollTop: number, scale: number, rowHeight: number) {
  const virtualTop = scrollTop * scale;
  const first = Math.floor(virtualTop / rowHeight);
  return { first, offset: first * rowHeight - virtualTop };
}
