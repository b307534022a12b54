// Which dialog is open (at most one of each), and the composer's start.
import type { FoundAccount } from "../../bindings/FoundAccount";
import type { OpenMenu } from "../menus";
import type { AccountSettings } from "../../bindings/AccountSettings";
import type { Composition } from "../../bindings/Composition";
import type { MessageFile } from "../../bindings/MessageFile";

export type FolderDialog = { kind: "create" | "rename" | "delete" | "properties"; account: string; path: string };

export class Dialogs {
  adding = $state(false);
  shortcuts = $state(false);
  preferences = $state(false);
  optionsFor = $state<AccountSettings | null>(null);
  removing = $state<AccountSettings | null>(null);
  folder = $state<FolderDialog | null>(null);
  confirmingDelete = $state<{ count: number; onlyCopy: boolean } | null>(null);
  composing = $state<{ accountId: string; start: Composition; fresh: boolean } | null>(null);
  /** A message file opened from outside (`petrel message.eml`), in a reader of its own. */
  messageFile = $state<MessageFile | null>(null);
  /** Import from Thunderbird or mail files. */
  importing = $state(false);
  /** An account found in a Thunderbird profile, in the account form (password asked, then checked). */
  addingFound = $state<FoundAccount | null>(null);
  /** The context menu shown (a message's, a folder's, an account's). */
  contextMenu = $state<OpenMenu | null>(null);

  /** A dialog or the composer has the keyboard: the list's shortcuts are off. */
  get anyOpen(): boolean {
    return !!this.contextMenu || this.adding || this.importing || !!this.addingFound || !!this.composing || !!this.messageFile || !!this.folder || !!this.optionsFor || this.shortcuts || this.preferences;
  }
}
