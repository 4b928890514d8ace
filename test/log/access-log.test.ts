import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessLog } from '../../src/log/access-log.js';
import { formatSquid, formatCombined } from '../../src/log/formats.js';
import { record } from './records.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

test('json lines are written to the file and parse back', async (t) => {
  const file = join(tempDir(t), 'sub', 'access.log');
  const log = createAccessLog({ format: 'json', file });
  const a = record({ url: 'http://a.test/1', cache: 'hit', upstreamMs: undefined, upstreamAddress: undefined });
  const b = record({ url: 'http://a.test/2', status: 404 });
  log.onRequest(a);
  log.onRequest(b);
  await log.close();
  const got = lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(got.length, 2);
  assert.equal(got[0]!.url, 'http://a.test/1');
  assert.equal(got[0]!.cache, 'hit');
  assert.equal('upstreamMs' in got[0]!, false);
  assert.equal(got[1]!.status, 404);
  // access lines carry only request fields: no pino level/pid/hostname
  assert.equal('level' in got[0]!, false);
  assert.equal('pid' in got[0]!, false);
});

test('squid and combined lines equal the pure formatters', async (t) => {
  const dir = tempDir(t);
  const r = record();
  for (const [format, fn] of [['squid', formatSquid], ['combined', formatCombined]] as const) {
    const file = join(dir, `${format}.log`);
    const log = createAccessLog({ format, file });
    log.onRequest(r);
    await log.close();
    assert.deepEqual(lines(file), [fn(r)]);
  }
});

test('reopen after a rename (logrotate + SIGHUP) writes to the new file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'access.log');
  const log = createAccessLog({ format: 'squid', file });
  log.onRequest(record({ url: 'http://a.test/before' }));
  // let the asynchronous write land before rotating, as logrotate would in practice
  await new Promise((r) => setTimeout(r, 50));
  renameSync(file, `${file}.1`);
  log.onRequest(record({ url: 'http://a.test/between' })); // still the old descriptor
  log.reopen();
  log.onRequest(record({ url: 'http://a.test/after' }));
  await log.close();
  assert.ok(existsSync(file), 'the new file was created');
  const oldLines = lines(`${file}.1`).join('\n');
  const newLines = lines(file).join('\n');
  assert.match(oldLines, /\/before /);
  assert.match(newLines, /\/after /);
  assert.doesNotMatch(newLines, /\/before /);
  assert.doesNotMatch(oldLines, /\/after /);
  // nothing lost across the switch
  assert.equal(lines(file).length + lines(`${file}.1`).length, 3);
});

test("'off' writes nothing and an unwritable path fails with a clear message", async (t) => {
  const off = createAccessLog({ format: 'json', file: 'off' });
  off.onRequest(record());
  off.reopen();
  await off.close();
  const dir = tempDir(t);
  if (process.getuid?.() === 0) {
    // root ignores permissions: use a path whose parent is a file instead
    const file = join(dir, 'plain');
    await createAccessLog({ format: 'json', file }).close();
    assert.throws(() => createAccessLog({ format: 'json', file: join(file, 'x.log') }), /access log .*x\.log: cannot open for writing \((ENOTDIR|EEXIST)\)/);
  } else {
    chmodSync(dir, 0o500);
    assert.throws(() => createAccessLog({ format: 'json', file: join(dir, 'x.log') }), /cannot open for writing \(EACCES\)/);
  }
});

test('lines beyond the buffer bound are dropped and reported, not queued forever', async (t) => {
  const file = join(tempDir(t), 'slow.log');
  const warnings: unknown[] = [];
  const fakeLog = { warn: (o: unknown) => warnings.push(o), error: () => {} } as unknown as import('pino').Logger;
  const log = createAccessLog({ format: 'squid', file, maxBufferBytes: 1000, log: fakeLog });
  // written synchronously before the file is even open: the buffer fills past 1000 bytes
  for (let i = 0; i < 200; i++) log.onRequest(record({ url: `http://a.test/${i}` }));
  await log.close();
  const n = lines(file).length;
  assert.ok(n > 0 && n < 200, `some lines kept, some dropped (kept ${n})`);
  assert.ok(warnings.length >= 1);
});
