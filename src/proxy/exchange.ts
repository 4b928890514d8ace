/**
 * One client request as it moves through the stages: the parsed target, the headers prepared for
 * upstream, and the access record being filled in. Created by the router, read by the cache engine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessRecord } from '../log/record.js';

export type RouteMode = 'forward' | 'reverse' | 'intercept';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  mode: RouteMode;
  /** where the request is sent upstream */
  target: URL;
  /** absolute URL naming the resource (cache key basis, logs, error pages) */
  resourceUrl: string;
  /** the client's header fields, lower-case names (as Node parsed them) */
  reqHeaders: Record<string, string | string[] | undefined>;
  /** flat raw header array prepared for upstream: hop-by-hop removed, Host set, Via appended */
  upstreamHeaders: string[];
  record: AccessRecord;
  /** the request body to forward when it is not `req` itself (a size-limited wrapper) */
  body?: import('node:stream').Readable;
}

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
