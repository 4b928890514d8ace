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

export { finishResponseHeaders } from '../cache/response-head.js';
