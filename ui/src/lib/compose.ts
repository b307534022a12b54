// Pure helpers of the composer: addresses typed as text, signatures, attachment sizes.
import type { AccountSettings } from "../bindings/AccountSettings";

/** "a@x, Bob <b@y>; c@z" → the addresses, as typed. A comma inside quotes or angle
 * brackets ("Lima, Ana" <ana@x>) is part of the address, not a separator. */
export function splitAddresses(s: string): string[] {
  return splitKeepingRest(s).done.concat(splitKeepingRest(s).rest).map((x) => x.trim()).filter(Boolean);
}

/** The complete addresses of `s` (each ended by a separator) and what follows the last
 * separator (the address being typed). */
export function splitKeepingRest(s: string): { done: string[]; rest: string } {
  const done: string[] = [];
  let current = "";
  let quoted = false;
  let angle = false;
  for (const c of s) {
    if (c === '"' && !angle) quoted = !quoted;
    else if (c === "<" && !quoted) angle = true;
    else if (c === ">" && !quoted) angle = false;
    if ((c === "," || c === ";") && !quoted && !angle) {
      if (current.trim()) done.push(current.trim());
      current = "";
    } else current += c;
  }
  return { done, rest: current.replace(/^\s+/, "") };
}

/** How a recipient chip reads: the name when there is one, else the address. */
export function chipLabel(address: string): string {
  const m = address.match(/^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/);
  return m ? m[1].trim() || m[2].trim() : address.trim();
}

/** Whether a recipient holds something that can be an address (one @, no spaces in it). */
export function looksLikeAddress(address: string): boolean {
  const m = address.match(/<([^>]*)>/);
  return /^[^\s@]+@[^\s@]+$/.test((m ? m[1] : address).trim());
}

/** The address being typed: what follows the last comma or semicolon. */
export function lastToken(s: string): string {
  const i = Math.max(s.lastIndexOf(","), s.lastIndexOf(";"));
  return s.slice(i + 1).trim();
}

/** Replaces the address being typed with a chosen one, ready for the next. */
export function completeLast(s: string, chosen: string): string {
  const i = Math.max(s.lastIndexOf(","), s.lastIndexOf(";"));
  const head = i >= 0 ? s.slice(0, i + 1) + " " : "";
  return `${head}${chosen}, `;
}

export const SIGNATURE_MARK = "-- \n";

/** The signature block as it appears in a body ("" when there is none). */
export function signatureBlock(signature: string): string {
  return signature.trim() ? `\n\n${SIGNATURE_MARK}${signature.trim()}\n` : "";
}

/** A new message's body: the signature above any quoted text (the cursor goes first). */
export function withSignature(body: string, signature: string): string {
  const block = signatureBlock(signature);
  if (!block) return body;
  return body.trim() ? `${block}${body}` : block;
}

/** Swaps one signature for another where it stands; else adds the new one. */
export function swapSignature(body: string, from: string, to: string): string {
  const old = signatureBlock(from);
  const next = signatureBlock(to);
  if (old && body.includes(old)) return body.replace(old, next);
  return old ? body : withSignature(body, to);
}

/** The sender choices: each account's own address and its identities. */
export function senders(account: AccountSettings): { email: string; label: string; signature: string }[] {
  return [
    { email: "", label: `${account.display_name} <${account.email}>`, signature: account.sending?.signature ?? "" },
    ...(account.sending?.identities ?? []).map((i) => ({
      email: i.email,
      label: `${i.name || account.display_name} <${i.email}>`,
      signature: i.signature,
    })),
  ];
}

/** Decoded size of base64 data. */
export function base64Size(data: string): number {
  const pad = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - pad);
}

/** Most servers refuse messages over 20–25 MB (base64 makes files a third larger). */
export const LARGE_MESSAGE = 18 * 1024 * 1024;

/** A file's bytes as base64, for the engine. */
export function fileToBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const url = String(r.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** Plain text as simple HTML paragraphs (when rich text is switched on). */
export function textToHtml(text: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${esc(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
}
