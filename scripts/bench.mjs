#!/usr/bin/env node
// npm run bench: the benchmarks that need nothing but Node (eviction trace replay, store throughput, hit path).
// The side-by-side comparison with nginx, Varnish and Squid is ../shared/bench/bench.sh (see README).
import { spawnSync } from 'node:child_process';
const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const benches = ['bench/eviction.ts', 'bench/store-throughput.ts', 'bench/hit-path.ts'].filter((b) => only.length === 0 || only.some((o) => b.includes(o)));
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', b], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
