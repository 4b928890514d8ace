/**
 * Resource exhaustion: 2,000 idle keep-alive connections plus 200 slowloris clients (a head byte by byte)
 * must not stop a new client from being served promptly, and the proxy's memory stays bounded. larder
 * runs as a child process (the real CLI) so its RSS is measured alone; the figures are printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startRawOrigin, faults } from '../helpers/raw-origin.js';
import { exchange } from './support.js';
import { startCli } from './cli-process.js';
import { sleep } from '../helpers/client.js';

const IDLE = 2000;
const SLOW = 200;
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

test(`${IDLE} idle keep-alive connections and ${SLOW} slow clients do not stop a new client; RSS stays bounded`, { timeout: 60_000 }, async () => {
  const origin = await startRawOrigin(faults.ok());
  cleanup.push(() => origin.close());
  const { child, port } = await startCli(['--keep-alive-timeout', '60s', '--headers-timeout', '60s']);
  cleanup.push(() => { child.kill('SIGKILL'); });
  const sockets: net.Socket[] = [];
  cleanup.push(() => { for (const s of sockets) s.destroy(); });
  const req = (path: string) => `GET http://${origin.host}${path} HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`;

  const warm = await exchange(port, `GET http://${origin.host}/warm HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`);
  assert.equal(warm.status, 200);
  const rssStart = rssMB(child.pid!);

  // 2,000 keep-alive connections from 127.0.0.2, each served once, then left idle
  let served = 0;
  const openIdle = () => new Promise<void>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    sockets.push(s);
    s.on('error', () => resolve());
    s.once('data', () => { served++; resolve(); });
    s.write(req('/idle'));
  });
  for (let i = 0; i < IDLE; i += 100) await Promise.all(Array.from({ length: Math.min(100, IDLE - i) }, openIdle));
  assert.ok(served >= IDLE * 0.99, `only ${served} of ${IDLE} idle connections were served`);

  // 200 slowloris clients from 127.0.0.3, one head byte every 100 ms
  const head = req('/slow');
  const slow: net.Socket[] = [];
  for (let i = 0; i < SLOW; i++) {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    s.on('error', () => undefined);
    sockets.push(s);
    slow.push(s);
  }
  let pos = 0;
  const drip = setInterval(() => { if (pos < head.length - 4) { for (const s of slow) s.write(head[pos]!); pos++; } }, 100);
  cleanup.push(() => clearInterval(drip));
  await sleep(500);

  // a new client (127.0.0.1) is served promptly, several times over
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const r = await exchange(port, `GET http://${origin.host}/new-${i} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`, 5000);
    latencies.push(Date.now() - started);
    assert.equal(r.status, 200);
    await sleep(200);
  }
  const rssLoaded = rssMB(child.pid!);
  clearInterval(drip);
  const slowOpen = slow.filter((s) => !s.destroyed).length;
  console.log(`# resources: RSS ${rssStart} MB at start, ${rssLoaded} MB with ${IDLE} idle + ${SLOW} slow connections; new-client latency ms ${latencies.join(', ')}; slow clients still open ${slowOpen}`);
  assert.ok(Math.max(...latencies) < 2000, `a new client waited ${Math.max(...latencies)} ms`);
  assert.ok(rssLoaded - rssStart < 150, `RSS grew by ${rssLoaded - rssStart} MB`);
  assert.equal(child.exitCode, null, 'larder exited');
});
