/**
 * One upstream exchange: send the request, time it, note where it went, and turn any failure into a typed
 * value. Every path of the engine (miss, revalidation, pass-through, unsafe methods, background refresh)
 * goes through here.
 */
import { once } from 'node:events';
import { CodedError, UpstreamFailure, type ExchangeError } from '../errors.js';
import type { Clock, RequestNotes, UpstreamPort, UpstreamReply, UpstreamRequest } from './request.js';

export type ExchangeResult =
  | { ok: true; reply: UpstreamReply; requestTime: number; responseTime: number }
  | { ok: false; error: ExchangeError };

export async function exchange(port: UpstreamPort, clock: Clock, req: UpstreamRequest, notes?: RequestNotes): Promise<ExchangeResult> {
  const requestTime = clock();
  let reply: UpstreamReply;
  try {
    reply = await port.request(req);
  } catch (err) {
    const error = err instanceof UpstreamFailure || err instanceof CodedError ? err : port.classify(err, req.url);
    return { ok: false, error };
  }
  const responseTime = clock();
  if (notes) {
    notes.upstreamMs = responseTime - requestTime;
    notes.upstreamAddress = reply.address;
  }
  return { ok: true, reply, requestTime, responseTime };
}

/** Read and discard a body we do not use (a 304's, a refused background refresh). */
export async function drain(reply: UpstreamReply): Promise<void> {
  if (reply.body.readableEnded) return;
  reply.body.resume();
  await once(reply.body, 'end').catch(() => undefined);
}
