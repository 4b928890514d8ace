#!/usr/bin/env node
// npm run bench: the benchmarks that need nothing but Node (eviction trace replay, store throughput, hit path),
// then, where nginx and wrk are installed, the shared harness's scenarios (../shared/bench/bench.sh) against
// larder beside nginx proxy_cache in one interleaved run, which prints the ratios to nginx.
//
// Usage: npm run bench [-- FILTER...] [-- --node-only | --harness-only]
//   FILTER picks Node benches by substring (eviction, store, hit-path, growth, metrics, upstream); it skips the harness unless --harness is given.
// Harness knobs (env): BENCH_MODES="reverse" (or "reverse forward"), LARDER_ARGS="" (e.g. "--access-log off --no-disk"),
//   LARDER_NODE (default: the node running this script), HARNESS=path/to/shared/bench,
//   ROUNDS=2 DUR=5 SCEN="S1 S1hi S1m S2 S3 S4 S5 S6" and the harness's other knobs (see its README).
// Benchmarks are never part of npm test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const only = argv.filter((a) => !a.startsWith('--'));
let failed = 0;

if (!flags.has('--harness-only')) {
  const benches = ['bench/eviction.ts', 'bench/store-throughput.ts', 'bench/hit-path.ts', 'bench/growth.ts', 'bench/metrics-onrequest.ts', 'bench/upstream-client.ts']
    .filter((b) => only.length === 0 || only.some((o) => b.includes(o)));
  for (const b of benches) {
    console.log(`\n== ${b}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', b], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
}

const wantHarness = !flags.has('--node-only') && (only.length === 0 || flags.has('--harness') || flags.has('--harness-only'));
if (wantHarness) failed += runHarness();
process.exit(failed ? 1 : 0);

/** shared/bench beside this checkout or beside one of its parents (CI: ../shared; worktrees: further up) */
function findHarness() {
  if (process.env.HARNESS) return existsSync(join(process.env.HARNESS, 'bench.sh')) ? process.env.HARNESS : undefined;
  for (let d = dirname(root.replace(/\/$/, '')); ; d = dirname(d)) {
    if (existsSync(join(d, 'shared/bench/bench.sh'))) return join(d, 'shared/bench');
    if (d === dirname(d)) return undefined;
  }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function runHarness() {
  const harness = findHarness();
  const missing = ['nginx', 'wrk', 'curl'].filter((c) => !onPath(c));
  if (!harness || missing.length > 0) {
    console.log(`\n== shared harness skipped: ${!harness ? 'shared/bench not found (set HARNESS)' : `missing ${missing.join(', ')} (apt-get install -y nginx wrk curl)`}`);
    return 0;
  }
  if (!existsSync(join(root, 'dist/cli.js'))) {
    console.log('\n== shared harness: dist/cli.js missing, run npm run build first');
    return 1;
  }
  const node = process.env.LARDER_NODE ?? process.execPath;
  const version = spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim();
  const extra = process.env.LARDER_ARGS ?? '';
  const env = { ...process.env, ROUNDS: process.env.ROUNDS ?? '2', DUR: process.env.DUR ?? '5' };
  let failures = 0;
  for (const mode of (process.env.BENCH_MODES ?? 'reverse').split(/\s+/).filter(Boolean)) {
    // a fresh disk store per run, so one run's objects do not warm the next (the default lives in ~/.cache)
    const cacheDir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
    const upstream = mode === 'reverse' ? ' --upstream {upstream}' : '';
    const cmd = `'${node}' dist/cli.js --port {port}${upstream} --cache-dir '${cacheDir}' ${extra}`.trim();
    console.log(`\n== shared harness, ${mode} mode, larder on node ${version}, ROUNDS=${env.ROUNDS} DUR=${env.DUR}s: ${cmd}`);
    const r = spawnSync('bash', [join(harness, 'bench.sh'), 'proxy', cmd, mode], { cwd: root, stdio: 'inherit', env });
    rmSync(cacheDir, { recursive: true, force: true });
    if (r.status !== 0) failures++;
  }
  return failures;
}
