/** The cache engine's view of an Exchange: the request description, with no socket in it. */
import type { Readable } from 'node:stream';
import type { CacheRequest } from '../cache/request.js';
import type { Exchange } from './exchange.js';
import { relayInterim } from './interim.js';

export function cacheRequestOf(ex: Exchange): CacheRequest {
  let signal: AbortSignal | undefined;
  return {
    method: ex.method,
    target: ex.target,
    resourceUrl: ex.resourceUrl,
    headers: ex.reqHeaders,
    upstreamHeaders: ex.upstreamHeaders,
    body: requestBody(ex),
    mode: ex.mode,
    httpVersion: ex.req.httpVersion,
    notes: ex.record,
    interim: (status, headers) => relayInterim(ex.res, ex.req.httpVersion, status, headers),
    /** made on first use (pass-through and unsafe methods): aborted when the client goes away early */
    get clientGone(): AbortSignal {
      if (!signal) {
        const ac = new AbortController();
        ex.res.once('close', () => { if (!ex.res.writableFinished) ac.abort(); });
        signal = ac.signal;
      }
      return signal;
    },
  };
}

/** The request body to forward, if the client sent one. */
function requestBody(ex: Exchange): Readable | null {
  const h = ex.req.headers;
  if (h['transfer-encoding'] !== undefined) return ex.body ?? ex.req;
  const cl = h['content-length'];
  if (cl !== undefined && cl !== '0') return ex.body ?? ex.req;
  return null;
}
