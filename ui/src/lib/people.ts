// People as the reader and the list show them: initials in a colour of their own, the
// address out of "Name <address>", and whether mail was addressed to the user.

/** Colours that carry white initials readably (WCAG AA, 4.5:1) in both themes. */
export const PALETTE = ["#1f5fa8", "#a3520f", "#2b7a47", "#8a3796", "#b02a30", "#16706f", "#6b5229"];

/** Up to two initials of a name ("Ana Lima" → "AL", "ana@example.org" → "A"), whole
 * characters (never half an emoji or an accented letter). */
export function initials(name: string): string {
  const cleaned = name.replace(/<[^>]*>/g, " ").replace(/["'()]/g, " ").trim();
  const words = cleaned.includes("@") && !cleaned.includes(" ") ? [cleaned] : cleaned.split(/\s+/).filter(Boolean);
  const first = (w: string) => Array.from(w)[0] ?? "";
  const letters = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0] ?? "");
  return letters.toLocaleUpperCase() || "?";
}

/** A stable colour for a key (an address): the same person always looks the same. */
export function colorFor(key: string): string {
  let h = 2166136261;
  for (const c of key.toLowerCase()) h = Math.imul(h ^ (c.codePointAt(0) ?? 0), 16777619);
  return PALETTE[(h >>> 0) % PALETTE.length];
}

/** The address in "Name <address>" (or the text itself when it is an address). */
export function addressOf(display: string): string {
  const angle = display.match(/<([^>]+)>/);
  return (angle ? angle[1] : display).trim().toLowerCase();
}

/** Whether any of `recipients` is one of the user's addresses. */
export function addressedTo(recipients: string[], mine: string[]): boolean {
  const own = new Set(mine.map((a) => a.trim().toLowerCase()).filter(Boolean));
  return recipients.some((r) => own.has(addressOf(r)));
}
