/** Header field helpers with no HTTP-stage knowledge: pairs to a Node-style object, and removal from a flat raw array. */

/** Pairs → Node-style header object (lower-case names, set-cookie as array, other repeats joined with ", "). */
export function pairsToObject(pairs: readonly [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    const prev = out[lower];
    if (prev === undefined) out[lower] = lower === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[lower] = `${prev}, ${value}`;
  }
  return out;
}

export function removeRaw(raw: string[], names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!names.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
