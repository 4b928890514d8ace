/**
 * Replays a Zipf-like trace (alpha 0.9, log-normal sizes 1 KiB–10 MiB, ~20× more distinct bytes than the
 * budget) through each eviction policy and prints hit ratio and byte hit ratio.
 * Run: node --import tsx bench/eviction.ts
 */
import { EVICTION_NAMES, evictionPolicy } from '../src/store/eviction/policy.js';
import { PriorityHeap } from './priority-heap.js';

const OBJECTS = 50_000;
const REQUESTS = 400_000;
const ALPHA = 0.9;
const KiB = 1024;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const rand = rng(42);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
// log-normal around 16 KiB, clamped to 1 KiB..10 MiB
const sizes = Float64Array.from({ length: OBJECTS }, () => Math.round(Math.min(10 * 1024 * KiB, Math.max(KiB, Math.exp(Math.log(16 * KiB) + 1.6 * gauss())))));
const totalBytes = sizes.reduce((a, b) => a + b, 0);
// Zipf CDF over ranks; object rank r has popularity 1/r^alpha (ranks shuffled against sizes by construction)
const cdf = new Float64Array(OBJECTS);
let acc = 0;
for (let r = 0; r < OBJECTS; r++) cdf[r] = acc += 1 / (r + 1) ** ALPHA;
const pick = (): number => {
  const x = rand() * acc;
  let lo = 0;
  let hi = OBJECTS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
const trace = Int32Array.from({ length: REQUESTS }, pick);

function simulate(name: (typeof EVICTION_NAMES)[number], budget: number): { hit: number; byteHit: number } {
  const policy = evictionPolicy(name);
  const heap = new PriorityHeap<number>();
  const freq = new Map<number, number>();
  let used = 0;
  let inflation = 0;
  let hits = 0;
  let hitBytes = 0;
  let reqBytes = 0;
  for (let t = 0; t < trace.length; t++) {
    const id = trace[t]!;
    const size = sizes[id]!;
    reqBytes += size;
    if (heap.has(id)) {
      hits++;
      hitBytes += size;
      const f = freq.get(id)! + 1;
      freq.set(id, f);
      heap.set(id, policy.priority({ size, frequency: f, now: t }, inflation));
      continue;
    }
    if (size > budget) continue;
    while (used + size > budget) {
      const victim = heap.pop()!;
      used -= sizes[victim.key]!;
      freq.delete(victim.key);
      inflation = policy.inflationAfterEvict(inflation, victim.priority);
    }
    freq.set(id, 1);
    heap.set(id, policy.priority({ size, frequency: 1, now: t }, inflation));
    used += size;
  }
  return { hit: hits / trace.length, byteHit: hitBytes / reqBytes };
}

const started = performance.now();
console.log(`trace: ${REQUESTS} requests over ${OBJECTS} objects (Zipf alpha ${ALPHA}), ${(totalBytes / 1e9).toFixed(2)} GB distinct`);
console.log('budget      policy  hit ratio  byte hit ratio');
for (const fraction of [0.01, 0.05]) {
  const budget = Math.round(totalBytes * fraction);
  for (const name of EVICTION_NAMES) {
    const r = simulate(name, budget);
    console.log(`${(budget / 1e6).toFixed(0).padStart(6)} MB  ${name.padEnd(6)}  ${(r.hit * 100).toFixed(1).padStart(8)}%  ${(r.byteHit * 100).toFixed(1).padStart(13)}%`);
  }
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
