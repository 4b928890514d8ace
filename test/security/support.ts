/**
 * Shared pieces of the security corpus: a raw exchange that also tells whether the proxy closed the
 * connection (and how fast), the two proxy modes a case runs in, and the "next well-formed request is
 * still served" check every case ends with.
 */
import net from 'node:net';
import assert from 'node:assert/strict';
import type { RawOrigin } from '../helpers/raw-origin.js';

export interface Exchanged {
  /** everything received, latin1 */
  text: string;
  /** status code of the first response line, 0 when none */
  status: number;
  /** the proxy closed the connection before the timeout */
  closed: boolean;
  /** ms from connect to close (or timeout) */
  ms: number;
}

/** Write `parts` (with `gapMs` between them) to 127.0.0.1:port (from localAddress, e.g. 127.0.0.2) and read until close or timeoutMs. */
export function exchange(port: number, data: string | Buffer | (string | Buffer)[], timeoutMs = 3000, gapMs = 0, localAddress?: string): Promise<Exchanged> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    const chunks: Buffer[] = [];
    let closed = false;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed, ms: Date.now() - started });
    };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => { closed = true; done(); });
    s.on('close', () => { closed = true; done(); });
    s.on('error', () => { closed = true; done(); });
    const parts = Array.isArray(data) ? data : [data];
    void (async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

export type Mode = 'forward' | 'reverse';

/** Request target and Host for a path at the origin, as a client of the proxy in `mode` sends them. */
export function targetFor(mode: Mode, origin: { host: string }, path: string): { target: string; host: string } {
  return mode === 'forward' ? { target: `http://${origin.host}${path}`, host: origin.host } : { target: path, host: 'site.example' };
}

/** A well-formed GET in raw form. */
export function wellFormed(mode: Mode, origin: { host: string }, path: string): string {
  const { target, host } = targetFor(mode, origin, path);
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

/** The next well-formed request on a new connection is served (200, body "ok") and reaches the origin exactly once. */
export async function assertStillServes(port: number, mode: Mode, origin: RawOrigin, label: string): Promise<void> {
  const path = `/after-${Math.random().toString(36).slice(2)}`;
  const before = origin.count(path);
  const r = await exchange(port, wellFormed(mode, origin, path), 3000);
  assert.equal(r.status, 200, `${label}: next request not served: ${JSON.stringify(r.text.slice(0, 200))}`);
  assert.ok(r.text.endsWith('ok'), `${label}: next body wrong`);
  assert.equal(origin.count(path), before + 1, `${label}: next request did not reach the origin exactly once`);
}
