import { describe, expect, it } from "vitest";
import { SourceIds, byFolder } from "./sources";

describe("SourceIds", () => {
  it("gives equal UIDs of different folders different, stable ids", () => {
    const ids = new SourceIds();
    const a = ids.id({ account: "a", folder: "INBOX", uid: 7 });
    const b = ids.id({ account: "b", folder: "INBOX", uid: 7 });
    expect(a).not.toBe(b);
    expect(ids.id({ account: "a", folder: "INBOX", uid: 7 })).toBe(a);
    expect(ids.source(b)).toEqual({ account: "b", folder: "INBOX", uid: 7 });
  });

  it("groups by folder for actions", () => {
    expect(
      byFolder([
        { account: "a", folder: "INBOX", uid: 1 },
        { account: "b", folder: "INBOX", uid: 1 },
        { account: "a", folder: "INBOX", uid: 2 },
      ]),
    ).toEqual([
      { account: "a", folder: "INBOX", uids: [1, 2] },
      { account: "b", folder: "INBOX", uids: [1] },
    ]);
  });
});
