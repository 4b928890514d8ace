/**
 * `larder purge URL`, `larder purge --prefix P` and `larder stats`: clients of the running proxy's admin
 * listener (config.adminHost:adminPort, token from --admin-token / LARDER_ADMIN_TOKEN).
 * `larder stats` falls back to the disk store's own figures when no proxy is running.
 */
import { request } from 'node:http';
import type { Config } from '../config/load.js';
import type { StoreStats } from '../store/types.js';
import type { StatsSnapshot } from '../admin/metrics.js';
import { formatBytes } from '../config/units.js';

type AdminConfig = Pick<Config, 'adminHost' | 'adminPort' | 'adminToken' | 'cacheDir'>;

export interface AdminClientDeps {
  /** where errors go (default process.stderr) */
  err?: NodeJS.WritableStream;
  /** the store's figures read from its directory (default: readStoreStats from src/store/open.ts) */
  readStoreStats?: (dir: string) => Promise<StoreStats[]> | StoreStats[];
  timeoutMs?: number;
}

interface AdminReply { status: number; body: unknown }

class AdminUnreachable extends Error {}

/** Where to reach the admin listener: a wildcard bind address is reached on loopback. */
export function adminTarget(config: Pick<Config, 'adminHost' | 'adminPort'>): { host: string; port: number } {
  const h = config.adminHost.replace(/^\[|\]$/g, '');
  const host = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '::1' : h;
  return { host, port: config.adminPort };
}

function callAdmin(config: AdminConfig, method: string, path: string, body: unknown, timeoutMs: number): Promise<AdminReply> {
  const { host, port } = adminTarget(config);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (config.adminToken) headers.authorization = `Bearer ${config.adminToken}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 16 * 1024 * 1024) req.destroy(new Error('admin reply too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EADDRNOTAVAIL') {
        reject(new AdminUnreachable(`no admin listener at ${host.includes(':') ? `[${host}]` : host}:${port} (is larder running?)`));
      } else {
        reject(new Error(`admin listener ${host}:${port}: ${err.code ?? err.message}`));
      }
    });
    req.end(payload);
  });
}

function replyError(reply: AdminReply): string {
  const msg = typeof reply.body === 'object' && reply.body !== null && 'error' in reply.body ? String((reply.body as { error: unknown }).error) : `HTTP ${reply.status}`;
  if (reply.status === 401) return `${msg}: pass --admin-token or set LARDER_ADMIN_TOKEN`;
  return msg;
}

/** larder purge URL | larder purge --prefix PREFIX. Exit codes: 0 done, 1 failed, 2 usage. */
export async function runPurgeCommand(config: AdminConfig, args: string[], out: NodeJS.WritableStream, deps: AdminClientDeps = {}): Promise<number> {
  const err = deps.err ?? process.stderr;
  let target: { url: string } | { prefix: string };
  if (args.length === 2 && args[0] === '--prefix' && args[1]) target = { prefix: args[1] };
  else if (args.length === 1 && args[0] && !args[0].startsWith('-')) target = { url: args[0] };
  else {
    err.write('larder: usage: larder purge URL | larder purge --prefix PREFIX\n');
    return 2;
  }
  if ('url' in target && !URL.canParse(target.url)) {
    err.write(`larder purge: ${JSON.stringify(target.url)} is not an absolute URL\n`);
    return 2;
  }
  if (config.adminPort === 0) {
    err.write('larder purge: the admin listener is off (--admin-port 0)\n');
    return 1;
  }
  try {
    const reply = await callAdmin(config, 'POST', '/purge', target, deps.timeoutMs ?? 10_000);
    if (reply.status !== 200) {
      err.write(`larder purge: ${replyError(reply)}\n`);
      return 1;
    }
    const n = Number((reply.body as { purged?: unknown }).purged ?? 0);
    const what = 'url' in target ? target.url : `prefix ${target.prefix}`;
    out.write(`purged ${n} ${n === 1 ? 'entry' : 'entries'} (${what})\n`);
    return 0;
  } catch (e) {
    err.write(`larder purge: ${(e as Error).message}\n`);
    return 1;
  }
}

/** larder stats: the running proxy's /stats, else the disk store's figures. */
export async function runStatsCommand(config: AdminConfig, out: NodeJS.WritableStream, deps: AdminClientDeps = {}): Promise<number> {
  const err = deps.err ?? process.stderr;
  let unreachable: string;
  if (config.adminPort === 0) {
    unreachable = 'the admin listener is off (--admin-port 0)';
  } else {
    try {
      const reply = await callAdmin(config, 'GET', '/stats', undefined, deps.timeoutMs ?? 5_000);
      if (reply.status !== 200 || typeof reply.body !== 'object' || reply.body === null) {
        err.write(`larder stats: ${replyError(reply)}\n`);
        return 1;
      }
      out.write(formatStats(reply.body as StatsSnapshot & Record<string, unknown>));
      return 0;
    } catch (e) {
      if (!(e instanceof AdminUnreachable)) {
        err.write(`larder stats: ${(e as Error).message}\n`);
        return 1;
      }
      unreachable = e.message;
    }
  }
  // Fallback: read the store's figures from its directory.
  let stats: StoreStats[];
  try {
    const read = deps.readStoreStats ?? (await importReadStoreStats());
    stats = await read(config.cacheDir);
  } catch (e) {
    err.write(`larder stats: ${unreachable}, and the store in ${config.cacheDir} cannot be read: ${(e as Error).message}\n`);
    return 1;
  }
  out.write(`larder is not running (${unreachable}); store in ${config.cacheDir}:\n`);
  out.write(formatStoreTable(stats));
  return 0;
}

async function importReadStoreStats(): Promise<(dir: string) => Promise<StoreStats[]>> {
  const { readStoreStats } = await import('../store/open.js');
  return async (dir) => [await readStoreStats(dir)];
}

const pct = (r: number | null | undefined): string => (r === null || r === undefined ? '-' : `${(r * 100).toFixed(1)}%`);
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v >= 10 ? Math.round(v) : v.toFixed(1)} ms`);

export function formatStoreTable(stats: StoreStats[]): string {
  if (stats.length === 0) return '  (no store)\n';
  return stats.map((s) => {
    const use = s.budget > 0 ? ` (${((s.bytes / s.budget) * 100).toFixed(1)}%)` : '';
    return `  ${s.tier.padEnd(8)} ${String(s.objects).padStart(9)} objects  ${formatBytes(s.bytes).padStart(9)} of ${s.budget > 0 ? formatBytes(s.budget) : '-'}${use}  ${s.evictions} evictions\n`;
  }).join('');
}

/** The /stats reply as readable text. */
export function formatStats(s: StatsSnapshot & Record<string, unknown>): string {
  const lines: string[] = [];
  const head = ['larder'];
  if (typeof s.version === 'string') head.push(s.version);
  if (typeof s.uptime === 'number') head.push(`up ${Math.round(s.uptime)} s`);
  lines.push(head.join(' '));
  const t = s.totals;
  lines.push(`requests      ${t.requests} (${s.rates.requestsPerSecond.toFixed(1)}/s over ${s.rates.windowSeconds} s)`);
  lines.push(`cache         ${Object.entries(t.byCache).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  lines.push(`hit ratio     ${pct(s.hitRatio)} since start, ${pct(s.rates.hitRatio)} now`);
  lines.push(`byte hit      ${pct(s.byteHitRatio)} since start, ${pct(s.rates.byteHitRatio)} now`);
  lines.push(`saved         ${formatBytes(s.bytesSaved)} served from cache, ${formatBytes(t.bytesFromUpstream)} from upstream`);
  lines.push(`latency       request p50 ${ms(s.latency.requestMs.p50)} p99 ${ms(s.latency.requestMs.p99)} · upstream p50 ${ms(s.latency.upstreamMs.p50)} p99 ${ms(s.latency.upstreamMs.p99)}`);
  lines.push(`connections   ${s.connections} (${s.tunnels} tunnels)`);
  lines.push(`events        ${t.collapsed} collapsed · ${t.upstreamErrors} upstream errors · ${t.denied} denied · ${t.authFailures} auth failures`);
  lines.push('store');
  const top = (title: string, list: { key: string; count: number }[], bytes: boolean): void => {
    if (list.length === 0) return;
    lines.push(title);
    for (const e of list.slice(0, 5)) lines.push(`  ${(bytes ? formatBytes(e.count) : String(e.count)).padStart(9)}  ${e.key}`);
  };
  let text = `${lines.join('\n')}\n${formatStoreTable(s.store)}`;
  lines.length = 0;
  top('top hosts by cache hits', s.top.hostsByHits, false);
  top('top hosts by bytes', s.top.hostsByBytes, true);
  if (lines.length > 0) text += `${lines.join('\n')}\n`;
  return text;
}
