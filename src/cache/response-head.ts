/** The head this proxy sends: its own Via entry and Cache-Status entry appended to the stored or upstream ones. */

/** Adds this proxy's Via entry and its Cache-Status entry to response header pairs (RFC 9110 §7.6.3, RFC 9211). */
export function finishResponseHeaders(
  pairs: [string, string][],
  via: string,
  cacheStatus: string,
): string[] {
  const flat: string[] = [];
  let prevVia: string | undefined;
  let prevStatus: string | undefined;
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (lower === 'via') { prevVia = prevVia ? `${prevVia}, ${value}` : value; continue; }
    if (lower === 'cache-status') { prevStatus = prevStatus ? `${prevStatus}, ${value}` : value; continue; }
    flat.push(name, value);
  }
  flat.push('Via', prevVia ? `${prevVia}, ${via}` : via);
  flat.push('Cache-Status', prevStatus ? `${prevStatus}, ${cacheStatus}` : cacheStatus);
  return flat;
}

