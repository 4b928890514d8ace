/** The command line as a user runs it: --help, --version, config errors naming the key, start-up line, graceful SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { OPTIONS } from '../../src/config/options.js';
import { camelToKebab } from '../../src/config/load.js';
import { startOrigin } from '../helpers/origin.js';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

test('--help lists every option with its default; --version prints the version', () => {
  const h = run(['--help']);
  assert.equal(h.status, 0);
  for (const o of OPTIONS) {
    if (o.fileOnly) continue;
    assert.ok(h.stdout.includes(`--${camelToKebab(o.key)}`), `--help lacks --${camelToKebab(o.key)}`);
  }
  assert.match(h.stdout, /--port NUMBER|--port INT/);
  assert.match(h.stdout, /\[default: 3128\]/);
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^larder \d+\.\d+\.\d+/);
});

test('bad options and config keys exit 2 with a message naming the key', () => {
  const a = run(['--port', 'abc']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--port: expected a non-negative integer/);
  const b = run(['--frobnicate']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown option --frobnicate/);
  const c = run([], { LARDER_CONNECT_TIMEOUT: 'soon' });
  assert.equal(c.status, 2);
  assert.match(c.stderr, /LARDER_CONNECT_TIMEOUT: expected a duration/);
  const dir = mkdtempSync(join(tmpdir(), 'larder-cli-'));
  const file = join(dir, 'larder.yaml');
  writeFileSync(file, 'port: 3128\nmemory-size: lots\n');
  const d = run(['--config', file]);
  assert.equal(d.status, 2);
  assert.match(d.stderr, /memory-size: expected a size/);
  writeFileSync(file, 'prot: 3128\n');
  const e = run(['--config', file]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /unknown key "prot"/);
  const f = run(['--host', '0.0.0.0', '--no-disk']);
  assert.equal(f.status, 2);
  assert.match(f.stderr, /--allow/);
});

// --workers 1: the single-process path (the default on this 2-core machine is a cluster, whose start-up, serving
// and SIGTERM are test/server/cluster.test.ts's); the child is killed whatever fails, never left running
test('the proxy starts, prints how to use it, serves, and exits 0 on SIGTERM', async (t) => {
  const origin = await startOrigin((_q, res) => { res.writeHead(200); res.end('ok'); });
  t.after(() => origin.close());
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--workers', '1', '--port', '0', '--no-disk', '--admin-port', '0', '--access-log', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let err = '';
  let startTimer: NodeJS.Timeout | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`exited early: ${err}`)));
    // a bound on a stuck start only: starting through tsx takes seconds on a loaded machine
    startTimer = setTimeout(() => reject(new Error(`no start-up line: ${err}`)), 60_000);
  }).finally(() => clearTimeout(startTimer));
  assert.match(err, /curl -x http:\/\/127\.0\.0\.1:\d+/);
  assert.match(err, /HTTP_PROXY=http:\/\/127\.0\.0\.1:\d+/);
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: `${origin.url}/`, headers: { host: origin.host } }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  assert.equal(body, 'ok');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a cache directory that cannot be opened stops larder with a message naming it, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bad-store-'));
  writeFileSync(join(dir, 'larder.mdb'), 'this is not an LMDB file, it is garbage '.repeat(200));
  const r = run(['--port', '0', '--cache-dir', dir, '--admin-port', '0', '--access-log', 'off']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(dir), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test('the README options table lists every option (regenerate with node --import tsx scripts/gen-options-table.ts)', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const o of OPTIONS) assert.ok(readme.includes(`| \`${o.key}\` |`), `README lacks ${o.key}`);
});
