/**
 * S4 pass-through added latency: wrk -c1 on a no-store 1 KiB object, direct to a node:http origin and
 * through larder (reverse, memory store, log off), interleaved in one run; the added latency is larder's
 * p50 minus the direct p50. LARDER_BASELINE=/path/to/other/checkout adds a second larder build (its
 * dist/cli.js) to the same run, for a before/after ratio.
 * Run: node --import tsx bench/passthrough.ts   (DUR=5 ROUNDS=2 LARDER_BASELINE=...)
 * Needs wrk; ephemeral ports only (not the shared harness's 19100-19599).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { waitForPort } from './support.js';

const DUR = Number(process.env.DUR ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const root = new URL('..', import.meta.url).pathname;

/** wrk -c1 p50 latency in µs */
function wrkP50(port: number, path: string): number {
  const r = spawnSync('wrk', ['-t1', '-c1', `-d${DUR}s`, '--latency', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  const m = /50%\s+([\d.]+)(us|ms|s)\b/.exec(r.stdout);
  if (!m) throw new Error(`wrk output: ${r.stdout}${r.stderr}`);
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1000 : 1e6);
}

const originSrc = `const http=require('node:http');const b=Buffer.alloc(1024,'x');
const s=http.createServer((q,r)=>{r.writeHead(200,{'content-type':'application/octet-stream','content-length':b.length,'cache-control':'no-store'});r.end(b);});
s.listen(0,'127.0.0.1',()=>console.log('listening '+s.address().port));process.on('SIGTERM',()=>process.exit(0));`;

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) { console.log('wrk not installed: skipped'); return; }
  const origin = spawn(process.execPath, ['-e', originSrc], { stdio: ['ignore', 'pipe', 'inherit'] });
  const originPort = await waitForPort(origin, /listening (\d+)/);
  const builds: [string, string][] = [['larder', root]];
  if (process.env.LARDER_BASELINE) builds.unshift(['larder-baseline', process.env.LARDER_BASELINE]);
  const children: ChildProcess[] = [origin];
  const targets: [string, number][] = [['direct', originPort]];
  try {
    for (const [name, dir] of builds) {
      const c = spawn(process.execPath, [`${dir}/dist/cli.js`, '--port', '0', '--upstream', `http://127.0.0.1:${originPort}`, '--no-disk',
        '--admin-port', '0', '--access-log', 'off', '--log-level', 'error', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      targets.push([name, await waitForPort(c, /listening on http:\/\/127\.0\.0\.1:(\d+)/)]);
    }
    const p50: Record<string, number[]> = {};
    for (const [, port] of targets) wrkP50(port, '/nostore/1k'); // warm
    for (let r = 0; r < ROUNDS; r++) for (const [name, port] of targets) (p50[name] ??= []).push(wrkP50(port, '/nostore/1k'));
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const direct = med(p50.direct!);
    console.log(`S4 /nostore/1k, 1 connection, p50 (median of ${ROUNDS} x ${DUR}s): direct ${direct.toFixed(0)} µs`);
    const added: Record<string, number> = {};
    for (const [name] of builds) {
      added[name] = med(p50[name]!) - direct;
      console.log(`  ${name.padEnd(16)} p50 ${med(p50[name]!).toFixed(0)} µs, added ${added[name]!.toFixed(0)} µs (all: ${p50[name]!.map((x) => x.toFixed(0)).join(' ')})`);
    }
    if (builds.length === 2) console.log(`  added latency ratio larder/baseline: ${(added.larder! / added['larder-baseline']!).toFixed(2)}`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

void main();
