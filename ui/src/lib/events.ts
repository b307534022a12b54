// The app's one event channel: every message the backend sends on its own is a `UiEvent`
// (generated from petrel-core), handled here by one exhaustive switch. A new kind of event
// does not compile until it is handled (or deliberately ignored) below.

import { listen } from "@tauri-apps/api/event";
import type { UiEvent } from "../bindings/UiEvent";

/** The channel's name (petrel-core's UI_EVENT_CHANNEL). */
export const CHANNEL = "petrel";

type Data<K extends UiEvent["kind"]> = Extract<UiEvent, { kind: K }> extends { data: infer D } ? D : undefined;

/** What a component wants to hear; kinds it leaves out are not for it. */
export type Handlers = { [K in UiEvent["kind"]]?: (data: Data<K>) => void };

/** Hands one event to its handler. */
export function dispatch(event: UiEvent, on: Handlers): void {
  switch (event.kind) {
    case "folder_changed":
      return on.folder_changed?.(event.data);
    case "account_status":
      return on.account_status?.(event.data);
    case "sync_progress":
      return on.sync_progress?.(event.data);
    case "outbox":
      return on.outbox?.(event.data);
    case "setup_progress":
      return on.setup_progress?.(event.data);
    case "compose":
      return on.compose?.(event.data);
    case "index_progress":
      return on.index_progress?.(event.data);
    case "open_message_file":
      return on.open_message_file?.(event.data);
    case "launch_failed":
      return on.launch_failed?.(event.data);
    case "get_mail":
      return on.get_mail?.(undefined);
    case "open_message":
      return on.open_message?.(event.data);
    case "import_progress":
      return on.import_progress?.(event.data);
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/** Listens until the returned function is called. Outside the app (no backend) nothing is
 * heard and stopping does nothing. */
export function subscribe(on: Handlers): () => void {
  const stop = listen<UiEvent>(CHANNEL, (e) => dispatch(e.payload, on)).catch(() => null);
  return () => {
    stop.then((unlisten) => unlisten?.());
  };
}
