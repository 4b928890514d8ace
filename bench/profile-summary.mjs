#!/usr/bin/env node
// Sums self time per function and per source file from a V8 .cpuprofile (node --cpu-prof).
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]
// Self time of a sample = the time until the next sample (timeDeltas[i + 1]), charged to the sampled node.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
if (!file) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map(); // node id -> µs
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
  selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** a short, stable name for where a function lives */
function place(url) {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = u.search(/\/(dist|src)\//);
  if (src >= 0) return u.slice(src + 1);
  return u; // node:internal/… and the like
}

/** function name and place; natives without a name or url become "(native)"; (idle), (program), (gc) stay */
function keyOf(f) {
  const where = place(f.url);
  if (!where) return f.functionName || '(native)';
  return `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
}

const perFunction = new Map();
const perPlace = new Map();
for (const [id, us] of selfUs) {
  const { callFrame: f } = byId.get(id);
  const where = place(f.url);
  const fnKey = keyOf(f);
  perFunction.set(fnKey, (perFunction.get(fnKey) ?? 0) + us);
  const placeKey = where || f.functionName || '(native)';
  perPlace.set(placeKey, (perPlace.get(placeKey) ?? 0) + us);
}

// inclusive (total) time of the project's own functions (dist/ or src/): each sample counts once per function
// on its stack, so recursion is not counted twice
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const perOwnInclusive = new Map();
for (let i = 0; i < samples.length; i++) {
  const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
  const seen = new Set();
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id).callFrame;
    if (!/^(dist|src)\//.test(place(f.url))) continue;
    const k = keyOf(f);
    if (seen.has(k)) continue;
    seen.add(k);
    perOwnInclusive.set(k, (perOwnInclusive.get(k) ?? 0) + dt);
  }
}

function table(title, map) {
  console.log(`\n${title}`);
  console.log('  share     ms  where');
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / totalUs).toFixed(1).padStart(6)}% ${(us / 1000).toFixed(0).padStart(6)}  ${k}`);
  }
}
const wallMs = (profile.endTime - profile.startTime) / 1000;
console.log(`${file}: ${samples.length} samples, ${(totalUs / 1000).toFixed(0)} ms sampled, ${wallMs.toFixed(0)} ms wall`);
table(`top ${top} functions by self time`, perFunction);
table(`top ${top} files/packages by self time`, perPlace);
table(`top ${top} of larder's own functions by total (inclusive) time`, perOwnInclusive);
