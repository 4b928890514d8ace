/**
 * Streams an upstream response to the client, optionally teeing the body into a store writer.
 * Backpressure from the client paces the upstream read; a failure after the head was sent closes the
 * client connection (never a body that looks complete); the store entry commits only when the body
 * arrived whole (invariant 1 of DESIGN.md).
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { EntryWriter } from '../store/types.js';
import { objectToPairs } from './headers.js';
import { finishResponseHeaders, type Exchange } from './exchange.js';
import type { UpstreamResponse } from '../upstream/client.js';

export interface DeliveryOutcome {
  /** the whole body reached the client */
  complete: boolean;
  /** the store writer committed */
  stored: boolean;
  error?: unknown;
}

export function bodyAllowed(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && !(status >= 100 && status < 200);
}

/** Waits until the response can take more, or the client went away (returns false). */
async function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return false;
  const ac = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: ac.signal }), once(res, 'close', { signal: ac.signal })]);
  } catch { /* aborted listener */ } finally { ac.abort(); }
  return !res.destroyed && res.writable;
}

export interface DeliverOptions {
  via: string;
  cacheStatus: string;
  writer?: EntryWriter;
  /** header pairs to use instead of the upstream's (already filtered) */
  headers?: [string, string][];
  /** write the head only; the body is drained into the writer (used for followers' store fill) */
  idleTimeoutMs: number;
}

export async function deliverUpstream(ex: Exchange, up: UpstreamResponse, opts: DeliverOptions): Promise<DeliveryOutcome> {
  const { res } = ex;
  const pairs = opts.headers ?? objectToPairs(up.headers);
  const withBody = bodyAllowed(ex.method, up.status);
  res.writeHead(up.status, finishResponseHeaders(pairs, opts.via, opts.cacheStatus));
  ex.record.status = up.status;
  const ct = up.headers['content-type'];
  if (ct) ex.record.contentType = Array.isArray(ct) ? ct[0] : ct;
  let writer = opts.writer;
  let clientGone = false;
  const onClose = () => { if (!res.writableFinished) clientGone = true; };
  res.on('close', onClose);
  res.setTimeout(opts.idleTimeoutMs, () => res.destroy());
  try {
    if (!withBody) {
      up.body.resume();
      await once(up.body, 'end').catch(() => undefined);
      const stored = writer ? await commit(writer) : false;
      res.end();
      return { complete: true, stored };
    }
    // with a writer and a known length, the chunk that completes the body is held until the entry is committed,
    // so a client that asks again as soon as it has the whole body finds it stored (read-your-writes)
    const cl = up.headers['content-length'];
    const expected = writer && typeof cl === 'string' ? Number(cl) : undefined;
    let received = 0;
    let held: Buffer | undefined;
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      const last = expected !== undefined && received >= expected;
      if (writer && !(await feed(writer, chunk))) writer = undefined; // too large or store failure: keep serving the client
      if (last && writer) {
        held = chunk;
        continue;
      }
      if (!clientGone) {
        ex.record.bytesSent += chunk.length;
        if (!res.write(chunk) && !(await drained(res))) clientGone = true;
      }
      if (clientGone && !writer) {
        up.body.destroy();
        ex.record.aborted = true;
        return { complete: false, stored: false };
      }
    }
    // commit before the response ends: a client that asks again as soon as it has the body finds it stored
    // (read-your-writes; with the disk store a commit is one lmdb batch, a few ms)
    const stored = writer ? await commit(writer) : false;
    if (held && !clientGone) {
      ex.record.bytesSent += held.length;
      res.write(held);
    }
    if (!clientGone) res.end();
    return { complete: !clientGone, stored };
  } catch (err) {
    writer?.abort();
    ex.record.aborted = true;
    res.destroy();
    return { complete: false, stored: false, error: err };
  } finally {
    res.off('close', onClose);
  }
}

/** Hand a chunk to the store writer; false (and the writer aborted) when it refused it. */
async function feed(writer: EntryWriter, chunk: Buffer): Promise<boolean> {
  try {
    const p = writer.write(chunk);
    if (p) await p;
    return true;
  } catch {
    writer.abort();
    return false;
  }
}

async function commit(writer: EntryWriter): Promise<boolean> {
  try {
    await writer.commit();
    return true;
  } catch {
    writer.abort();
    return false;
  }
}
