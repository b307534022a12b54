// The window's keys (Thunderbird's letters where it has them); the list's own keys (arrows,
// Home/End, Enter, Ctrl+A) are MessageList's. Also in the shortcuts dialog and the README.
import type { Actions } from "./actions";

/** Handles a key pressed anywhere in the window; dialogs and text fields keep their keys. */
export function onShortcut(e: KeyboardEvent, act: Actions) {
  const { mailbox: m, dialogs } = act;
  const target = e.target as HTMLElement | null;
  // Ctrl+K (⌘K) goes to the search box from anywhere but a dialog.
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k" && !dialogs.anyOpen) {
    const box = document.querySelector<HTMLInputElement>("[data-search-box]");
    if (box) {
      e.preventDefault();
      box.focus();
      box.select();
    }
    return;
  }
  if (e.key === "Escape" && (m.search || m.cameFromSearch) && !dialogs.anyOpen && !target?.closest("input, select, textarea, [role=dialog]")) {
    e.preventDefault();
    if (m.search) m.endSearch();
    else m.backToSearch();
    return;
  }
  if (dialogs.anyOpen || e.ctrlKey || e.metaKey || e.altKey || target?.closest("input, select, textarea, [role=dialog]")) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const handled = (run: () => unknown) => {
    e.preventDefault();
    run();
  };
  if (e.key === "?") return handled(() => (dialogs.shortcuts = true));
  if (e.key === "/") {
    const box = document.querySelector<HTMLInputElement>("[data-search-box]");
    if (box) handled(() => box.focus());
    return;
  }
  if (key === "Delete" && m.selected.size > 0) return handled(() => act.delete(e.shiftKey));
  if (key === "a" && !e.shiftKey && m.selected.size > 1) return handled(act.archive);
  const row = m.rows.find(m.selectedUid)?.row;
  if (!row) return;
  const src = m.source(m.selectedUid);
  const openFolder = src ? act.accounts.get(src.account)?.folder(src.folder) : null;
  if (key === "r") return handled(() => act.composeFromOpen(e.shiftKey ? "reply_all" : "reply"));
  if (key === "e" && openFolder?.role === "drafts") return handled(act.editDraft);
  // M toggles read, S toggles the flag (star).
  if (key === "m") return handled(() => m.changeFlags(row.uid, !row.seen, null));
  if (key === "s") return handled(() => m.changeFlags(row.uid, null, !row.flagged));
  if (key === "a") return handled(act.archive);
}
