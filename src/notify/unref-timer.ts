/** A timer that never keeps a stopping process alive (held messages are released by flush). */
export function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}
