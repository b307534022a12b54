import { describe, expect, it } from "vitest";
import { buildFolderTree, emptyFolderText, shownFolders, visiblePaths } from "./folders";
import type { Folder } from "../bindings/Folder";

const f = (path: string, parent: string | null, role: Folder["role"] = null): Folder => ({
  path, name: path.split("/").pop()!, parent, role, selectable: true, total: null, unread: null, subscribed: true,
});

describe("buildFolderTree", () => {
  const flat = [f("INBOX", null, "inbox"), f("Sent", null, "sent"), f("Projects", null), f("Projects/Petrel", "Projects"), f("Projects/Petrel/2026", "Projects/Petrel")];

  it("nests children under their parent and keeps server order", () => {
    const roots = buildFolderTree(flat);
    expect(roots.map((n) => n.folder.path)).toEqual(["INBOX", "Sent", "Projects"]);
    expect(roots[2].children[0].folder.path).toBe("Projects/Petrel");
    expect(roots[2].children[0].children[0].folder.name).toBe("2026");
  });

  it("treats a folder whose parent is not listed as a root instead of dropping it", () => {
    const roots = buildFolderTree([f("Orphan/Child", "Orphan")]);
    expect(roots.map((n) => n.folder.path)).toEqual(["Orphan/Child"]);
  });

  it("hides the children of collapsed folders", () => {
    const roots = buildFolderTree(flat);
    expect(visiblePaths(roots, new Set())).toHaveLength(5);
    expect(visiblePaths(roots, new Set(["Projects"]))).toEqual(["INBOX", "Sent", "Projects"]);
  });
});

describe("shownFolders", () => {
  const g = (path: string, parent: string | null, subscribed: boolean, role: Folder["role"] = null): Folder => ({
    path, name: path.split("/").pop()!, parent, role, selectable: true, total: null, unread: null, subscribed,
  });
  const all = [
    g("INBOX", null, false, "inbox"),
    g("Trash", null, false, "trash"),
    g("Lists", null, false),
    g("Lists/rust", "Lists", true),
    g("Old", null, false),
  ];
  it("keeps subscribed folders, their parents, INBOX and special folders", () => {
    expect(shownFolders(all, false).map((f) => f.path)).toEqual(["INBOX", "Trash", "Lists", "Lists/rust"]);
  });
  it("keeps the folder on screen and shows everything on request", () => {
    expect(shownFolders(all, false, "Old").map((f) => f.path)).toContain("Old");
    expect(shownFolders(all, true)).toHaveLength(5);
  });
});

describe("empty folders", () => {
  it("say what the folder is for, not that new mail will come", () => {
    expect(emptyFolderText("trash", "Trash")).toMatch(/Trash is empty/);
    expect(emptyFolderText("sent", "Sent")).not.toMatch(/New mail/);
    expect(emptyFolderText("drafts", "Drafts")).toMatch(/saved here as you type/);
    expect(emptyFolderText("inbox", "INBOX")).toMatch(/New mail appears here/);
    expect(emptyFolderText(null, "Receipts")).toBe("No messages in Receipts. Move or drag messages here to file them.");
  });
});
