// The widths of the folder tree and the message list (the reader takes the rest), set by
// dragging the separators or with the arrow keys on them, remembered in the webview's
// storage. Limits keep every pane usable at the smallest window (1000 × 640).

export interface PaneWidths {
  tree: number;
  list: number;
}

export const PANE_LIMITS = { tree: [160, 360], list: [260, 620] } as const;
export const DEFAULT_WIDTHS: PaneWidths = { tree: 220, list: 380 };
/** What the reader keeps at least, whatever the other two ask. */
export const READER_MIN = 320;

const KEY = "petrel.panes";

export function clampWidth(pane: keyof PaneWidths, px: number): number {
  const [min, max] = PANE_LIMITS[pane];
  return Math.round(Math.min(max, Math.max(min, Number.isFinite(px) ? px : DEFAULT_WIDTHS[pane])));
}

/** Widths that leave the reader `READER_MIN` in a window `available` pixels wide: the list
 * gives way first, then the tree. */
export function fitWidths(w: PaneWidths, available: number): PaneWidths {
  let { tree, list } = w;
  const over = tree + list + READER_MIN - available;
  if (over > 0) list = Math.max(PANE_LIMITS.list[0], list - over);
  const still = tree + list + READER_MIN - available;
  if (still > 0) tree = Math.max(PANE_LIMITS.tree[0], tree - still);
  return { tree, list };
}

export function loadWidths(storage: Storage | undefined = globalThis.localStorage): PaneWidths {
  try {
    const saved = JSON.parse(storage?.getItem(KEY) ?? "{}") as Partial<PaneWidths>;
    return { tree: clampWidth("tree", saved.tree ?? DEFAULT_WIDTHS.tree), list: clampWidth("list", saved.list ?? DEFAULT_WIDTHS.list) };
  } catch {
    return { ...DEFAULT_WIDTHS };
  }
}

export function saveWidths(w: PaneWidths, storage: Storage | undefined = globalThis.localStorage) {
  storage?.setItem(KEY, JSON.stringify(w));
}
