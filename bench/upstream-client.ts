/**
 * Upstream client micro-benchmark: sequential 1 KiB GETs over one pooled keep-alive connection to a local
 * node:http origin (the S4 shape, client side only), comparing undici's request() (promise + BodyReadable,
 * what src/upstream/client.ts uses) with Dispatcher.dispatch and a v7 handler that pushes into a plain
 * Readable (the least a caller needing a Readable body can do), interleaved in one run.
 * Run: node --import tsx bench/upstream-client.ts   (N=5000 ROUNDS=3)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

const N = Number(process.env.N ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const body = Buffer.alloc(1024, 'x');
const origin = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'content-length': body.length }); res.end(body); });
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const agent = new Agent({ connections: 1, pipelining: 1 });

async function viaRequest(): Promise<number> {
  const r = await agent.request({ origin: url, path: '/nostore/1k', method: 'GET', headers: ['host', 'x'] });
  let n = 0;
  for await (const c of r.body) n += (c as Buffer).length;
  return n;
}

function viaDispatch(): Promise<number> {
  return new Promise((resolve, reject) => {
    let stream: Readable | undefined;
    agent.dispatch({ origin: url, path: '/nostore/1k', method: 'GET', headers: ['host', 'x'] }, {
      onRequestStart() {},
      onResponseStart(controller: Dispatcher.DispatchController, status: number) {
        if (status < 200) return;
        stream = new Readable({ read() { controller.resume(); } });
        let n = 0;
        stream.on('data', (c: Buffer) => { n += c.length; }).on('end', () => resolve(n)).on('error', reject);
      },
      onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer) { if (!stream!.push(chunk)) controller.pause(); },
      onResponseEnd() { stream!.push(null); },
      onResponseError(_c: unknown, err: Error) { if (stream) stream.destroy(err); else reject(err); },
    } as Dispatcher.DispatchHandler);
  });
}

const impls = { 'request()': viaRequest, 'dispatch()': viaDispatch };
const best: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(impls)) {
    for (let i = 0; i < 500; i++) await fn();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await fn();
    const us = ((performance.now() - t0) * 1000) / N;
    best[name] = Math.min(best[name] ?? Infinity, us);
  }
}
for (const [name, us] of Object.entries(best)) console.log(`${name.padEnd(12)} ${us.toFixed(1)} µs per exchange (best of ${ROUNDS}, ${N} sequential)`);
console.log(`dispatch/request time ratio: ${(best['dispatch()']! / best['request()']!).toFixed(2)}`);
await agent.close();
origin.close();
