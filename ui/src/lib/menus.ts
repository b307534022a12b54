// What a context menu offers: items (with an optional key and a check mark for toggles)
// and separators. Built by `Actions` for a message, a folder or an account.
export type MenuEntry =
  | "separator"
  | { label: string; run: () => void; shortcut?: string; disabled?: boolean; danger?: boolean; checked?: boolean };

export type OpenMenu = { x: number; y: number; label: string; items: MenuEntry[] };
