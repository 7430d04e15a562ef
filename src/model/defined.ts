// `{ ...defined({ a, b }) }` instead of one `...(a !== undefined ? { a } : {})` per field: strict
// optional properties (exactOptionalPropertyTypes) forbid passing `field: undefined` on.

/** The fields whose value is not undefined (falsy values such as '' or 0 are kept). */
export function defined<T extends object>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
