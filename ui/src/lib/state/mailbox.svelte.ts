// What the list and reader show: a folder, a view across accounts or an outbox; its rows
// by position (RowWindow), the selection, the open message. `show` is the one place the
// list is reset for a new source.
import { markStart } from "../startMarks";
import { ipc } from "../ipc";
import type { RowExtra } from "../../bindings/RowExtra";
import { RowWindow, PAGE, type RowPage } from "../rowWindow.svelte";
import { SourceIds, type Source } from "../sources";
import { formatProgress } from "../format";
import type { Preferences } from "../preferences";
import type { Accounts } from "./accounts.svelte";
import type { Status } from "./status.svelte";
import type { ListQuery } from "../../bindings/ListQuery";

/** Shortest time between two reads of the list while a first sync fills the cache. */
const PARTIAL_LOAD_MS = 300;
import type { MessageView } from "../../bindings/MessageView";
import type { UnifiedView } from "../../bindings/UnifiedView";
import type { SyncProgress } from "../../bindings/SyncProgress";
import type { FolderChange } from "../../bindings/FolderChange";
import type { SearchOrder } from "../../bindings/SearchOrder";
import type { SearchResults } from "../../bindings/SearchResults";
import type { SearchHit } from "../../bindings/SearchHit";
import { toIpcError } from "../ipc";

export const DEFAULT_QUERY: ListQuery = { sort: "date", ascending: false, text: "", unread_only: false, flagged_only: false, attachments_only: false };
export const UNIFIED_NAMES: Record<UnifiedView, string> = { inboxes: "All Inboxes", unread: "Unread", flagged: "Flagged" };

/** What the list pane shows. */
export type ListSource = { folder: { account: string; folder: string } } | { unified: UnifiedView } | { outbox: string } | { search: SearchSpec };

/** A search of every account, in the list pane. */
export type SearchSpec = { text: string; order: SearchOrder };

/** Results shown (the list's one page; more are counted, not listed). */
export const SEARCH_LIMIT = 200;

/** The conversation view as the user left it (Conversations on or off). */
function rememberedConversations(): boolean {
  return localStorage.getItem("petrel.conversations") === "on";
}

export class Mailbox {
  selection = $state<{ account: string; folder: string } | null>(null);
  unified = $state<UnifiedView | null>(null);
  outboxAccount = $state<string | null>(null);
  /** The search shown in the list, its answer so far, and what was shown before it
   * (Escape goes back there). */
  search = $state<SearchSpec | null>(null);
  searchResults = $state<SearchResults | null>(null);
  /** Why the search could not run (an unknown operator, a bad date…), for under the box. */
  searchError = $state<string | null>(null);
  searchingServer = $state(false);
  #beforeSearch: ListSource | null = null;
  /** The search a result was opened from in its conversation (Escape goes back to it). */
  #backToSearch = $state<SearchSpec | null>(null);
  #searchRun = 0;
  query = $state<ListQuery>({ ...DEFAULT_QUERY });
  /** The conversation view (remembered), and the conversations shown open in it. */
  conversations = $state(rememberedConversations());
  expanded = new Set<string>();
  selected = $state(new Set<number>());
  focusIndex = $state(0);
  listLoading = $state(false);
  selectedUid = $state<number | null>(null);
  message = $state<MessageView | null>(null);
  loadingMessage = $state(false);
  /** List ids of rows from many folders (unified views, conversations). */
  readonly ids = new SourceIds();
  readonly rows: RowWindow;
  #accounts: Accounts;
  #status: Status;
  #prefs: () => Preferences;
  #partialLoad = false;
  /** When the last partial load started, and the progress that waits for the next. */
  #partialAt = 0;
  #pendingProgress: { p: SyncProgress; timer: ReturnType<typeof setTimeout> } | null = null;
  #markTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(accounts: Accounts, status: Status, prefs: () => Preferences) {
    this.#accounts = accounts;
    this.#status = status;
    this.#prefs = prefs;
    // The open folder's (or view's) rows by position, pages fetched as they scroll into view.
    this.rows = new RowWindow(
      (offset, limit) => this.#fetch(offset, limit),
      (row) => {
        const sel = this.selection;
        // Plain folder lists only: other views hold rows of several folders.
        const plain = sel && !this.unified && !this.conversations && !this.search;
        const extra = plain ? this.#extras.get(extraKey(sel.account, sel.folder, row.uid)) : undefined;
        if (extra) Object.assign(row, { preview: extra.preview || undefined, to: extra.to, undated: extra.undated });
      },
    );
  }

  /** Shows `source` in the list: the one reset of selection, message and rows. A folder
   * shown `inConversation` lists conversations with that one open (whatever the remembered
   * view); any other source brings the remembered view back. */
  async show(source: ListSource, inConversation: string | null = null) {
    this.#backToSearch = null;
    this.selectedUid = null;
    this.message = null;
    this.selected = new Set();
    this.focusIndex = 0;
    if (!("search" in source)) {
      this.search = null;
      this.searchResults = null;
      this.searchError = null;
      this.searchingServer = false;
    }
    if ("search" in source) {
      this.search = source.search;
      this.outboxAccount = null;
      this.unified = null;
      this.selection = null;
      this.rows.reset(null);
      await this.loadPage(0);
      return;
    }
    if ("outbox" in source) {
      this.outboxAccount = source.outbox;
      this.unified = null;
      this.selection = null;
      return;
    }
    this.outboxAccount = null;
    if ("unified" in source) {
      this.unified = source.unified;
      this.selection = null;
    } else {
      this.unified = null;
      this.query = { ...DEFAULT_QUERY };
      this.conversations = inConversation !== null || rememberedConversations();
      this.expanded = new Set(inConversation === null ? [] : [inConversation]);
      this.selection = source.folder;
    }
    this.rows.reset(null);
    await this.loadPage(0);
  }

  /** Runs a search of every account: local results at once, then the servers' for what
   * is not on this computer. An error in the query stays under the box; the list stays. */
  async runSearch(spec: SearchSpec) {
    const run = ++this.#searchRun;
    let local: SearchResults;
    try {
      local = await ipc.searchMail(spec.text, spec.order, SEARCH_LIMIT, false);
    } catch (e) {
      if (run === this.#searchRun) this.searchError = toIpcError(e).message;
      return;
    }
    if (run !== this.#searchRun) return;
    if (!this.search) this.#beforeSearch = this.#currentSource();
    this.searchError = null;
    this.searchResults = local;
    this.searchingServer = true;
    await this.show({ search: spec });
    let merged: SearchResults | null = null;
    try {
      merged = await ipc.searchMail(spec.text, spec.order, SEARCH_LIMIT, true);
    } catch {
      merged = null;
    }
    if (run !== this.#searchRun || !this.search) return;
    this.searchingServer = false;
    if (merged && merged.hits.length !== local.hits.length) {
      this.searchResults = merged;
      await this.rows.refresh();
    } else if (merged) {
      this.searchResults = { ...local, server: merged.server };
    }
  }

  /** Leaves the search for what was shown before it. */
  async endSearch() {
    this.#searchRun++;
    const back = this.#beforeSearch;
    this.#beforeSearch = null;
    if (back) await this.show(back);
    else await this.show({ unified: "inboxes" });
  }

  /** Opens search result `uid` in its folder's conversation view: the conversation open,
   * the message selected and shown. Escape (or "Back to results") returns to the search. */
  async openInConversation(uid: number) {
    const src = this.search ? this.source(uid) : null;
    const spec = this.search;
    if (!src || !spec) return;
    const spot = await this.#status.task(`Opening its conversation in ${src.folder}…`, () => ipc.conversationOf(src.account, src.folder, src.uid), () => this.openInConversation(uid));
    if (spot === undefined) return; // the status bar says what failed
    if (spot === null) {
      this.#status.warn(`That message is no longer in ${src.folder}: it was moved or deleted elsewhere. Search again to find where it went.`);
      return;
    }
    this.#searchRun++;
    await this.show({ folder: { account: src.account, folder: src.folder } }, spot.thread);
    this.#backToSearch = spec;
    await this.rows.ensure(spot.position, spot.position);
    const row = this.rows.at(spot.position);
    if (row) this.selectionChanged(new Set([row.uid]), spot.position);
  }

  /** Shows message `at` in its folder, selected and open (a new-mail notification was
   * clicked). New mail is near the top: if it is not on the first page the folder shows. */
  async openAt(at: { account: string; folder: string; uid: number }) {
    await this.show({ folder: { account: at.account, folder: at.folder } });
    const id = this.conversations ? this.ids.id({ account: at.account, folder: at.folder, uid: at.uid }) : at.uid;
    const found = this.rows.find(id);
    if (found) this.selectionChanged(new Set([id]), found.index);
  }

  /** A search result is shown in its conversation: the search it came from. */
  get cameFromSearch(): boolean {
    return this.#backToSearch !== null;
  }

  /** Back from a result's conversation to its search, asked again (things may have moved). */
  async backToSearch() {
    const spec = this.#backToSearch;
    if (!spec) return;
    const before = this.#beforeSearch;
    await this.runSearch(spec);
    this.#beforeSearch = before;
  }

  #currentSource(): ListSource | null {
    if (this.outboxAccount) return { outbox: this.outboxAccount };
    if (this.unified) return { unified: this.unified };
    if (this.selection) return { folder: this.selection };
    return null;
  }

  #searchPage(offset: number): RowPage {
    const hits: SearchHit[] = this.searchResults?.hits ?? [];
    const rows = hits.slice(offset, offset + PAGE).map((h) => ({
      ...h.envelope,
      uid: this.ids.id({ account: h.account, folder: h.folder, uid: h.envelope.uid }),
      hit: {
        subject: h.subject,
        snippet: h.snippet,
        place: `${h.folder} · ${this.#accounts.get(h.account)?.settings.display_name || h.account}`,
        onServer: h.on_server,
      },
    }));
    return { offset, total: hits.length, rows, offline: false };
  }

  /** The quick filter or sort changed: the list reloads from the top, same source. */
  async queryChanged(q: ListQuery) {
    this.query = q;
    this.selected = new Set();
    this.selectedUid = null;
    this.message = null;
    this.focusIndex = 0;
    this.rows.reset(null);
    await this.loadPage(0);
  }

  /** Conversations on or off: the list reloads from the top. */
  async conversationsChanged(on: boolean) {
    this.conversations = on;
    localStorage.setItem("petrel.conversations", on ? "on" : "off");
    this.expanded = new Set();
    await this.queryChanged(this.query);
  }

  /** Opens or closes a conversation; the rows below move, the selection stays. */
  async toggleThread(key: string, open: boolean) {
    if (open === this.expanded.has(key)) return;
    if (open) this.expanded.add(key);
    else this.expanded.delete(key);
    const at = this.focusIndex;
    await this.rows.refresh();
    // Closing from a reply: the keyboard goes to the conversation's row.
    if (!open) {
      for (let i = Math.max(0, at - PAGE); i <= at; i++) {
        const r = this.rows.at(i);
        if (r?.thread?.head && r.thread.key === key) {
          this.focusIndex = i;
          break;
        }
      }
    }
  }

  /** Where the list row `uid` really lives (list ids are per-view in unified views). */
  source(uid: number | null): Source | null {
    if (uid === null) return null;
    if (this.unified || this.conversations || this.search) return this.ids.source(uid) ?? null;
    return this.selection ? { account: this.selection.account, folder: this.selection.folder, uid } : null;
  }

  /** Whether the quick filter narrows the list. */
  get filtered(): boolean {
    const q = this.query;
    return !!this.selection && !this.unified && (q.text.trim() !== "" || q.unread_only || q.flagged_only || q.attachments_only);
  }

  get listName(): string | null {
    if (this.search) return "Search results";
    return this.unified ? UNIFIED_NAMES[this.unified] : (this.selection?.folder ?? null);
  }

  async #fetch(offset: number, limit: number): Promise<RowPage> {
    if (this.search) return this.#searchPage(offset);
    const sel = this.selection;
    if (this.unified) return this.#fetchUnified(this.unified, offset, limit);
    if (sel && this.conversations) return this.#fetchThreads(sel, offset, limit);
    if (!sel) return { offset, total: 0, rows: [], offline: false };
    const page = await ipc.listEnvelopes(sel.account, sel.folder, offset, limit, this.query);
    this.#askExtras(sel, page.rows.map((r) => r.uid));
    return page;
  }

  /** Row extras known this session, by account, folder and UID (a UID names one message of
   * a folder, so they fit whatever row holds it, whenever that row is loaded). */
  #extras = new Map<string, RowExtra>();

  /** Asks for what a page's rows show beyond their cached fields, after the rows (shown first). */
  #askExtras(sel: { account: string; folder: string }, uids: number[]) {
    if (uids.length === 0) return;
    const wanted = uids.filter((uid) => !this.#extras.has(extraKey(sel.account, sel.folder, uid)));
    if (wanted.length === 0) return;
    ipc
      .rowExtras(sel.account, sel.folder, wanted)
      .then((list) => {
        if (this.#extras.size > 50_000) this.#extras.clear();
        for (const e of list) this.#extras.set(extraKey(sel.account, sel.folder, e.uid), e);
        if (list.length > 0) this.rows.redecorate();
      })
      .catch(() => {
        // No preview line is no loss: the row is whole without it.
      });
  }

  async #fetchUnified(view: UnifiedView, offset: number, limit: number): Promise<RowPage> {
    const page = await ipc.listUnified(view, offset, limit);
    return {
      offset: page.offset,
      total: page.total,
      offline: false,
      rows: page.rows.map((r) => ({ ...r.envelope, uid: this.ids.id({ account: r.account, folder: r.folder, uid: r.envelope.uid }) })),
    };
  }

  async #fetchThreads(sel: { account: string; folder: string }, offset: number, limit: number, refresh = false): Promise<RowPage> {
    const page = await ipc.listThreads(sel.account, sel.folder, offset, limit, refresh, this.query, [...this.expanded]);
    return {
      offset: page.offset,
      total: page.total,
      offline: page.offline,
      rows: page.rows.map((r) => ({
        ...r.envelope,
        uid: this.ids.id({ account: sel.account, folder: r.folder, uid: r.envelope.uid }),
        thread: {
          key: r.thread,
          depth: r.depth,
          head: r.head,
          count: r.count,
          unread: r.unread,
          expanded: r.expanded,
          latest: r.latest,
          elsewhere: r.folder === sel.folder ? null : r.folder,
        },
      })),
    };
  }

  /** Get mail: every account's INBOX is checked now, whatever is open (new mail arrives
   * there, and a POP3 account downloads only then); `except` is refreshed by its own load. */
  async #checkInboxes(except: { account: string; folder: string } | null) {
    const others = this.#accounts.list.filter((a) => !(except && except.account === a.id && except.folder.toUpperCase() === "INBOX"));
    await Promise.all(others.map((a) => ipc.refreshFolder(a.id, "INBOX", true).catch(() => null)));
  }

  /** Loads the page at `offset`; `refresh` is Get mail (the server is asked now). */
  async loadPage(offset: number, refresh = false) {
    const status = this.#status;
    if (this.search) {
      this.rows.settle(this.rows.token(), this.#searchPage(offset));
      return;
    }
    const view = this.unified;
    if (view) {
      this.listLoading = true;
      if (refresh) await this.#checkInboxes(null);
      const token = this.rows.token();
      const result = await status.task(`Loading ${UNIFIED_NAMES[view]}…`, () => this.#fetchUnified(view, offset, PAGE), () => this.loadPage(offset, refresh));
      this.listLoading = false;
      if (result && this.unified === view) this.rows.settle(token, result);
      return;
    }
    const sel = this.selection;
    if (!sel) return;
    const label = refresh ? `Getting mail for ${sel.folder}…` : `Loading ${sel.folder}…`;
    this.listLoading = true;
    if (refresh) await this.#checkInboxes(sel);
    // The rows already on this computer first: bringing the folder up to date (a login and a
    // round trip or more, or a wait on a server that does not answer) must not keep them
    // off the screen. The refreshed page then replaces them.
    if (!refresh && offset === 0 && !this.conversations) {
      const token = this.rows.token();
      const cached = await ipc.listEnvelopes(sel.account, sel.folder, 0, PAGE, this.query).catch(() => null);
      // Preview lines are asked for with the refreshed page, once.
      markStart("cached page");
      if (cached && cached.total > 0 && this.selection === sel) this.rows.settle(token, { ...cached, offline: false });
    }
    const token = this.rows.token();
    // The folder is brought up to date first (Get mail, or its first open since start: the
    // engine keeps that rule); its rows then come from the cache.
    const load = async (): Promise<RowPage> => {
      if (this.conversations) return this.#fetchThreads(sel, offset, PAGE, refresh);
      const fresh = await ipc.refreshFolder(sel.account, sel.folder, refresh);
      const page = await ipc.listEnvelopes(sel.account, sel.folder, offset, PAGE, this.query);
      this.#askExtras(sel, page.rows.map((r) => r.uid));
      return { ...page, offline: fresh.offline };
    };
    const result = await status.task(label, load, () => this.loadPage(offset, refresh));
    if (this.selection === sel) {
      status.progress = null;
      this.listLoading = false;
    }
    if (!result || this.selection !== sel) return;
    if (result.offline) {
      status.warn(`Offline: ${sel.folder} shows the messages saved on this computer; new mail will appear when the server can be reached.`, () => this.loadPage(0, true));
    }
    if (refresh && this.rows.total > 0) await this.rows.refresh();
    else this.rows.settle(token, result);
  }

  /** A first sync is filling the cache: show the rows already there, and how far it is. */
  async syncProgressed(p: SyncProgress) {
    const sel = this.selection;
    if (this.unified || !sel || sel.account !== p.account || sel.folder !== p.folder) return;
    const finished = p.done >= p.total;
    this.#status.progress = finished ? null : `Getting ${p.folder}: ${formatProgress(p.done, p.total)}`;
    // While the sync runs the list shows what has arrived (its length grows with each
    // batch); when it ends, the loaded pages are read again so the count is final.
    if (p.done === 0) return;
    if (!finished) {
      // At most one page read per PARTIAL_LOAD_MS: a 100k sync reports 200 batches, and a
      // read per batch left the web process ~50 MB larger long after the sync. The latest
      // progress waits its turn, so the list still grows if the sync pauses.
      const wait = this.#partialAt + PARTIAL_LOAD_MS - Date.now();
      if (this.#partialLoad || wait > 0) {
        if (this.#pendingProgress) {
          this.#pendingProgress.p = p;
          return;
        }
        const timer = setTimeout(() => {
          const latest = this.#pendingProgress?.p ?? p;
          this.#pendingProgress = null;
          void this.syncProgressed(latest);
        }, Math.max(wait, 50));
        this.#pendingProgress = { p, timer };
        return;
      }
    } else if (this.#pendingProgress) {
      clearTimeout(this.#pendingProgress.timer);
      this.#pendingProgress = null;
    }
    this.#partialLoad = true;
    this.#partialAt = Date.now();
    try {
      const first = await ipc.listEnvelopes(sel.account, sel.folder, 0, PAGE, this.query);
      // fill, not reset: a first load still under way must not be taken for stale.
      if (this.selection === sel && first.total !== this.rows.total) this.rows.fill(first);
    } catch {
      // The sync itself reports errors.
    } finally {
      this.#partialLoad = false;
    }
  }

  /** A background check changed a folder: counts in the tree, and the rows on screen read
   * again from the cache (the selection stays). */
  async folderChanged(change: FolderChange) {
    this.#accounts.get(change.account)?.setCounts(change.folder, change.total, change.unread);
    if (change.added > 0) {
      this.#status.notice = `${change.added} new message${change.added === 1 ? "" : "s"} in ${change.folder}`;
    }
    if (this.unified) {
      await this.rows.refresh();
      return;
    }
    const sel = this.selection;
    if (!sel || sel.account !== change.account || sel.folder !== change.folder) return;
    await this.rows.refresh();
  }

  async openMessage(uid: number) {
    const src = this.source(uid);
    if (!src) return;
    const sel = { account: src.account, folder: src.folder };
    const prefs = this.#prefs();
    this.selectedUid = uid;
    this.loadingMessage = true;
    clearTimeout(this.#markTimer);
    const markNow = prefs.markRead === "immediately";
    const view = await this.#status.task("Opening message…", () => ipc.readMessage(src.account, src.folder, src.uid, markNow), () => this.openMessage(uid));
    this.loadingMessage = false;
    if (view && this.selectedUid === uid && !markNow) {
      this.message = view;
      // Marked read only if it stays open long enough (or never, by preference).
      if (prefs.markRead === "after-delay" && this.rows.find(uid)?.row.seen === false) {
        this.#markTimer = setTimeout(() => {
          if (this.selectedUid === uid) this.changeFlags(uid, true, null);
        }, prefs.markReadDelay * 1000);
      }
      return;
    }
    if (view && this.selectedUid === uid) {
      this.message = view;
      // Opening marks the message read on the server (BODY[] fetch); mirror it in the row.
      const wasUnread = this.rows.find(uid)?.row.seen === false;
      this.rows.patch(uid, { seen: true });
      const account = this.#accounts.get(sel.account);
      const f = account?.folder(sel.folder);
      if (wasUnread && f?.unread) account?.setCounts(sel.folder, f.total, f.unread - 1);
    }
  }

  /** Read/unread and flag: the row changes at once; if the server refuses, it changes back. */
  async changeFlags(uid: number, seen: boolean | null, flagged: boolean | null) {
    const src = this.source(uid);
    const row = this.rows.find(uid)?.row;
    if (!src || !row) return;
    const before = { seen: row.seen, flagged: row.flagged };
    const patch = (p: { seen: boolean; flagged: boolean }) => this.rows.patch(uid, p);
    patch({ seen: seen ?? row.seen, flagged: flagged ?? row.flagged });
    const outcome = await this.#status.task("Saving…", () => ipc.setFlags(src.account, src.folder, [src.uid], seen, flagged), () => this.changeFlags(uid, seen, flagged));
    if (outcome) this.#accounts.applyOutcome(outcome);
    else patch(before);
  }

  selectionChanged(uids: Set<number>, focus: number) {
    this.selected = uids;
    this.focusIndex = focus;
    const only = uids.size === 1 ? [...uids][0] : null;
    if (only !== null && only !== this.selectedUid) this.openMessage(only);
    if (uids.size !== 1) {
      this.selectedUid = null;
      this.message = null;
    }
  }

  /** The list shows nothing (the last account went). */
  clear() {
    this.selection = null;
    this.unified = null;
    this.outboxAccount = null;
    this.rows.reset(null);
    this.message = null;
    this.selectedUid = null;
  }
}

function extraKey(account: string, folder: string, uid: number): string {
  return `${account}\u0000${folder}\u0000${uid}`;
}
