/**
 * Writes a cache Outcome to the client: a stored response, an upstream response (its body teed into the
 * store when the engine opened a fill), or an error page. This is the socket side of the cache engine.
 * Backpressure from the client paces the upstream read; a failure after the head was sent closes the
 * client connection (never a body that looks complete). When the client leaves, the fill decides whether
 * the upstream read goes on (cache/store-tee). No listener or timer is left behind per paused write.
 */
import type { ServerResponse } from 'node:http';
import type { BodySource } from '../store/types.js';
import type { Outcome, StoredOutcome, UpstreamOutcome } from '../cache/request.js';
import { sendError } from './errors.js';
import { answerForExchangeError } from '../errors.js';
import type { Exchange } from './exchange.js';

export interface RespondOptions {
  idleTimeoutMs: number;
}

export function bodyAllowed(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && !(status >= 100 && status < 200);
}

/** Waits until the response can take more (true), or the client went away (false). Leaves no listener behind. */
export function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed && res.writable);
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function respond(ex: Exchange, out: Outcome, opts: RespondOptions): Promise<void> {
  ex.record.cacheStatus = out.cacheStatus;
  ex.record.cache = out.result;
  if (ex.res.headersSent || ex.res.destroyed) {
    // the connection was answered meanwhile (a 400 for a request body with invalid framing) or is gone:
    // nothing more is written, and what the outcome holds is released
    if (out.kind === 'upstream') {
      out.fill?.abort();
      out.reply.body.destroy();
      out.settle({ error: new Error('response already sent') });
    } else if (out.kind === 'stored' && out.body !== undefined && !Buffer.isBuffer(out.body)) out.body.destroy();
    ex.record.aborted = true;
    return;
  }
  if (out.kind === 'error') {
    const err = answerForExchangeError(out.error);
    ex.record.status = err.status;
    sendError(ex.res, err, ex.resourceUrl, out.cacheStatus, err.status === 413);
    return;
  }
  if (out.kind === 'stored') return sendStored(ex, out, opts);
  try {
    await deliverUpstream(ex, out, opts);
  } catch (err) {
    // whatever failed (a head Node refused to write), the upstream connection and the fill are released:
    // requests collapsed onto this fill stop waiting, the pooled connection is not left half-read
    out.fill?.abort();
    out.reply.body.destroy(); // its abort 'error' has a listener from the upstream port (proxy/upstream-port.ts)
    out.settle({ error: err });
    throw err;
  }
}

async function sendStored(ex: Exchange, out: StoredOutcome, opts: RespondOptions): Promise<void> {
  if (out.contentType) ex.record.contentType = out.contentType;
  ex.res.writeHead(out.status, out.headers);
  ex.record.status = out.status;
  await sendBody(ex, out.body, opts.idleTimeoutMs);
}

async function sendBody(ex: Exchange, body: BodySource | undefined, idleTimeoutMs: number): Promise<void> {
  const { res } = ex;
  if (body === undefined) { res.end(); return; }
  if (Buffer.isBuffer(body)) {
    ex.record.bytesSent += body.length;
    res.end(body);
    return;
  }
  res.setTimeout(idleTimeoutMs, () => res.destroy());
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      ex.record.bytesSent += chunk.length;
      if (!res.write(chunk) && !(await drained(res))) {
        body.destroy();
        ex.record.aborted = true;
        return;
      }
    }
    res.end();
  } catch {
    // a body that failed its length/digest check mid-stream: cut the connection, never pretend it is complete
    ex.record.aborted = true;
    res.destroy();
  }
}

async function deliverUpstream(ex: Exchange, out: UpstreamOutcome, opts: RespondOptions): Promise<void> {
  const { res } = ex;
  const { reply, fill } = out;
  const withBody = bodyAllowed(ex.method, reply.status);
  res.writeHead(reply.status, out.headers);
  ex.record.status = reply.status;
  const ct = reply.headers['content-type'];
  if (ct) ex.record.contentType = Array.isArray(ct) ? ct[0] : ct;
  let clientGone = false;
  let abandoned = false;
  /** the client left: stop the upstream read unless the fill goes on without it */
  const leave = (): boolean => {
    clientGone = true;
    if (fill?.active && fill.continueWithoutClient()) return false;
    abandoned = true;
    return true;
  };
  const onClose = () => {
    if (res.writableFinished || clientGone) return;
    if (leave()) reply.body.destroy();
  };
  res.on('close', onClose);
  res.setTimeout(opts.idleTimeoutMs, () => res.destroy());
  try {
    if (!withBody) {
      reply.body.resume();
      await new Promise<void>((resolve) => { reply.body.once('end', resolve); reply.body.once('close', resolve); });
      if (fill) await fill.commit();
      res.end();
      out.settle({});
      return;
    }
    // with a fill and a known length, the chunk that completes the body is held until the entry is committed
    // (bounded by the fill's commit wait), so a client that asks again at once finds it stored (read-your-writes)
    let held: Buffer | undefined;
    for await (const chunk of reply.body as AsyncIterable<Buffer>) {
      if (fill?.active && await fill.write(chunk) && fill.active) {
        held = chunk;
        continue;
      }
      if (!clientGone) {
        ex.record.bytesSent += chunk.length;
        if (!res.write(chunk) && !(await drained(res)) && !clientGone && leave()) break;
      }
      if (clientGone && (abandoned || !fill?.active || !fill.continueWithoutClient())) { abandoned = true; break; }
    }
    if (abandoned) {
      reply.body.destroy();
      fill?.abort();
      ex.record.aborted = true;
      out.settle({});
      return;
    }
    if (fill) await fill.commit();
    if (held && !clientGone) {
      ex.record.bytesSent += held.length;
      res.write(held);
    }
    if (!clientGone) res.end();
    out.settle({});
  } catch (err) {
    fill?.abort();
    ex.record.aborted = true;
    res.destroy();
    out.settle(abandoned ? {} : { error: err });
  } finally {
    res.off('close', onClose);
  }
}
