/**
 * The last-resort policy: an unhandled rejection is logged and counted and serving goes on; an uncaught
 * exception is logged and counted, the proxy drains (bounded) and exits 1 for its supervisor to restart it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { installLastResort } from '../../src/server/last-resort.js';
import { Metrics } from '../../src/admin/metrics.js';

function harness(shutdown: () => Promise<void>, graceMs = 50) {
  const proc = new EventEmitter();
  const logged: string[] = [];
  const counted: string[] = [];
  let exitCode: number | undefined;
  let exited!: (code: number) => void;
  const exitedP = new Promise<number>((r) => { exited = r; });
  let shutdowns = 0;
  const remove = installLastResort({
    proc, graceMs,
    log: { error: (_o, m) => logged.push(`error: ${m}`), fatal: (_o, m) => logged.push(`fatal: ${m}`) },
    count: (k) => counted.push(k),
    shutdown: () => { shutdowns++; return shutdown(); },
    exit: (c) => { exitCode ??= c; exited(c); },
  });
  return { proc, logged, counted, exitedP, remove, get exitCode() { return exitCode; }, get shutdowns() { return shutdowns; } };
}

test('an unhandled rejection is logged and counted; the process keeps serving', () => {
  const h = harness(async () => undefined);
  h.proc.emit('unhandledRejection', new Error('background task failed'), Promise.resolve());
  assert.deepEqual(h.counted, ['rejection']);
  assert.match(h.logged[0]!, /^error: unhandled promise rejection/);
  assert.equal(h.shutdowns, 0);
  assert.equal(h.exitCode, undefined);
  h.remove();
  assert.equal(h.proc.listenerCount('uncaughtException') + h.proc.listenerCount('unhandledRejection'), 0);
});

test('an uncaught exception is logged and counted, then the proxy drains and exits 1', async () => {
  const h = harness(async () => undefined);
  h.proc.emit('uncaughtException', new Error('bug'));
  assert.equal(await h.exitedP, 1);
  assert.deepEqual(h.counted, ['exception']);
  assert.equal(h.shutdowns, 1);
  assert.match(h.logged[0]!, /^fatal: uncaught exception .*exiting for the supervisor to restart it/);
  h.remove();
});

test('the drain is bounded: a shutdown that never finishes still exits 1 (graceMs + 1 s)', async () => {
  const h = harness(() => new Promise(() => {}), 50);
  const started = Date.now();
  h.proc.emit('uncaughtException', new Error('bug'));
  assert.equal(await h.exitedP, 1);
  assert.ok(Date.now() - started < 3000, `exited after ${Date.now() - started} ms`);
  h.remove();
});

test('a second uncaught exception during the drain exits at once', async () => {
  const h = harness(() => new Promise(() => {}), 100);
  h.proc.emit('uncaughtException', new Error('bug'));
  h.proc.emit('uncaughtException', new Error('another'));
  assert.equal(await h.exitedP, 1);
  assert.deepEqual(h.counted, ['exception', 'exception']);
  h.remove();
});

test('larder_uncaught_errors_total is exported by kind', async () => {
  const m = new Metrics({ storeStats: () => [], defaultMetrics: false });
  m.uncaughtError('rejection');
  m.uncaughtError('rejection');
  m.uncaughtError('exception');
  const text = await m.registry.metrics();
  assert.match(text, /larder_uncaught_errors_total\{kind="rejection"\} 2/);
  assert.match(text, /larder_uncaught_errors_total\{kind="exception"\} 1/);
});
