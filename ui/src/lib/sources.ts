// Rows of a unified view come from many accounts and folders whose UIDs overlap; the list
// needs one number per row. These ids are stable for a (account, folder, uid) while the
// window lives, so selection and updates survive reloads.
import { PALETTE } from "./people";

export type Source = { account: string; folder: string; uid: number };

export class SourceIds {
  #byKey = new Map<string, number>();
  #byId = new Map<number, Source>();
  #next = 1;

  id(source: Source): number {
    const key = `${source.account}\u0000${source.folder}\u0000${source.uid}`;
    let id = this.#byKey.get(key);
    if (id === undefined) {
      id = this.#next++;
      this.#byKey.set(key, id);
      this.#byId.set(id, source);
    }
    return id;
  }

  source(id: number): Source | undefined {
    return this.#byId.get(id);
  }
}

/** Groups sources by account and folder, for actions that take one folder's UIDs. */
export function byFolder(sources: Source[]): { account: string; folder: string; uids: number[] }[] {
  const groups = new Map<string, { account: string; folder: string; uids: number[] }>();
  for (const s of sources) {
    const key = `${s.account}\u0000${s.folder}`;
    const g = groups.get(key) ?? { account: s.account, folder: s.folder, uids: [] };
    g.uids.push(s.uid);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** A colour per account for marking rows in unified views (distinct, and carrying the
 * account's white initials readably in both themes). */
export function accountColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}
