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
