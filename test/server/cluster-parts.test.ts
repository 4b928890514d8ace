/** The cluster's pieces without processes: the collapse lock service, the restart back-off, metric merging. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { ClusterCollapser, CollapseLocks } from '../../src/server/cluster-collapse.js';
import type { PrimaryMessage, WorkerMessage } from '../../src/server/cluster-messages.js';
import { RestartBackoff } from '../../src/server/cluster.js';
import { aggregateMetrics } from '../../src/server/cluster-stats.js';
import { parsePrometheusText } from '../admin/prom-text.js';

// the collapsers' timers are unref'd (a live server keeps a process up); here a ref'd one does
let keepAlive: NodeJS.Timeout;
before(() => { keepAlive = setInterval(() => undefined, 1000); });
after(() => clearInterval(keepAlive));

/** Two ClusterCollapsers wired to one CollapseLocks, as workers 1 and 2 to the primary. */
function wire(boundMs = 10_000) {
  const collapsers = new Map<number, ClusterCollapser>();
  const locks = new CollapseLocks((id, m: PrimaryMessage) => queueMicrotask(() => collapsers.get(id)!.onMessage(m)), boundMs);
  for (const id of [1, 2]) {
    collapsers.set(id, new ClusterCollapser({ connected: true, send: (m: WorkerMessage) => queueMicrotask(() => locks.onMessage(id, m)) }, 5_000));
  }
  return { locks, a: collapsers.get(1)!, b: collapsers.get(2)! };
}

test('one leader across workers; the other worker follows and learns whether the response was stored', async () => {
  const { locks, a, b } = wire();
  const finish = await a.lead('k');
  assert.equal(typeof finish, 'function');
  assert.equal(await b.lead('k'), undefined, 'the second worker is told busy');
  assert.equal(b.lead('k'), undefined, 'a second local request follows without asking');
  const waiting = b.wait('k');
  finish!({ stored: true });
  assert.deepEqual(await waiting, { stored: true, timedOut: false });
  assert.equal(locks.held, 0);
  // the key is free again for anyone
  assert.equal(typeof await b.lead('k'), 'function');
});

test('a leader that dies releases its followers as "not stored"', async () => {
  const { locks, a, b } = wire();
  await a.lead('k');
  assert.equal(await b.lead('k'), undefined);
  const waiting = b.wait('k');
  locks.workerGone(1);
  assert.deepEqual(await waiting, { stored: false, timedOut: false });
  assert.equal(locks.held, 0);
});

test('a grant ends at the bound even without "done"; a late "done" of the old grant cannot end a new one', async () => {
  const { locks, a, b } = wire(30);
  const oldFinish = await a.lead('k');
  assert.equal(await b.lead('k'), undefined);
  const r = await b.wait('k');
  assert.deepEqual(r, { stored: false, timedOut: false });
  const newFinish = await b.lead('k');
  assert.equal(typeof newFinish, 'function');
  oldFinish!({ stored: false });
  await new Promise((res) => setImmediate(res));
  assert.equal(locks.held, 1, 'the new grant survives the old one\'s done');
  newFinish!({ stored: false });
  await new Promise((res) => setImmediate(res));
  assert.equal(locks.held, 0);
});

test('without an answer from the primary a worker leads on its own', async () => {
  const c = new ClusterCollapser({ connected: true, send: () => undefined }, 1000, 100, 20);
  assert.equal(typeof await c.lead('k'), 'function');
  const offline = new ClusterCollapser({ connected: false, send: () => { throw new Error('no channel'); } }, 1000);
  assert.equal(typeof await offline.lead('k'), 'function');
});

test('restart back-off doubles for workers that die young and starts over after a long life', () => {
  const b = new RestartBackoff(100, 1000, 10_000);
  assert.deepEqual([b.next(50), b.next(50), b.next(50), b.next(50), b.next(50)], [100, 200, 400, 800, 1000]);
  assert.equal(b.next(60_000), 0);
  assert.equal(b.next(50), 100);
});

test('merged metrics: counters and the memory tier are summed, the shared lmdb tier is counted once', async () => {
  const worker = async (requests: number, memoryObjects: number) => {
    const registry = new Registry();
    new Counter({ name: 'larder_requests_total', help: 'h', registers: [registry] }).inc(requests);
    const g = new Gauge({ name: 'larder_store_objects', help: 'h', labelNames: ['tier'], registers: [registry] });
    g.set({ tier: 'memory' }, memoryObjects);
    g.set({ tier: 'lmdb' }, 7);
    return registry.getMetricsAsJSON();
  };
  const merged = await aggregateMetrics([await worker(3, 2), await worker(4, 5)]).metrics();
  const { samples } = parsePrometheusText(merged);
  const value = (name: string, tier?: string) => samples.find((s) => s.name === name && s.labels.tier === tier)?.value;
  assert.equal(value('larder_requests_total'), 7);
  assert.equal(value('larder_store_objects', 'memory'), 7);
  assert.equal(value('larder_store_objects', 'lmdb'), 7);
});

test('--workers takes 1..1024; unset means one per CPU (resolved by the CLI)', async () => {
  const { loadConfig } = await import('../../src/config/load.js');
  const { ConfigError } = await import('../../src/errors.js');
  assert.equal(loadConfig([]).config.workers, undefined);
  assert.equal(loadConfig(['--workers', '3']).config.workers, 3);
  assert.equal(loadConfig([], { LARDER_WORKERS: '1' }).config.workers, 1);
  assert.throws(() => loadConfig(['--workers', '0']), (e: Error) => e instanceof ConfigError && /workers: expected 1\.\.1024/.test(e.message));
  assert.throws(() => loadConfig(['--worker-mode', 'fork']), /one of cluster, reuseport/);
});
