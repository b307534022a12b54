import type { Folder } from "../bindings/Folder";

export interface FolderNode {
  folder: Folder;
  children: FolderNode[];
}

/** Nests a flat LIST result by `parent`, keeping the server order (INBOX and special
 * folders first). A folder whose parent is missing (not listed) becomes a root. */
export function buildFolderTree(folders: Folder[]): FolderNode[] {
  const nodes = new Map<string, FolderNode>();
  for (const f of folders) nodes.set(f.path, { folder: f, children: [] });
  const roots: FolderNode[] = [];
  for (const f of folders) {
    const node = nodes.get(f.path)!;
    const parent = f.parent !== null ? nodes.get(f.parent) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Paths of the visible nodes in display order, given which paths are collapsed. */
export function visiblePaths(roots: FolderNode[], collapsed: Set<string>): string[] {
  const out: string[] = [];
  const walk = (nodes: FolderNode[]) => {
    for (const n of nodes) {
      out.push(n.folder.path);
      if (!collapsed.has(n.folder.path)) walk(n.children);
    }
  };
  walk(roots);
  return out;
}

/** The folders the tree shows: subscribed ones (plus INBOX, special folders, the one on
 * screen, and the parents they need to nest), or every folder when `showAll`. */
export function shownFolders(folders: Folder[], showAll: boolean, keepPath: string | null = null): Folder[] {
  if (showAll) return folders;
  const byPath = new Map(folders.map((f) => [f.path, f]));
  const keep = new Set<string>();
  for (const f of folders) {
    if (!(f.subscribed || f.role !== null || f.path.toUpperCase() === "INBOX" || f.path === keepPath)) continue;
    for (let p: Folder | undefined = f; p && !keep.has(p.path); p = p.parent !== null ? byPath.get(p.parent) : undefined) keep.add(p.path);
  }
  return folders.filter((f) => keep.has(f.path));
}

/** What an empty folder says: its job, and how mail gets there. */
export function emptyFolderText(role: Folder["role"], name: string): string {
  switch (role) {
    case "inbox":
      return `No messages in ${name}. New mail appears here by itself; Get mail (F5) checks now.`;
    case "trash":
      return "The Trash is empty. Deleted messages wait here until you delete them for good.";
    case "sent":
      return "Nothing sent yet. The messages you send are kept here.";
    case "drafts":
      return "No drafts. A message you are writing is saved here as you type; Close keeps it.";
    case "archive":
      return "Nothing archived yet. Archive (A) moves a message you have dealt with here.";
    case "junk":
      return "No junk mail.";
    default:
      return `No messages in ${name}. Move or drag messages here to file them.`;
  }
}
