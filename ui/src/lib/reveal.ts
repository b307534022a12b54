// `use:reveal={key}`: scrolls the element into view when it appears and whenever `key`
// changes — an error shown at the end of a long form is otherwise below the fold, and the
// user sees nothing happen.
export function reveal(node: HTMLElement, _key?: unknown) {
  const show = () => node.scrollIntoView?.({ block: "nearest" });
  queueMicrotask(show);
  return { update: () => queueMicrotask(show) };
}
