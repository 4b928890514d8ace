import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { runPurgeCommand, runStatsCommand, adminTarget } from '../../src/cli/admin-client.js';
import { startAdmin } from '../../src/admin/server.js';
import { Metrics } from '../../src/admin/metrics.js';
import { record } from '../log/records.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { stream, text: () => text };
}

async function admin(t: { after: (fn: () => Promise<void>) => void }, adminToken?: string) {
  const metrics = new Metrics({ storeStats: () => [{ tier: 'memory', objects: 3, bytes: 3000, budget: 10_000, evictions: 1, hits: 0, misses: 0 }], defaultMetrics: false });
  const purges: unknown[] = [];
  const handle = await startAdmin({
    config: { adminHost: '127.0.0.1', adminPort: 0, adminToken },
    metrics, purge: async (target) => { purges.push(target); return 'prefix' in target && target.prefix ? 4 : 1; },
    info: () => ({ version: '0.1.0', uptime: 5 }), log: pino({ level: 'silent' }),
  });
  t.after(() => handle.close());
  return { port: handle.port, metrics, purges };
}

/** A port with nothing listening on it. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const base = { adminHost: '127.0.0.1', adminToken: undefined, cacheDir: '/nonexistent/larder' };

test('purge URL and purge --prefix go to the admin listener', async (t) => {
  const { port, purges } = await admin(t);
  const out = sink();
  assert.equal(await runPurgeCommand({ ...base, adminPort: port }, ['http://a.test/x'], out.stream), 0);
  assert.equal(await runPurgeCommand({ ...base, adminPort: port }, ['--prefix', 'http://a.test/'], out.stream), 0);
  assert.deepEqual(purges, [{ url: 'http://a.test/x' }, { prefix: 'http://a.test/' }]);
  assert.equal(out.text(), 'purged 1 entry (http://a.test/x)\npurged 4 entries (prefix http://a.test/)\n');
});

test('purge: usage errors exit 2, a token error says how to pass one', async (t) => {
  const { port } = await admin(t, 'tok');
  const out = sink();
  const err = sink();
  assert.equal(await runPurgeCommand({ ...base, adminPort: port }, [], out.stream, { err: err.stream }), 2);
  assert.equal(await runPurgeCommand({ ...base, adminPort: port }, ['not a url'], out.stream, { err: err.stream }), 2);
  assert.equal(await runPurgeCommand({ ...base, adminPort: port }, ['http://a.test/'], out.stream, { err: err.stream }), 1);
  assert.match(err.text(), /missing or wrong admin token: pass --admin-token or set LARDER_ADMIN_TOKEN/);
  assert.equal(await runPurgeCommand({ ...base, adminPort: port, adminToken: 'tok' }, ['http://a.test/'], out.stream, { err: err.stream }), 0);
  assert.equal(out.text(), 'purged 1 entry (http://a.test/)\n');
});

test('stats prints the running proxy figures', async (t) => {
  const { port, metrics } = await admin(t);
  metrics.onRequest(record({ cache: 'hit', bytesSent: 2000, url: 'http://h.test/a' }));
  metrics.onRequest(record({ cache: 'miss', bytesSent: 2000 }));
  const out = sink();
  assert.equal(await runStatsCommand({ ...base, adminPort: port }, out.stream), 0);
  const text = out.text();
  assert.match(text, /^larder 0\.1\.0 up 5 s$/m);
  assert.match(text, /^requests +2 /m);
  assert.match(text, /^hit ratio +50\.0% since start/m);
  assert.match(text, /^byte hit +50\.0% since start/m);
  assert.match(text, /^ +memory +3 objects +2\.9KiB of 9\.8KiB \(30\.0%\) +1 evictions$/m);
  assert.match(text, /h\.test/);
});

test('stats falls back to the store figures when larder is not running', async () => {
  const port = await freePort();
  const out = sink();
  const err = sink();
  const dirs: string[] = [];
  const code = await runStatsCommand({ ...base, adminPort: port, cacheDir: '/tmp/some-cache' }, out.stream, {
    err: err.stream,
    readStoreStats: (dir) => { dirs.push(dir); return [{ tier: 'disk', objects: 10, bytes: 5000, budget: 1_000_000, evictions: 0, hits: 0, misses: 0 }]; },
  });
  assert.equal(code, 0);
  assert.deepEqual(dirs, ['/tmp/some-cache']);
  assert.match(out.text(), new RegExp(`larder is not running \\(no admin listener at 127\\.0\\.0\\.1:${port} \\(is larder running\\?\\)\\); store in /tmp/some-cache:`));
  assert.match(out.text(), /disk +10 objects/);
  assert.equal(err.text(), '');
});

test('stats without a proxy and without a readable store fails clearly', async () => {
  const port = await freePort();
  const out = sink();
  const err = sink();
  const code = await runStatsCommand({ ...base, adminPort: port }, out.stream, {
    err: err.stream, readStoreStats: () => { throw new Error('no store here'); },
  });
  assert.equal(code, 1);
  assert.match(err.text(), /no admin listener .* and the store in \/nonexistent\/larder cannot be read: no store here/);
  // the default reader (src/store/open.ts) may not exist in this build: still a clear message, never a crash
  const err2 = sink();
  const out2 = sink();
  const code2 = await runStatsCommand({ ...base, adminPort: port }, out2.stream, { err: err2.stream });
  if (code2 === 1) assert.match(err2.text(), /^larder stats: no admin listener .* cannot be read: .+\n$/);
  else {
    assert.equal(code2, 0);
    assert.match(out2.text(), /^larder is not running/);
  }
});

test('wildcard bind addresses are reached on loopback', () => {
  assert.deepEqual(adminTarget({ adminHost: '0.0.0.0', adminPort: 3129 }), { host: '127.0.0.1', port: 3129 });
  assert.deepEqual(adminTarget({ adminHost: '::', adminPort: 3129 }), { host: '::1', port: 3129 });
  assert.deepEqual(adminTarget({ adminHost: '[::1]', adminPort: 1 }), { host: '::1', port: 1 });
});
