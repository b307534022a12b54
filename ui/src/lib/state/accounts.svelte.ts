// The accounts as the window knows them: one AccountView per account (settings, folder
// tree, connection status, quota, outbox), as the engine keeps one object per account.
import { ipc } from "../ipc";
import type { AccountSettings } from "../../bindings/AccountSettings";
import type { AccountStatus } from "../../bindings/AccountStatus";
import type { ActionOutcome } from "../../bindings/ActionOutcome";
import type { Folder } from "../../bindings/Folder";
import type { OutboxState } from "../../bindings/OutboxState";
import type { Quota } from "../../bindings/Quota";
import type { Status } from "./status.svelte";

export class AccountView {
  settings = $state<AccountSettings>() as AccountSettings;
  folders = $state<Folder[] | null>(null);
  status = $state<AccountStatus | null>(null);
  quota = $state<Quota | null>(null);
  /** Messages its outbox shows (waiting or refused) and the next automatic try. */
  outboxCount = $state(0);
  outboxRetry = $state<number | null>(null);

  constructor(settings: AccountSettings) {
    this.settings = settings;
  }

  get id(): string {
    return this.settings.id;
  }

  get isPop3(): boolean {
    return this.settings.protocol === "pop3";
  }

  folder(path: string): Folder | null {
    return this.folders?.find((f) => f.path === path) ?? null;
  }

  /** The hierarchy delimiter, learnt from existing nested folders ("/" by default). */
  delimiter(): string {
    const nested = (this.folders ?? []).find((f) => f.parent);
    return nested?.parent ? nested.path.charAt(nested.parent.length) : "/";
  }

  setCounts(path: string, total: number | null, unread: number | null) {
    if (this.folders) this.folders = this.folders.map((f) => (f.path === path ? { ...f, total, unread } : f));
  }
}

export class Accounts {
  views = $state<AccountView[]>([]);
  /** Set once the first list arrived (an empty list then means "no account yet"). */
  loaded = $state(false);
  /** Bumped whenever an outbox may have changed (the outbox panel reloads). */
  outboxRevision = $state(0);
  #status: Status;

  constructor(status: Status) {
    this.#status = status;
  }

  get list(): AccountSettings[] {
    return this.views.map((v) => v.settings);
  }

  get(id: string | null | undefined): AccountView | null {
    return this.views.find((v) => v.id === id) ?? null;
  }

  /** Folder trees by account (the tree's input). */
  get folders(): Record<string, Folder[]> {
    return Object.fromEntries(this.views.filter((v) => v.folders).map((v) => [v.id, v.folders as Folder[]]));
  }

  get statuses(): Record<string, AccountStatus> {
    return Object.fromEntries(this.views.filter((v) => v.status).map((v) => [v.id, v.status as AccountStatus]));
  }

  get outboxCounts(): Record<string, number> {
    return Object.fromEntries(this.views.map((v) => [v.id, v.outboxCount]));
  }

  async load(): Promise<AccountSettings[] | undefined> {
    const list = await this.#status.task("Loading accounts…", () => ipc.listAccounts(), () => this.load());
    if (!list) return undefined;
    this.views = list.map((a) => this.get(a.id) ?? new AccountView(a));
    // Each folder tree comes from its server (a connection and a login): the caller shows
    // the first folder's cached rows meanwhile instead of waiting for them (cold start).
    for (const a of list) void this.loadFolders(a.id);
    this.refreshOutbox();
    return list;
  }

  async loadFolders(id: string) {
    const list = await this.#status.task("Listing folders…", () => ipc.listFolders(id), () => this.loadFolders(id));
    const view = this.get(id);
    if (!list || !view) return;
    view.folders = list;
    ipc.accountQuota(id).then((q) => (view.quota = q), () => {});
  }

  setFolders(id: string, list: Folder[]) {
    const view = this.get(id);
    if (view) view.folders = list;
  }

  setStatus(status: AccountStatus) {
    const view = this.get(status.account);
    if (view) view.status = status;
  }

  async refreshStatus(id: string) {
    try {
      this.setStatus(await ipc.accountStatus(id));
    } catch {
      // Status is informative only.
    }
  }

  /** The engine answered an action: counts from its cache, and what waits for the server. */
  applyOutcome(outcome: ActionOutcome) {
    const f = outcome.folder;
    const view = this.get(f.account);
    view?.setCounts(f.folder, f.total, f.unread);
    if (view?.status) view.status = { ...view.status, pending_actions: outcome.pending };
    else this.refreshStatus(f.account);
  }

  async refreshOutbox() {
    for (const v of this.views) {
      try {
        v.outboxCount = await ipc.outboxCount(v.id);
      } catch {
        v.outboxCount = 0;
      }
    }
    this.outboxRevision++;
  }

  outboxChanged(state: OutboxState) {
    const view = this.get(state.account);
    if (view) {
      view.outboxCount = state.queued;
      view.outboxRetry = state.retry_in_seconds;
    }
    this.outboxRevision++;
  }

  add(settings: AccountSettings): AccountView {
    const view = new AccountView(settings);
    this.views = [...this.views, view];
    return view;
  }

  replace(settings: AccountSettings) {
    const view = this.get(settings.id);
    if (view) view.settings = settings;
  }

  remove(id: string) {
    this.views = this.views.filter((v) => v.id !== id);
  }
}
