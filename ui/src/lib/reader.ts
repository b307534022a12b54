// Pure helpers for the reader: the sandboxed document for HTML mail, links in plain text,
// and the senders whose remote content the user allowed.

/** The document for the message frame. The frame is sandboxed without scripts and without
 * same-origin; this CSP additionally forbids every fetch except images, and remote images
 * only when `allowRemote`. The HTML was sanitized in Rust before it got here. */
export function messageDocument(html: string, allowRemote: boolean): string {
  const img = allowRemote ? "data: http: https:" : "data:";
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src ${img}; font-src data:; form-action 'none'; base-uri 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer"><meta http-equiv="x-dns-prefetch-control" content="off"><style>html,body{margin:0;padding:8px;background:#fff;color:#111;font:14px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style></head><body>${html}</body></html>`;
}

export type TextPiece = { text: string; href?: string };

const LINK = /\b(?:https?:\/\/|mailto:)[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;

/** Splits plain text into text and link pieces (http, https, mailto only). */
export function linkify(text: string): TextPiece[] {
  const out: TextPiece[] = [];
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    const start = m.index ?? 0;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: m[0], href: m[0] });
    last = start + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

const SENDERS_KEY = "petrel.remoteContentSenders";

export function remoteAllowedSenders(storage: Storage | undefined = globalThis.localStorage): Set<string> {
  try {
    return new Set(JSON.parse(storage?.getItem(SENDERS_KEY) ?? "[]"));
  } catch {
    return new Set();
  }
}

export function allowRemoteFrom(sender: string, storage: Storage | undefined = globalThis.localStorage) {
  const all = remoteAllowedSenders(storage);
  all.add(sender.toLowerCase());
  storage?.setItem(SENDERS_KEY, JSON.stringify([...all]));
}

/** Bytes as people read them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * What "Show for this message" is granted to: the message itself, not a bare UID (UIDs are
 * small per-folder numbers, the same in every folder and account, and reused after a
 * UIDVALIDITY change — so the date, sender and subject are part of the key too).
 */
export function remoteGrantKey(
  account: string | null,
  folder: string | null,
  message: { uid: number; date: number | null; from: string; subject: string },
): string {
  return JSON.stringify([account, folder, message.uid, message.date, message.from, message.subject]);
}

/** A plain-text body in blocks: what the sender wrote, and quoted text (lines starting with
 * ">") — a long quote folds away behind "Show quoted text". */
export type TextBlock = { quoted: boolean; text: string; lines: number };

/** Quotes of more than this many lines start folded. */
export const FOLD_QUOTES_OVER = 4;

export function textBlocks(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  for (const line of text.split("\n")) {
    const quoted = line.startsWith(">");
    const last = blocks[blocks.length - 1];
    if (last && last.quoted === quoted) {
      last.text += `\n${line}`;
      last.lines += 1;
    } else {
      blocks.push({ quoted, text: line, lines: 1 });
    }
  }
  return blocks;
}
