// The search box's language help: the operators (the same list as petrel_core::query::OPERATORS,
// checked by a Rust test) and what to complete while typing.

export const OPERATORS: { op: string; hint: string }[] = [
  { op: "from:", hint: "sender's name or address" },
  { op: "to:", hint: "recipient" },
  { op: "cc:", hint: "copied to" },
  { op: "subject:", hint: "word in the subject" },
  { op: "has:attachment", hint: "carries files" },
  { op: "filename:", hint: "attachment name" },
  { op: "is:unread", hint: "not read yet" },
  { op: "is:read", hint: "read" },
  { op: "is:flagged", hint: "flagged" },
  { op: "is:answered", hint: "replied to" },
  { op: "in:", hint: "folder (inbox, sent, a name)" },
  { op: "account:", hint: "account address or name" },
  { op: "before:", hint: "date, 2026/11/30" },
  { op: "after:", hint: "date, 2026/01/31" },
  { op: "older_than:", hint: "age: 7d, 3m, 1y" },
  { op: "newer_than:", hint: "age: 7d, 3m, 1y" },
  { op: "larger:", hint: "size: 5M, 200K" },
  { op: "smaller:", hint: "size: 5M, 200K" },
];

/** The word being typed at the end of `text` (after the last space), lower case. */
export function lastWord(text: string): string {
  const m = /(?:^|\s)(-?)([^\s"]*)$/.exec(text);
  return m ? m[2].toLowerCase() : "";
}

/** Operators that complete the word being typed (none for an empty word or a finished one). */
export function completions(text: string): { op: string; hint: string }[] {
  const word = lastWord(text);
  if (!word || word.includes(":") && !OPERATORS.some((o) => o.op.startsWith(word) && o.op !== word)) return [];
  return OPERATORS.filter((o) => o.op.startsWith(word) && o.op !== word);
}

/** `text` with its last word replaced by `op` (a space after a complete operator). */
export function complete(text: string, op: string): string {
  const word = lastWord(text);
  const head = text.slice(0, text.length - word.length);
  return head + op + (op.endsWith(":") ? "" : " ");
}
