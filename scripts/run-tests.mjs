#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring-filter...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'), []).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
// --test-force-exit: a failing test that leaves a server open must not hang the run (CI has a time limit);
// --test-timeout bounds any single test.
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=180000', '--test-reporter=spec', ...files];
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(0);
const mainStart = Date.now();
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: process.env });
if (filters.length > 0) process.exit(r.status ?? 1);
const mainSeconds = seconds(mainStart);

// The integration tests run on the memory store above; the cache behaviour again on the default tiered
// LMDB store, whose commits are asynchronous (a separate pass caught a read-your-writes race once).
// test/conformance/conformance.test.ts is not listed: it runs every case on both stores and in both modes itself.
const diskFiles = ['test/cache/engine.test.ts', 'test/e2e/mirror.test.ts', 'test/proxy/forward.test.ts'];
console.log('\n# the same cache behaviour on the default disk store (LARDER_TEST_DISK=1)');
const diskStart = Date.now();
const d = spawnSync(process.execPath, [...args.filter((a) => !files.includes(a)), ...diskFiles], { stdio: 'inherit', cwd: root, env: { ...process.env, LARDER_TEST_DISK: '1' } });
console.log(`\n# Node ${process.version}: ${files.length} files in ${mainSeconds} s (exit ${r.status}), disk pass ${seconds(diskStart)} s (exit ${d.status})`);
process.exit(r.status === 0 && d.status === 0 ? 0 : 1);
