// Preload for finding event-loop stalls: node --import ./bench/loop-stalls.mjs dist/cli.js ...
// Samples event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) and, with a 1 ms interval,
// records every tick that came more than STALL_MS (default 1) late, with the time it happened and the CPU
// time the process used meanwhile: a stall with CPU ~ wall time is synchronous work on the loop (or GC);
// one with little CPU is the process waiting to be scheduled (a loaded machine), not larder. On exit it
// writes a summary to $LOOP_STALLS_OUT (default stderr): delay percentiles, the stall count by size, and
// the 20 longest stalls with their offsets from start (to line up with a --cpu-prof profile).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const STALL_MS = Number(process.env.STALL_MS ?? 1);
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const stalls = [];
let last = performance.now();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const late = now - last - 1;
  // user+system µs of all threads (GC helpers and libuv threads too), so it can exceed wall time
  const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
  if (late > STALL_MS) stalls.push([Math.round(now), late, cpuMs / (now - last)]);
  last = now;
  lastCpu = cpu;
}, 1).unref();

function summary() {
  const ms = (ns) => (ns / 1e6).toFixed(2);
  const buckets = [1, 2, 5, 10, 50, 100, 500];
  const by = buckets.map((b, i) => `${b}-${buckets[i + 1] ?? '∞'} ms: ${stalls.filter(([, l]) => l >= b && l < (buckets[i + 1] ?? Infinity)).length}`);
  const top = [...stalls].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([t, l, c]) => `${l.toFixed(1)} ms at +${t} ms (cpu ${(c * 100).toFixed(0)}%)`);
  const busy = stalls.filter(([, , c]) => c >= 0.8);
  const busyTop = [...busy].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([t, l, c]) => `${l.toFixed(1)} ms at +${t} ms (cpu ${(c * 100).toFixed(0)}%)`);
  return [
    `event-loop delay: p50 ${ms(h.percentile(50))} p99 ${ms(h.percentile(99))} p99.9 ${ms(h.percentile(99.9))} max ${ms(h.max)} ms (mean ${ms(h.mean)})`,
    `ticks later than ${STALL_MS} ms: ${stalls.length} (${by.join(', ')})`,
    `longest: ${top.join('; ')}`,
    `busy stalls (cpu >= 80% of the interval, i.e. work on the loop or GC): ${busy.length}, ${busy.filter(([, l]) => l >= 10).length} of them >= 10 ms; longest: ${busyTop.join('; ')}`,
    `waiting stalls (cpu < 80%: not scheduled, or blocked in a syscall): ${stalls.length - busy.length}`,
  ].join('\n') + '\n';
}
process.on('exit', () => {
  const text = summary();
  if (process.env.LOOP_STALLS_OUT) writeFileSync(process.env.LOOP_STALLS_OUT, text);
  else process.stderr.write(text);
});
