import { describe, expect, it } from "vitest";
import { dispatch } from "./events";
import type { UiEvent } from "../bindings/UiEvent";

describe("the one event channel", () => {
  it("hands each kind to its own handler and leaves the rest alone", () => {
    const heard: string[] = [];
    const on = {
      folder_changed: (c: { folder: string }) => heard.push(`changed ${c.folder}`),
      outbox: (o: { queued: number }) => heard.push(`outbox ${o.queued}`),
    };
    const change = { account: "a", folder: "INBOX", total: 1, unread: 1, added: 1, removed: 0, flags_changed: 0 };
    dispatch({ kind: "folder_changed", data: change } as UiEvent, on);
    dispatch({ kind: "outbox", data: { account: "a", queued: 2, retry_in_seconds: null } } as UiEvent, on);
    dispatch({ kind: "sync_progress", data: { account: "a", folder: "INBOX", done: 1, total: 2 } } as UiEvent, on);
    expect(heard).toEqual(["changed INBOX", "outbox 2"]);
  });
});
