/**
 * Memory per cached object (scenario S6) and memory at start, through a running larder (reverse mode,
 * memory tier only, one process, log off): PSS and RSS from /proc/PID/smaps_rollup at start, then after
 * filling N x 1 KiB objects (N = 10,000 and 100,000 by default); bytes per object = PSS growth / N.
 * LARDER_BASELINE=/path/to/other/checkout measures that build's dist/cli.js in the same run (before/after).
 * Run: node --import tsx bench/memory.ts   (COUNTS=10000,100000 SIZE=1024 LARDER_BASELINE=... NODE_FLAGS='--max-semi-space-size=2')
 * Ephemeral ports only; Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import { waitForPort } from './support.js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fillObjects } from './support.js';

const COUNTS = (process.env.COUNTS ?? '10000,100000').split(',').map(Number);
const SIZE = Number(process.env.SIZE ?? 1024);
const root = new URL('..', import.meta.url).pathname;

function memOf(pid: number): { pss: number; rss: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(t)![1]) * 1024;
  return { pss: kb('Pss'), rss: kb('Rss') };
}

async function measure(name: string, dir: string, originPort: number): Promise<string[]> {
  const out: string[] = [];
  const flags = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const larder = spawn(process.execPath, [...flags, `${dir}/dist/cli.js`, '--port', '0', '--upstream', `http://127.0.0.1:${originPort}`, '--no-disk',
    '--workers', '1', '--admin-port', '0', '--access-log', 'off', '--log-level', 'error', '--memory-size', '1GB'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await waitForPort(larder, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    await sleep(500);
    const start = memOf(larder.pid!);
    out.push(`${name}: at start PSS ${(start.pss / 1e6).toFixed(1)} MB, RSS ${(start.rss / 1e6).toFixed(1)} MB`);
    await fillObjects(port, 0, 200); // warm the code paths, so the growth is the entries'
    await sleep(200);
    const warm = memOf(larder.pid!);
    let filled = 0;
    for (const n of COUNTS) {
      await fillObjects(port, filled + 200, n + 200);
      filled = n;
      await sleep(500);
      const m = memOf(larder.pid!);
      out.push(`${name}: after ${n} x ${SIZE} B: PSS ${(m.pss / 1e6).toFixed(1)} MB, RSS ${(m.rss / 1e6).toFixed(1)} MB, ${((m.pss - warm.pss) / n).toFixed(0)} B PSS per object`);
    }
  } finally {
    larder.kill('SIGTERM');
  }
  return out;
}

async function main(): Promise<void> {
  const body = Buffer.alloc(SIZE, 'x');
  const origin = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'max-age=3600', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' });
    res.end(body);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const builds: [string, string][] = [['larder', root]];
  if (process.env.LARDER_BASELINE) builds.unshift(['larder-baseline', process.env.LARDER_BASELINE]);
  try {
    for (const [name, dir] of builds) console.log((await measure(name, dir, originPort)).join('\n'));
  } finally {
    origin.close();
  }
}

void main();
