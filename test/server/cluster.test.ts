/**
 * --workers N through the real CLI: N processes on one port, one shared disk store, one admin listener.
 * The connections a test opens are spread round-robin by the primary, so opening many fresh connections
 * reaches every worker; /stats reports each worker's own counts, which is how the tests see who served what.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { viaProxy, type SimpleResponse } from '../helpers/client.js';
import { parsePrometheusText } from '../admin/prom-text.js';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  port: number;
  adminPort: number;
  dir: string;
  /** resolves with the first match of re in stderr written after this call */
  nextLog(re: RegExp): Promise<RegExpExecArray>;
  stderr(): string;
  exited: Promise<number | null>;
}

/** p, or a rejection naming what did not happen within ms */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function startCluster(upstream: string, extra: string[] = []): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cluster-'));
  const adminPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--workers', '2', '--port', '0', '--upstream', upstream,
    '--cache-dir', dir, '--admin-port', String(adminPort), '--access-log', join(dir, 'access.log'), '--log-format', 'squid', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const watchers = new Set<{ re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }>();
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of watchers) {
      const m = w.re.exec(err.slice(w.from));
      if (m) { watchers.delete(w); w.resolve(m); }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const nextLog = (re: RegExp) => new Promise<RegExpExecArray>((resolve) => { watchers.add({ re, from: err.length, resolve }); });
  const started = await Promise.race([
    nextLog(/listening on http:\/\/127\.0\.0\.1:(\d+)/),
    exited.then((c) => { throw new Error(`larder exited ${c} before listening: ${err}`); }),
  ]);
  // the listening line comes once the first worker serves; the second one follows
  const bothReady = () => (err.match(/"msg":"worker ready"/g) ?? []).length >= 2;
  if (!bothReady()) {
    await Promise.race([
      new Promise<void>((resolve) => { const on = () => { if (bothReady()) { child.stderr!.off('data', on); resolve(); } }; child.stderr!.on('data', on); }),
      exited.then((c) => { throw new Error(`larder exited ${c}: ${err}`); }),
    ]);
  }
  return { child, port: Number(started[1]), adminPort, dir, nextLog, stderr: () => err, exited };
}

async function stopCluster(r: Running): Promise<void> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  await r.exited;
  rmSync(r.dir, { recursive: true, force: true });
}

async function adminJson(r: Running, path: string, init?: { method: string; body: string }): Promise<any> {
  const res = await viaProxy(r.adminPort, path, init ? { method: init.method, body: init.body, headers: { 'content-type': 'application/json', host: '127.0.0.1' } } : { headers: { host: '127.0.0.1' } });
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString());
}

interface WorkerFigures { id: number; pid: number; requests: number; collapsed: number; byCache: Record<string, number> }
const perWorker = async (r: Running): Promise<Map<number, WorkerFigures>> =>
  new Map(((await adminJson(r, '/stats')).workers as WorkerFigures[]).map((w) => [w.id, w]));

/** n requests, each on a new connection (so round-robin spreads them over the workers), in sequence */
async function sequential(r: Running, path: string, n: number): Promise<SimpleResponse[]> {
  const out: SimpleResponse[] = [];
  for (let i = 0; i < n; i++) out.push(await viaProxy(r.port, path, { headers: { connection: 'close' } }));
  return out;
}

let origin: TestOrigin;
let larder: Running;
let version = 1;
const slowHeld = new Set<() => void>();
let onSlow: (() => void) | undefined;

before(async () => {
  origin = await startOrigin((req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/s5')) {
      // scenario S5: the origin takes 200 ms
      setTimeout(() => { res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }); res.end('collapsed body'); }, 200);
      return;
    }
    if (path.startsWith('/slow')) {
      onSlow?.();
      const t = setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '9' }); res.end('slow body'); }, 1000);
      slowHeld.add(() => clearTimeout(t));
      return;
    }
    if (path.startsWith('/versioned')) {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
      res.end(`version ${version}`);
      return;
    }
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
    res.end(`body of ${path}`);
  });
  larder = await startCluster(origin.url);
});

after(async () => {
  await stopCluster(larder);
  for (const c of slowHeld) c();
  await origin.close();
});

test('two workers serve the port, and /stats lists both', async () => {
  const info = await adminJson(larder, '/stats');
  assert.equal(info.cluster.workers.length, 2);
  assert.ok(info.cluster.workers.every((w: { ready: boolean }) => w.ready));
  assert.notEqual(info.cluster.workers[0].pid, info.cluster.workers[1].pid);
  assert.equal(info.cluster.primaryPid, larder.child.pid);
});

test('shared store: an object fetched through one worker is a hit in the other, stored once', async () => {
  const beforeHits = await perWorker(larder);
  const [first] = await sequential(larder, '/shared', 1);
  assert.match(String(first!.headers['cache-status']), /fwd=uri-miss.*stored/);
  const rest = await sequential(larder, '/shared', 20);
  for (const r of rest) {
    assert.equal(r.body.toString(), 'body of /shared');
    assert.match(String(r.headers['cache-status']), /^larder; hit/);
  }
  assert.equal(origin.count('/shared'), 1, 'one origin request for both workers');
  const afterHits = await perWorker(larder);
  for (const [id, w] of afterHits) {
    assert.ok(w.byCache.hit - (beforeHits.get(id)?.byCache.hit ?? 0) > 0, `worker ${id} served hits without fetching`);
  }
  const stats = await adminJson(larder, '/stats');
  const lmdb = stats.store.find((s: { tier: string }) => s.tier === 'lmdb');
  // one object on disk (the shared tier is counted once, not once per worker)
  assert.equal(lmdb.objects, 1);
});

test('collapsing across workers: 200 concurrent requests for one slow uncached URL reach the origin once (S5)', async () => {
  const before = await perWorker(larder);
  const results = await Promise.all(Array.from({ length: 200 }, () => viaProxy(larder.port, '/s5', { headers: { connection: 'close' } })));
  for (const r of results) {
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'collapsed body');
  }
  assert.equal(origin.count('/s5'), 1);
  const afterFig = await perWorker(larder);
  // both workers had requests waiting for the one flight: one of them waited on the other's fetch
  for (const [id, w] of afterFig) {
    assert.ok(w.collapsed - (before.get(id)?.collapsed ?? 0) > 0, `worker ${id} had no collapsed requests`);
  }
});

test('metrics: requests counted in each worker add up in /metrics and /stats', async () => {
  const read = async () => {
    const res = await viaProxy(larder.adminPort, '/metrics', { headers: { host: '127.0.0.1' } });
    const { samples } = parsePrometheusText(res.body.toString());
    return samples.filter((s) => s.name === 'larder_requests_total').reduce((a, s) => a + s.value, 0);
  };
  const base = await read();
  const baseStats = (await adminJson(larder, '/stats')).totals.requests;
  const n = 30;
  await sequential(larder, '/counted', n);
  // the access record is counted when the response has finished on the proxy's side: wait for it, bounded
  let now = await read();
  for (let i = 0; i < 40 && now - base < n; i++) { await new Promise((r) => setTimeout(r, 50)); now = await read(); }
  assert.equal(now - base, n);
  const stats = await adminJson(larder, '/stats');
  assert.equal(stats.totals.requests - baseStats, n);
  assert.equal(stats.workers.reduce((a: number, w: WorkerFigures) => a + w.requests, 0), stats.totals.requests);
  assert.ok(stats.workers.every((w: WorkerFigures) => w.requests > 0), 'both workers served');
  const text = (await viaProxy(larder.adminPort, '/metrics', { headers: { host: '127.0.0.1' } })).body.toString();
  assert.match(text, /^larder_workers 2$/m);
});

async function warmBoth(path: string): Promise<void> {
  const before = await perWorker(larder);
  await sequential(larder, path, 6);
  const afterFig = await perWorker(larder);
  for (const [id, w] of afterFig) assert.ok(w.requests > (before.get(id)?.requests ?? 0), `worker ${id} did not see ${path}`);
}

test('purge through the admin API is seen by every worker at once', async () => {
  version = 1;
  await warmBoth('/versioned-admin');
  version = 2;
  const r = await adminJson(larder, '/purge', { method: 'POST', body: JSON.stringify({ url: `http://127.0.0.1:${larder.port}/versioned-admin` }) });
  assert.equal(r.purged, 1);
  const after = await sequential(larder, '/versioned-admin', 6);
  for (const res of after) assert.equal(res.body.toString(), 'version 2');
});

test('PURGE and invalidation in one worker are seen by every worker at once', async () => {
  version = 1;
  await warmBoth('/versioned-purge');
  version = 2;
  const p = await viaProxy(larder.port, '/versioned-purge', { method: 'PURGE', headers: { connection: 'close' } });
  assert.equal(p.status, 200);
  for (const res of await sequential(larder, '/versioned-purge', 6)) assert.equal(res.body.toString(), 'version 2');

  version = 1;
  await warmBoth('/versioned-post');
  version = 2;
  const w = await viaProxy(larder.port, '/versioned-post', { method: 'POST', body: 'x', headers: { connection: 'close' } });
  assert.equal(w.status, 200);
  for (const res of await sequential(larder, '/versioned-post', 6)) assert.equal(res.body.toString(), 'version 2');
});

test('SIGHUP reaches every worker: after logrotate renames the access log, all workers write the new file', async () => {
  const file = join(larder.dir, 'access.log');
  const lines = (f: string) => { try { return readFileSync(f, 'utf8').split('\n').filter(Boolean); } catch { return []; } };
  await warmBoth('/logged');
  // the lines of finished requests are written asynchronously: wait, bounded, until they are in the file
  for (let i = 0; i < 40 && lines(file).filter((l) => l.includes('/logged')).length < 6; i++) await new Promise((r) => setTimeout(r, 50));
  renameSync(file, `${file}.1`);
  const oldCount = lines(`${file}.1`).length;
  // two "reopened" lines from two different workers
  const both = larder.nextLog(/"worker":(\d+)[^\n]*"msg":"access log reopened"[\s\S]*"worker":(?!\1\b)(\d+)[^\n]*"msg":"access log reopened"/);
  larder.child.kill('SIGHUP');
  await within(both, 10_000, 'both workers reopening the access log');
  await warmBoth('/rotated');
  for (let i = 0; i < 40 && lines(file).length < 6; i++) await new Promise((r) => setTimeout(r, 50));
  const fresh = lines(file);
  assert.equal(fresh.length, 6);
  assert.ok(fresh.every((l) => l.includes('/rotated')));
  assert.equal(lines(`${file}.1`).length, oldCount, 'nothing more in the renamed file');
});

test('a dead worker is replaced and the port keeps serving', async () => {
  const info = await adminJson(larder, '/stats');
  const victim: number = info.cluster.workers[0].pid;
  const survivor: number = info.cluster.workers[1].pid;
  const exited = larder.nextLog(/"msg":"worker exited; starting a new one"/);
  const replaced = larder.nextLog(/"pid":(\d+),"port":\d+,"msg":"worker ready"/);
  process.kill(victim, 'SIGKILL');
  await exited;
  // while one worker is gone, every connection is served by the other
  for (const r of await sequential(larder, '/shared', 4)) assert.equal(r.status, 200);
  const m = await replaced;
  const fresh = Number(m[1]);
  assert.notEqual(fresh, victim);
  const now = await adminJson(larder, '/stats');
  const pids = now.cluster.workers.map((w: { pid: number }) => w.pid).sort();
  assert.deepEqual(pids, [survivor, fresh].sort());
  assert.equal(now.cluster.restarts, 1);
  const served = await perWorker(larder);
  await sequential(larder, '/shared', 4);
  const newWorker = [...(await perWorker(larder)).values()].find((w) => w.pid === fresh)!;
  assert.ok(newWorker.requests > (served.get(newWorker.id)?.requests ?? 0), 'the new worker takes connections');
  const text = (await viaProxy(larder.adminPort, '/metrics', { headers: { host: '127.0.0.1' } })).body.toString();
  assert.match(text, /^larder_worker_restarts_total 1$/m);
});

test('SIGTERM: an in-flight slow request completes, then every process exits 0', async () => {
  const pids: number[] = (await adminJson(larder, '/stats')).cluster.workers.map((w: { pid: number }) => w.pid);
  const atOrigin = new Promise<void>((r) => { onSlow = r; });
  const response = viaProxy(larder.port, '/slow');
  await atOrigin;
  let exitedAt = 0;
  const exited = larder.exited.then((c) => { exitedAt = Date.now(); return c; });
  larder.child.kill('SIGTERM');
  const res = await response;
  const doneAt = Date.now();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'slow body');
  assert.equal(await exited, 0);
  assert.ok(exitedAt >= doneAt, 'the primary exited after the response completed');
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
});

test('shutdown is bounded by shutdown-timeout when a request hangs', async () => {
  let arrived!: () => void;
  const atOrigin = new Promise<void>((r) => { arrived = r; });
  const hanging = await startOrigin(() => { arrived(); /* and never answers */ });
  const l = await startCluster(hanging.url, ['--shutdown-timeout', '500ms']);
  try {
    const response = viaProxy(l.port, '/hang').then((r) => r.status, () => 'reset');
    await atOrigin;
    const t0 = Date.now();
    l.child.kill('SIGTERM');
    assert.equal(await l.exited, 0);
    const took = Date.now() - t0;
    assert.ok(took < 500 + 2000 + 1500, `exited after ${took} ms`);
    assert.notEqual(await response, 200);
  } finally {
    await stopCluster(l);
    await hanging.close();
  }
});

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const reusePortSupported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

test('--worker-mode reuseport: each worker binds the port, one store, one origin fetch (Node >= 22.12)', { skip: !reusePortSupported && `Node ${process.version} has no reusePort` }, async () => {
  const l = await startCluster(origin.url, ['--worker-mode', 'reuseport']);
  try {
    const results = await Promise.all(Array.from({ length: 100 }, () => viaProxy(l.port, '/s5-reuseport', { headers: { connection: 'close' } })));
    for (const r of results) assert.equal(r.body.toString(), 'collapsed body');
    assert.equal(origin.count('/s5-reuseport'), 1);
    const workers = (await adminJson(l, '/stats')).workers as WorkerFigures[];
    assert.equal(workers.length, 2);
    assert.equal(workers.reduce((a, w) => a + w.requests, 0), 100);
  } finally {
    await stopCluster(l);
  }
});

test('--worker-mode reuseport on a Node without reusePort exits 2 and says which Node it needs', { skip: reusePortSupported && 'this Node has reusePort' }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--workers', '2', '--worker-mode', 'reuseport', '--port', '0', '--no-disk', '--admin-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 2);
  assert.match(err, /reuseport needs Node >= 22\.12/);
});
