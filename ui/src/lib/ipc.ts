// The one place the UI talks to the Rust backend. Every call is typed with the ts-rs
// bindings generated from the Rust DTOs (ui/src/bindings, checked by a Rust test).
import { invoke } from "@tauri-apps/api/core";
import type { ThunderbirdProfile } from "../bindings/ThunderbirdProfile";
import type { ProfileContents } from "../bindings/ProfileContents";
import type { ImportRequest } from "../bindings/ImportRequest";
import type { ImportReport } from "../bindings/ImportReport";
import type { AccountId } from "../bindings/AccountId";
import type { AccountSettings } from "../bindings/AccountSettings";
import type { EnvelopePage } from "../bindings/EnvelopePage";
import type { FolderRefresh } from "../bindings/FolderRefresh";
import type { Folder } from "../bindings/Folder";
import type { ActionOutcome } from "../bindings/ActionOutcome";
import type { RowExtra } from "../bindings/RowExtra";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { Quota } from "../bindings/Quota";
import type { SyncOptions } from "../bindings/SyncOptions";
import type { UnifiedPage } from "../bindings/UnifiedPage";
import type { Pop3Options } from "../bindings/Pop3Options";
import type { Composition } from "../bindings/Composition";
import type { ComposeKind } from "../bindings/ComposeKind";
import type { SendReport } from "../bindings/SendReport";
import type { ServerSettings } from "../bindings/ServerSettings";
import type { QueuedMessage } from "../bindings/QueuedMessage";
import type { AddressSuggestion } from "../bindings/AddressSuggestion";
import type { SendingOptions } from "../bindings/SendingOptions";
import type { Discovery } from "../bindings/Discovery";
import type { Advice } from "../bindings/Advice";
import type { AdvisorAnswers } from "../bindings/AdvisorAnswers";
import type { ServerEvidence } from "../bindings/ServerEvidence";
import type { ProviderNotes } from "../bindings/ProviderNotes";
import type { OAuthProvider } from "../bindings/OAuthProvider";
import type { SignedIn } from "../bindings/SignedIn";
import type { SignIn } from "../bindings/SignIn";
import type { DoctorLine } from "../bindings/DoctorLine";
import type { ThreadPage } from "../bindings/ThreadPage";
import type { ListQuery } from "../bindings/ListQuery";
import type { UnifiedView } from "../bindings/UnifiedView";
import type { IpcError } from "../bindings/IpcError";
import type { MessageView } from "../bindings/MessageView";
import type { NewAccount } from "../bindings/NewAccount";
import type { SearchOrder } from "../bindings/SearchOrder";
import type { SearchResults } from "../bindings/SearchResults";
import type { ConversationSpot } from "../bindings/ConversationSpot";
import type { UiEvent } from "../bindings/UiEvent";
import type { DesktopOptions } from "../bindings/DesktopOptions";

/** Normalises whatever a failed invoke rejected with into an IpcError. */
export function toIpcError(e: unknown): IpcError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const o = e as Partial<IpcError>;
    return {
      code: o.code ?? "internal",
      message: String(o.message ?? ""),
      retryable: Boolean(o.retryable),
      certificate: o.certificate ?? null,
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: "internal", message: message || "Something went wrong.", retryable: true, certificate: null };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const ipc = {
  listAccounts: () => call<AccountSettings[]>("list_accounts"),
  /** `confirmedHosts`: servers outside the address's domain the user confirmed by name
   *  (or typed); the engine sends no password to any other. */
  addAccount: (form: NewAccount, confirmedHosts: string[]) => call<AccountSettings>("add_account", { form, confirmedHosts }),
  /** Forgets an account (password, cache); local-only mail goes only when asked. Returns
   * where kept local mail is, "" if none. */
  removeAccount: (account: AccountId, deleteLocalMail: boolean) => call<string>("remove_account", { account, deleteLocalMail }),
  /** A reply, reply all or forward of a message, for the composer. */
  startComposition: (account: AccountId, folder: string, uid: number, kind: ComposeKind) =>
    call<Composition>("start_composition", { account, folder, uid, kind }),
  /** Sends through the outbox: `queued` when the server could not be reached yet. */
  sendMessage: (account: AccountId, message: Composition) => call<SendReport>("send_message", { account, message }),
  /** Saves the composition in Drafts (replacing its previous copy); its Message-ID. */
  saveDraft: (account: AccountId, message: Composition) => call<string>("save_draft", { account, message }),
  /** Removes every copy of a draft. */
  discardDraft: (account: AccountId, messageId: string) => call<void>("discard_draft", { account, messageId }),
  /** A draft (a message of Drafts), to continue writing it. */
  openDraft: (account: AccountId, folder: string, uid: number) => call<Composition>("open_draft", { account, folder, uid }),
  /** What waits in the account's outbox. */
  outboxMessages: (account: AccountId) => call<QueuedMessage[]>("list_outbox", { account }),
  /** How many messages the outbox shows (waiting or refused): cheap, for the folder tree. */
  outboxCount: (account: AccountId) => call<number>("outbox_count", { account }),
  /** Takes a message back out of the outbox (to edit or drop it). */
  unqueue: (account: AccountId, messageId: string) => call<Composition>("unqueue", { account, messageId }),
  /** The user's answer for a message that may have been sent (Petrel stopped as it left):
   * `arrived` files it in Sent, otherwise it is sent again. */
  settleUnsure: (account: AccountId, messageId: string, arrived: boolean) => call<SendReport>("settle_unsure", { account, messageId, arrived }),
  /** Tries the outbox now. */
  flushOutbox: (account: AccountId) => call<SendReport>("flush_outbox", { account }),
  /** Addresses seen in mail starting with `query`, most used first. */
  addressSuggestions: (query: string) => call<AddressSuggestion[]>("address_suggestions", { query }),
  /** The setup wizard: finds an address's settings (progress as `setup-progress` events). */
  discoverSettings: (email: string) => call<Discovery>("discover_settings", { email }),
  /** POP3 or IMAP, for the answers and what the servers said. */
  advise: (answers: AdvisorAnswers, evidence: ServerEvidence, provider: ProviderNotes | null) =>
    call<Advice>("advise", { answers, evidence, provider }),
  /** Storage use of a found IMAP server (logs in: only after the user saw the server). */
  serverQuota: (email: string, imap: ServerSettings, password: string, confirmedHosts: string[]) =>
    call<Quota | null>("server_quota", { email, imap, password, confirmedHosts }),
  /** Edits name, address and incoming server after a test login (new password optional). */
  updateIncoming: (account: AccountId, displayName: string, email: string, incoming: ServerSettings, password: string | null) =>
    call<AccountSettings>("update_incoming", { update: { account, display_name: displayName, email, incoming, password } }),
  /** Signs in with the provider in the browser; the engine keeps the tokens under the ticket. */
  signIn: (provider: OAuthProvider, clientId: string | null, loginHint: string | null) =>
    call<SignedIn>("sign_in", { provider, clientId, loginHint }),
  /** Signs an OAuth2 account in again (its sign-in expired or was revoked). */
  signInAgain: (account: AccountId) => call<void>("sign_in_again", { account }),
  /** Switches an account between a password and OAuth2 (tested before it is saved). */
  changeSignIn: (account: AccountId, signIn: SignIn, password: string | null, ticket: string | null) =>
    call<AccountSettings>("change_sign_in", { account, signIn, password, ticket }),
  /** Cancel on "waiting for the browser". */
  cancelSignIn: () => call<void>("cancel_sign_in", {}),
  /** Saves the connection log, redacted, where the user picks; "" when cancelled. */
  exportSetupLog: (lines: DoctorLine[], email: string) => call<string>("export_setup_log", { lines, email }),
  /** Signature, identities, whether the server files sent mail itself. */
  setSending: (account: AccountId, sending: SendingOptions) => call<AccountSettings>("set_sending", { account, sending }),
  /** The account's outgoing (SMTP) server. */
  setSmtp: (account: AccountId, smtp: ServerSettings | null) => call<AccountSettings>("set_smtp", { account, smtp }),
  /** What some rows of a folder show beyond their cached fields: preview line, recipients, no Date. */
  rowExtras: (account: AccountId, folder: string, uids: number[]) => call<RowExtra[]>("row_extras", { account, folder, uids }),
  /** A message's source as text (its first megabyte) and its whole size in bytes. */
  messageSource: (account: AccountId, folder: string, uid: number) => call<[string, number]>("message_source", { account, folder, uid }),
  /** Saves a message as .eml where the user chooses; "" when cancelled. */
  exportMessage: (account: AccountId, folder: string, uid: number) => call<string>("export_message", { account, folder, uid }),
  /** Exports a local folder as a Maildir into a directory the user picks: [count, path]. */
  exportFolder: (account: AccountId, folder: string) => call<[number, string]>("export_folder", { account, folder }),
  /** A POP3 account's policies (what stays on the server, how often to check). */
  setPop3Options: (account: AccountId, options: Pop3Options) => call<AccountSettings>("set_pop3_options", { account, options }),
  setSyncOptions: (account: AccountId, options: SyncOptions) =>
    call<AccountSettings>("set_sync_options", { account, options }),
  listFolders: (account: AccountId) => call<Folder[]>("list_folders", { account }),
  /** Rows of a folder from the cache only: a page never talks to the server. */
  listEnvelopes: (account: AccountId, folder: string, offset: number, limit: number, query: ListQuery | null = null) =>
    call<EnvelopePage>("list_envelopes", { request: { account, folder, offset, limit, query } }),
  /** Brings a folder up to date with the server: `force` for Get mail (now, whatever the
   * backoff), else only if it was not refreshed since the engine started (a first open). */
  refreshFolder: (account: AccountId, folder: string, force: boolean) =>
    call<FolderRefresh>("refresh_folder", { account, folder, force }),
  /** The folder as conversations (with the user's replies from Sent); `expanded` names
   * the conversations shown open. */
  listThreads: (account: AccountId, folder: string, offset: number, limit: number, refresh: boolean, query: ListQuery, expanded: string[]) =>
    call<ThreadPage>("list_threads", { request: { account, folder, offset, limit, refresh, query, expanded } }),
  /** A view across accounts (All Inboxes, Unread, Flagged), by position like a folder. */
  listUnified: (view: UnifiedView, offset: number, limit: number) => call<UnifiedPage>("list_unified", { view, offset, limit }),
  /** Every account's mail by the search language; `server` also asks the IMAP servers of
   * folders whose bodies are not all here (slower: call it after the local answer). */
  searchMail: (text: string, order: SearchOrder, limit: number, server: boolean) =>
    call<SearchResults>("search_mail", { text, order, limit, server }),
  /** Where a message sits in its folder's conversations (a search result opened in its
   * conversation); null when it is no longer there. */
  conversationOf: (account: AccountId, folder: string, uid: number) =>
    call<ConversationSpot | null>("conversation_of", { account, folder, uid }),
  /** Thunderbird profiles on this computer (profiles.ini), the default first. */
  thunderbirdProfiles: () => call<ThunderbirdProfile[]>("thunderbird_profiles"),
  /** A Thunderbird profile's accounts (no passwords) and mail stores. */
  readThunderbirdProfile: (path: string) => call<ProfileContents>("read_thunderbird_profile", { path }),
  /** The system's chooser for an import: "mbox" (a file), "files" (.eml files) or "folder". */
  pickImportPaths: (kind: "mbox" | "files" | "folder") => call<string[]>("pick_import_paths", { kind }),
  /** Imports mail (import_progress events meanwhile); resumable after Stop or a crash. */
  importMail: (request: ImportRequest) => call<ImportReport>("import_mail", { request }),
  /** Stops the running import after its current batch. */
  stopImport: () => call<void>("stop_import"),
  /** Saves a folder as one mbox file where the user chooses: [count, path] ("" when cancelled). */
  exportFolderMbox: (account: AccountId, folder: string) => call<[number, string]>("export_folder_mbox", { account, folder }),
  /** Copies a message file opened from outside into `folder` of `account`. */
  copyMessageFile: (account: AccountId, folder: string, path: string) => call<void>("copy_message_file", { account, folder, path }),
  /** Petrel as a desktop program: tray, start at login, start hidden. */
  desktopOptions: () => call<DesktopOptions>("desktop_options"),
  /** Applies and saves them (the login item is created or removed). */
  setDesktopOptions: (options: DesktopOptions) => call<void>("set_desktop_options", { options }),
  /** What this launch's command line asked for (mailto: links, message files). */
  takeLaunchRequests: () => call<UiEvent[]>("take_launch_requests"),
  /** A reply or forward of a message file opened from outside, from `account`. */
  startCompositionFromFile: (account: AccountId, path: string, kind: ComposeKind) =>
    call<Composition>("start_composition_from_file", { account, path, kind }),
  /** `markRead` false: open without marking it read (the reader's delay decides). */
  readMessage: (account: AccountId, folder: string, uid: number, markRead = true) =>
    call<MessageView>("read_message", { account, folder, uid, markRead }),
  /** Desktop notifications for new mail on or off (the user's preference). */
  setNotifications: (enabled: boolean) => call<void>("set_notifications", { enabled }),
  /** `null` leaves that flag as it is. */
  /** Every unread message of a folder marked read (a folder's menu). */
  markAllRead: (account: AccountId, folder: string) => call<ActionOutcome>("mark_all_read", { account, folder }),
  setFlags: (account: AccountId, folder: string, uids: number[], seen: boolean | null, flagged: boolean | null) =>
    call<ActionOutcome>("set_flags", { request: { account, folder, uids, seen, flagged } }),
  moveMessages: (account: AccountId, folder: string, uids: number[], to: string) =>
    call<ActionOutcome>("move_messages", { account, folder, uids, to }),
  copyMessages: (account: AccountId, folder: string, uids: number[], to: string) =>
    call<ActionOutcome>("copy_messages", { account, folder, uids, to }),
  /**
   * To the Trash (created when the account has none), or for good — only after the user
   * confirmed "Delete permanently" (the engine refuses a delete in the Trash without it).
   */
  deleteMessages: (account: AccountId, folder: string, uids: number[], how: "to_trash" | "permanently") =>
    call<ActionOutcome>("delete_messages", { account, folder, uids, how }),
  archiveMessages: (account: AccountId, folder: string, uids: number[]) =>
    call<ActionOutcome>("archive_messages", { account, folder, uids }),
  accountStatus: (account: AccountId) => call<AccountStatus>("account_status", { account }),
  /** Server storage used and allowed; null when the server does not say. */
  accountQuota: (account: AccountId) => call<Quota | null>("account_quota", { account }),
  openLink: (url: string) => call<void>("open_link", { url }),
  /** To Downloads, or (`ask`) where the user picks in the system's dialog; returns the path,
   * empty when the dialog was cancelled. */
  saveAttachment: (account: AccountId, folder: string, uid: number, index: number, ask = false) =>
    call<string>("save_attachment", { attachment: { account, folder, uid, index }, ask }),
  /** `confirmed`: the user said yes to the question naming the type (risk "ask"). */
  openAttachment: (account: AccountId, folder: string, uid: number, index: number, confirmed = false) =>
    call<void>("open_attachment", { attachment: { account, folder, uid, index }, confirmed }),
  createFolder: (account: AccountId, path: string) => call<Folder[]>("create_folder", { account, path }),
  renameFolder: (account: AccountId, from: string, to: string) => call<Folder[]>("rename_folder", { account, from, to }),
  deleteFolder: (account: AccountId, path: string) => call<Folder[]>("delete_folder", { account, path }),
  setSubscribed: (account: AccountId, path: string, subscribed: boolean) =>
    call<Folder[]>("set_subscribed", { account, path, subscribed }),
};
