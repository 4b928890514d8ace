/**
 * Interim responses (RFC 9110 §15.2) from the origin, relayed to the client before the final response:
 * 103 Early Hints (RFC 8297) and 102 Processing, the ones node:http can write. Their fields pass through
 * like a final response's, less the hop-by-hop ones; they are never stored (the cache sees only the final
 * response). A 1xx is never sent to an HTTP/1.0 client (§15.2), nor once the final head has gone out, and at
 * most MAX_RELAYED per response: an origin flooding 1xx heads gets no amplifier.
 */
import type { ServerResponse } from 'node:http';
import { objectToPairs } from './headers.js';

export const MAX_RELAYED = 10;
const relayed = new WeakMap<ServerResponse, number>();

export function relayInterim(res: ServerResponse, httpVersion: string, status: number, headers: Record<string, string | string[] | undefined>): void {
  if (httpVersion === '1.0' || res.headersSent || res.destroyed) return;
  const n = relayed.get(res) ?? 0;
  if (n >= MAX_RELAYED) return;
  relayed.set(res, n + 1);
  if (status === 102) {
    res.writeProcessing();
    return;
  }
  if (status !== 103) return; // node:http has no way to write other 1xx (100 is node's own, for Expect)
  const hints: Record<string, string | string[]> = {};
  for (const [name, value] of objectToPairs(headers)) {
    const lower = name.toLowerCase();
    const prev = hints[lower];
    hints[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (hints.link === undefined) return; // writeEarlyHints needs a Link; an Early Hints without one hints nothing
  try {
    res.writeEarlyHints(hints);
  } catch {
    // a field node:http refuses to write (invalid value): the hint is dropped, the final response still goes out
  }
}
