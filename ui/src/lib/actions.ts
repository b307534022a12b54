// What the user does, as functions over the stores (gg's "mutators"): the optimistic list
// change, the backend call, and what follows. Components call these; none holds state.
import { ipc } from "./ipc";
import type { MenuEntry } from "./menus";
import { byFolder, type Source } from "./sources";
import type { Accounts } from "./state/accounts.svelte";
import type { Dialogs } from "./state/dialogs.svelte";
import type { Mailbox } from "./state/mailbox.svelte";
import type { Status } from "./state/status.svelte";
import type { ActionOutcome } from "../bindings/ActionOutcome";
import type { AccountSettings } from "../bindings/AccountSettings";
import type { ComposeKind } from "../bindings/ComposeKind";
import type { Composition } from "../bindings/Composition";
import type { Pop3Options } from "../bindings/Pop3Options";
import type { SendingOptions } from "../bindings/SendingOptions";
import type { ServerSettings } from "../bindings/ServerSettings";
import type { SyncOptions } from "../bindings/SyncOptions";

const EMPTY: Composition = { from: "", to: [], cc: [], bcc: [], subject: "", body: "", html: null, in_reply_to: null, references: [], attachments: [], message_id: null, answers: null };

export class Actions {
  readonly accounts: Accounts;
  readonly mailbox: Mailbox;
  readonly status: Status;
  readonly dialogs: Dialogs;

  constructor(accounts: Accounts, mailbox: Mailbox, status: Status, dialogs: Dialogs) {
    this.accounts = accounts;
    this.mailbox = mailbox;
    this.status = status;
    this.dialogs = dialogs;
  }

  // --- messages ------------------------------------------------------------------------

  /** Archive, delete, move of the selected messages: the rows leave the list at once and
   * the next message opens; if the engine refuses, the folder reloads to the server's state. */
  async removeSelected(label: string, run: (account: string, folder: string, uids: number[]) => Promise<ActionOutcome>) {
    const m = this.mailbox;
    const sel = m.selection;
    const view = m.unified;
    const uids = [...m.selected];
    const sources = uids.map((u) => m.source(u)).filter((s): s is Source => s !== null);
    if (sources.length === 0) return;
    const firstIndex = Math.min(...uids.map((u) => m.rows.find(u)?.index ?? Infinity));
    m.rows.remove(new Set(uids));
    m.message = null;
    m.selectedUid = null;
    m.selected = new Set();
    // One call per account and folder (a unified view mixes them).
    const outcomes = await this.status.task(label, () => Promise.all(byFolder(sources).map((g) => run(g.account, g.folder, g.uids))));
    const still = () => m.selection === sel && m.unified === view;
    if (outcomes) {
      outcomes.forEach((o) => this.accounts.applyOutcome(o));
      if (outcomes.some((o) => o.pending > 0)) this.status.notice = `${label.replace("…", "")}: saved here, will reach the server when it can be reached`;
    } else if (still()) {
      await m.loadPage(0);
      return;
    }
    const nextIndex = Math.min(Number.isFinite(firstIndex) ? firstIndex : 0, m.rows.total - 1);
    const next = m.rows.at(nextIndex);
    if (next && still() && m.selectedUid === null) {
      m.selected = new Set([next.uid]);
      m.focusIndex = nextIndex;
      m.openMessage(next.uid);
    }
  }

  archive = () => this.removeSelected("Archiving…", (a, f, u) => ipc.archiveMessages(a, f, u));

  move = (to: string) => this.removeSelected(`Moving to ${to}…`, (a, f, u) => ipc.moveMessages(a, f, u, to));

  /** Delete moves to the Trash. Deleting for good (in a Trash, or Shift+Delete) always asks
   * first, once for the whole selection, and says when this computer has the only copy. */
  delete = (forGood = false) => {
    const m = this.mailbox;
    const sources = [...m.selected].map((u) => m.source(u)).filter((s): s is Source => s !== null);
    if (sources.length === 0) return;
    const inTrash = sources.some((s) => this.accounts.get(s.account)?.folder(s.folder)?.role === "trash");
    if (forGood || inTrash) {
      const onlyCopy = sources.some((s) => {
        const a = this.accounts.get(s.account)?.settings;
        return a?.protocol === "pop3" && a.pop3.leave_on_server === "never";
      });
      this.dialogs.confirmingDelete = { count: sources.length, onlyCopy };
      return;
    }
    this.removeSelected("Deleting…", (a, f, u) => ipc.deleteMessages(a, f, u, "to_trash"));
  };

  deleteForGood = () => {
    this.dialogs.confirmingDelete = null;
    this.removeSelected("Deleting permanently…", (a, f, u) => ipc.deleteMessages(a, f, u, "permanently"));
  };

  /** Rows dragged onto a folder of the same account are moved there. */
  drop = (account: string, path: string, dragged: { account: string; folder: string; uids: number[] }) => {
    const sel = this.mailbox.selection;
    if (dragged.account !== account) {
      this.status.notice = "Messages can be moved between folders of the same account.";
      return;
    }
    if (dragged.folder === path || !sel || sel.account !== account || sel.folder !== dragged.folder) return;
    this.mailbox.selected = new Set(dragged.uids);
    this.removeSelected(`Moving to ${path}…`, (a, f, u) => ipc.moveMessages(a, f, u, path));
  };

  /** Get mail: folder trees and statuses again, and the open folder or view from the server. */
  getMail = async () => {
    for (const a of this.accounts.list) await this.accounts.loadFolders(a.id);
    for (const a of this.accounts.list) this.accounts.refreshStatus(a.id);
    if (this.mailbox.selection || this.mailbox.unified) await this.mailbox.loadPage(0, true);
  };

  // --- folders -------------------------------------------------------------------------

  folderEdit = async (kind: "create" | "rename" | "delete", value: string) => {
    const d = this.dialogs.folder;
    if (!d) return;
    this.dialogs.folder = null;
    const account = this.accounts.get(d.account);
    const run =
      kind === "create"
        ? () => ipc.createFolder(d.account, d.path ? `${d.path}${account?.delimiter() ?? "/"}${value}` : value)
        : kind === "rename"
          ? () => ipc.renameFolder(d.account, d.path, value)
          : () => ipc.deleteFolder(d.account, d.path);
    const label = kind === "create" ? `Creating ${value}…` : kind === "rename" ? `Renaming ${d.path}…` : `Deleting ${d.path}…`;
    const list = await this.status.task(label, run, () => this.folderEdit(kind, value));
    if (!list) return;
    this.accounts.setFolders(d.account, list);
    const sel = this.mailbox.selection;
    if (kind !== "create" && sel?.account === d.account && sel.folder === d.path) {
      await this.mailbox.show({ folder: { account: d.account, folder: kind === "rename" ? value : "INBOX" } });
    }
  };

  /** The selected folder, or the one a context menu names. */
  #target(at?: { account: string; folder: string }) {
    return at ?? this.mailbox.selection;
  }

  toggleSubscription = async (at?: { account: string; folder: string }) => {
    const sel = this.#target(at);
    const f = sel ? this.accounts.get(sel.account)?.folder(sel.folder) : null;
    if (!sel || !f) return;
    const list = await this.status.task(f.subscribed ? `Unsubscribing ${f.path}…` : `Subscribing ${f.path}…`, () => ipc.setSubscribed(sel.account, f.path, !f.subscribed));
    if (list) this.accounts.setFolders(sel.account, list);
  };

  markAllRead = async (at?: { account: string; folder: string }) => {
    const sel = this.#target(at);
    if (!sel) return;
    const outcome = await this.status.task(`Marking ${sel.folder} read…`, () => ipc.markAllRead(sel.account, sel.folder));
    if (!outcome) return;
    this.accounts.applyOutcome(outcome);
    const open = this.mailbox.selection;
    if (open && !this.mailbox.unified && open.account === sel.account && open.folder === sel.folder) await this.mailbox.rows.refresh();
    this.status.notice = `Every message in ${sel.folder} is marked read`;
  };

  exportFolder = async (at?: { account: string; folder: string }) => {
    const sel = this.#target(at);
    if (!sel) return;
    const result = await this.status.task(`Exporting ${sel.folder}…`, () => ipc.exportFolder(sel.account, sel.folder));
    if (result && result[1]) this.status.notice = `${result[0]} message${result[0] === 1 ? "" : "s"} exported to ${result[1]}`;
  };

  exportFolderMbox = async (at?: { account: string; folder: string }) => {
    const sel = this.#target(at);
    if (!sel) return;
    const result = await this.status.task(`Exporting ${sel.folder} as mbox…`, () => ipc.exportFolderMbox(sel.account, sel.folder));
    if (result && result[1]) this.status.notice = `${result[0]} message${result[0] === 1 ? "" : "s"} exported to ${result[1]}`;
  };

  // --- context menus ---------------------------------------------------------------------

  /** A folder's menu: what can be done to it (special folders keep their names). */
  folderMenu = (account: string, path: string, showAll: { on: boolean; toggle: () => void }): MenuEntry[] => {
    const acc = this.accounts.get(account);
    const f = acc?.folder(path);
    const at = { account, folder: path };
    const special = !f || f.role !== null;
    const entries: MenuEntry[] = [
      { label: "Open", run: () => this.mailbox.show({ folder: at }) },
      { label: "Mark all read", disabled: !f?.unread, run: () => this.markAllRead(at) },
      "separator",
      { label: "New subfolder…", run: () => (this.dialogs.folder = { kind: "create", account, path }) },
      { label: "Rename…", disabled: special, run: () => (this.dialogs.folder = { kind: "rename", account, path }) },
      { label: "Delete…", disabled: special, danger: true, run: () => (this.dialogs.folder = { kind: "delete", account, path }) },
    ];
    if (!acc?.isPop3 && path.toUpperCase() !== "INBOX") entries.push({ label: f?.subscribed === false ? "Subscribe" : "Unsubscribe", run: () => this.toggleSubscription(at) });
    entries.push("separator", { label: "Export as mbox…", run: () => this.exportFolderMbox(at) });
    if (acc?.isPop3) entries.push({ label: "Export as Maildir…", run: () => this.exportFolder(at) });
    entries.push(
      "separator",
      { label: "Show all folders", checked: showAll.on, run: showAll.toggle },
      { label: "Properties…", run: () => (this.dialogs.folder = { kind: "properties", account, path }) },
      { label: "Account options…", run: () => (this.dialogs.optionsFor = acc?.settings ?? null) },
    );
    return entries;
  };

  /** An account's menu. */
  accountMenu = (account: string, showAll: { on: boolean; toggle: () => void }): MenuEntry[] => {
    const acc = this.accounts.get(account);
    return [
      { label: "Get mail", shortcut: "F5", run: () => this.getMail() },
      { label: "New folder…", run: () => (this.dialogs.folder = { kind: "create", account, path: "" }) },
      { label: "Show all folders", checked: showAll.on, run: showAll.toggle },
      "separator",
      { label: "Account options…", run: () => (this.dialogs.optionsFor = acc?.settings ?? null) },
      { label: "Remove account…", danger: true, run: () => (this.dialogs.removing = acc?.settings ?? null) },
    ];
  };

  /** The selected messages' menu (one message: its answers and flags too). */
  messageMenu = (): MenuEntry[] => {
    const m = this.mailbox;
    const count = m.selected.size;
    const one = count === 1 ? m.rows.find([...m.selected][0])?.row ?? null : null;
    const entries: MenuEntry[] = [];
    if (one) {
      entries.push(
        { label: "Reply", shortcut: "R", run: () => this.composeFromOpen("reply") },
        { label: "Reply all", shortcut: "Shift+R", run: () => this.composeFromOpen("reply_all") },
        { label: "Forward", run: () => this.composeFromOpen("forward") },
        { label: "Forward as attachment", run: () => this.composeFromOpen("forward_as_attachment") },
        "separator",
        { label: one.seen ? "Mark as unread" : "Mark as read", shortcut: "M", run: () => m.changeFlags(one.uid, !one.seen, null) },
        { label: one.flagged ? "Remove flag" : "Flag", shortcut: "S", run: () => m.changeFlags(one.uid, null, !one.flagged) },
        "separator",
      );
    }
    const what = count === 1 ? "" : ` ${count} messages`;
    entries.push({ label: `Archive${what}`, shortcut: "A", run: () => this.archive() }, { label: `Delete${what}`, shortcut: "Delete", danger: true, run: () => this.delete() });
    return entries;
  };

  // --- accounts ------------------------------------------------------------------------

  saveOptions = async (account: string, options: SyncOptions, pop3: Pop3Options | null, smtp: ServerSettings | null, sending: SendingOptions) => {
    this.dialogs.optionsFor = null;
    const saved = await this.status.task("Saving account options…", async () => {
      await ipc.setSmtp(account, smtp);
      await ipc.setSending(account, sending);
      return pop3 ? ipc.setPop3Options(account, pop3) : ipc.setSyncOptions(account, options);
    });
    if (!saved) return;
    this.accounts.replace(saved);
    this.status.notice = "Options saved";
    if (this.mailbox.selection?.account === account) await this.mailbox.loadPage(0, true);
  };

  removeAccount = async (account: AccountSettings, deleteLocal: boolean) => {
    this.dialogs.removing = null;
    const kept = await this.status.task(`Removing ${account.display_name}…`, () => ipc.removeAccount(account.id, deleteLocal));
    if (kept === undefined) return;
    this.accounts.remove(account.id);
    const m = this.mailbox;
    if (m.selection?.account === account.id || m.outboxAccount === account.id) {
      m.outboxAccount = null;
      const first = this.accounts.list[0];
      if (first) await m.show({ folder: { account: first.id, folder: "INBOX" } });
      else m.clear();
    }
    this.status.notice = kept ? `Account removed. Its local mail is kept in ${kept}` : "Account removed";
  };

  accountAdded = async (account: AccountSettings) => {
    this.dialogs.adding = false;
    this.accounts.add(account);
    await this.accounts.loadFolders(account.id);
    await this.mailbox.show({ folder: { account: account.id, folder: "INBOX" } });
  };

  // --- composing -----------------------------------------------------------------------

  composeNew = () => this.composeWith({ ...EMPTY });

  /** A new message from the current account, starting with `start` (a mailto: link). */
  composeWith = (start: Composition) => {
    const m = this.mailbox;
    const id = m.selection?.account ?? m.source(m.selectedUid)?.account ?? m.outboxAccount ?? this.accounts.list[0]?.id;
    if (id && this.accounts.get(id)) this.dialogs.composing = { accountId: id, start: { ...EMPTY, ...start }, fresh: true };
    else this.status.notice = "Add an account to write mail.";
  };

  composeFromOpen = async (kind: ComposeKind) => {
    const src = this.mailbox.source(this.mailbox.selectedUid);
    if (!src || !this.accounts.get(src.account)) return;
    const start = await this.status.task("Preparing…", () => ipc.startComposition(src.account, src.folder, src.uid, kind));
    if (start) this.dialogs.composing = { accountId: src.account, start, fresh: true };
  };

  editDraft = async () => {
    const src = this.mailbox.source(this.mailbox.selectedUid);
    if (!src) return;
    const start = await this.status.task("Opening the draft…", () => ipc.openDraft(src.account, src.folder, src.uid));
    if (start) this.dialogs.composing = { accountId: src.account, start, fresh: false };
  };

  composed = (queued: boolean) => {
    this.dialogs.composing = null;
    this.status.notice = queued ? "Saved in the outbox: it will be sent when the server can be reached" : "Message sent";
    this.accounts.refreshOutbox();
  };

  composerClosed = (note: string | null) => {
    this.dialogs.composing = null;
    if (note) this.status.notice = note;
  };
}
