// Long tasks in a V8 .cpuprofile (node --cpu-prof): runs of consecutive non-idle samples longer than
// MIN_MS (default 5) of sampled time, with the functions that took the time inside them (self time) and
// the top-level callers they ran under. Gaps between samples larger than 10 ms (the process was not
// running: a loaded machine) end a run and are not counted as work.
// Usage: node bench/long-tasks.mjs FILE.cpuprofile [MIN_MS]
import { readFileSync } from 'node:fs';

const [file, minArg] = process.argv.slice(2);
const MIN_MS = Number(minArg ?? 5);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/|src\/|dist\/)/, '$1')}:${n.callFrame.lineNumber + 1}`;
const idle = (n) => ['(idle)', '(program)'].includes(n.callFrame.functionName);
/** the frame just under (root): the task entry */
function entryOf(id) {
  let cur = id;
  const chain = [];
  while (parent.has(cur)) { chain.push(cur); cur = parent.get(cur); }
  const top = chain.slice(-3).reverse().map((i) => byId.get(i).callFrame.functionName || '(anon)');
  return top.join(' > ');
}
const runs = [];
let run = null;
let gaps = 0;
const samples = prof.samples;
const deltas = prof.timeDeltas;
for (let i = 0; i < samples.length; i++) {
  const n = byId.get(samples[i]);
  const dt = (deltas[i] ?? 0) / 1000;
  if (idle(n) || dt > 10) {
    // idle ends a run; so does a gap (no sample for > 10 ms: the process or the sampler was not scheduled),
    // whose time is not work and is left out
    if (run && run.ms >= MIN_MS) runs.push(run);
    run = null;
    if (idle(n) || dt > 10) { gaps += dt > 10 ? dt : 0; continue; }
  }
  run ??= { ms: 0, self: new Map(), entries: new Map(), gc: 0 };
  run.ms += dt;
  const l = label(n);
  run.self.set(l, (run.self.get(l) ?? 0) + dt);
  if (n.callFrame.functionName === '(garbage collector)') run.gc += dt;
  const e = entryOf(samples[i]);
  run.entries.set(e, (run.entries.get(e) ?? 0) + dt);
}
if (run && run.ms >= MIN_MS) runs.push(run);
const total = deltas.reduce((a, d) => a + d, 0) / 1000;
console.log(`${file}: ${(total / 1000).toFixed(1)} s sampled, ${runs.length} tasks >= ${MIN_MS} ms (longest ${Math.max(0, ...runs.map((r) => r.ms)).toFixed(1)} ms), GC inside them ${runs.reduce((a, r) => a + r.gc, 0).toFixed(0)} ms of ${runs.reduce((a, r) => a + r.ms, 0).toFixed(0)} ms; sampling gaps > 10 ms (not scheduled): ${(gaps / 1000).toFixed(1)} s`);
const agg = new Map();
for (const r of runs) for (const [l, ms] of r.self) agg.set(l, (agg.get(l) ?? 0) + ms);
console.log('self time inside long tasks:');
for (const [l, ms] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${l}`);
const ent = new Map();
for (const r of runs) for (const [l, ms] of r.entries) ent.set(l, (ent.get(l) ?? 0) + ms);
console.log('task entries (top 3 frames):');
for (const [l, ms] of [...ent].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${l}`);
console.log('longest tasks:');
for (const r of [...runs].sort((a, b) => b.ms - a.ms).slice(0, 5)) {
  const top = [...r.self].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([l, ms]) => `${l} ${ms.toFixed(1)}`).join('; ');
  console.log(`  ${r.ms.toFixed(1)} ms (gc ${r.gc.toFixed(1)}): ${top}`);
}
