// Preferences of this window's user, kept in the webview's storage (they concern how the
// UI behaves, not the accounts, which live in the engine's settings file).
export type MarkRead = "immediately" | "after-delay" | "manually";

export interface Preferences {
  markRead: MarkRead;
  /** Seconds a message must stay open before it is marked read ("after-delay"). */
  markReadDelay: number;
  notifyNewMail: boolean;
  /** Three columns (tree, list, reader) or the list above the reader. */
  layout: "columns" | "stacked";
  /** List rows: roomier, or more of them on the screen. */
  density: "comfortable" | "compact";
  /** The composer as a large panel, or filling the window (toggled in the composer). */
  composer: "panel" | "full";
}

const KEY = "petrel.preferences";
export const DEFAULTS: Preferences = { markRead: "immediately", markReadDelay: 3, notifyNewMail: true, layout: "columns", density: "comfortable", composer: "panel" };

export function loadPreferences(storage: Storage | undefined = globalThis.localStorage): Preferences {
  try {
    return { ...DEFAULTS, ...JSON.parse(storage?.getItem(KEY) ?? "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

export function savePreferences(p: Preferences, storage: Storage | undefined = globalThis.localStorage) {
  storage?.setItem(KEY, JSON.stringify(p));
}
