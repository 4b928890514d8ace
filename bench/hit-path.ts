/**
 * Hit-path benchmark: requests per second for a cached 1 KiB (and 16 KiB) object through larder
 * (reverse mode, memory hit), against a plain node:http server answering the same bytes, measured in the
 * same run, interleaved (A B A B ...) so the ratio survives a noisy machine. The load generator is
 * undici with 64 keep-alive connections in this process.
 * Run: node --import tsx bench/hit-path.ts   (DUR=5 ROUNDS=3 CONNS=64)
 */
import { spawn } from 'node:child_process';
import { waitForPort } from './support.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { Pool } from 'undici';

const DUR = Number(process.env.DUR ?? 5) * 1000;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNS = Number(process.env.CONNS ?? 64);
const root = new URL('..', import.meta.url).pathname;

async function load(port: number, path: string): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNS, pipelining: 1 });
  const end = Date.now() + DUR;
  let done = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const r = await pool.request({ path, method: 'GET' });
      await r.body.dump();
      if (r.statusCode === 200) done++;
    }
  };
  await Promise.all(Array.from({ length: CONNS }, worker));
  await pool.close();
  return done / (DUR / 1000);
}

async function main(): Promise<void> {
  const sizes = [1024, 16 * 1024];
  const origin = http.createServer((req, res) => {
    const size = Number(new URL(req.url!, 'http://x').searchParams.get('size') ?? 1024);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'cache-control': 'max-age=3600' });
    res.end(Buffer.alloc(size, 'x'));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const cli = existsSync(`${root}dist/cli.js`) ? [`${root}dist/cli.js`] : ['--import', 'tsx', `${root}src/cli.ts`];
  const larder = spawn(process.execPath, [...cli, '--port', '0', '--upstream', `http://127.0.0.1:${originPort}`, '--no-disk',
    '--admin-port', '0', '--access-log', 'off', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const larderPort = await waitForPort(larder, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  const results: string[] = [];
  try {
    for (const size of sizes) {
      const base = spawn(process.execPath, [`${root}bench/baseline-server.mjs`], { env: { ...process.env, SIZE: String(size) }, stdio: ['ignore', 'pipe', 'inherit'] });
      const basePort = await waitForPort(base, /listening (\d+)/);
      const path = `/obj?size=${size}`;
      await load(larderPort, path); // warm: first request stores, the rest are hits
      const l: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        b.push(await load(basePort, path));
        l.push(await load(larderPort, path));
      }
      base.kill('SIGTERM');
      const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      results.push(`hit ${size / 1024} KiB, ${CONNS} conns: larder ${med(l).toFixed(0)} req/s, node:http baseline ${med(b).toFixed(0)} req/s, ratio ${(med(l) / med(b)).toFixed(2)} (median of ${ROUNDS})`);
    }
  } finally {
    larder.kill('SIGTERM');
    origin.close();
  }
  console.log(results.join('\n'));
}

void main();
