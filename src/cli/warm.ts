/**
 * `larder warm <file>`: fetch a list of URLs through a running larder so that a CI farm finds them in
 * the cache. Each response is read to the end (a cache commits a body only once it has all of it),
 * then classified by the proxy's Cache-Status field (RFC 9211, https://www.rfc-editor.org/rfc/rfc9211).
 */
import { readFile } from 'node:fs/promises';
import { ProxyAgent, request, type Dispatcher } from 'undici';
import { formatBytes } from '../config/units.js';

export interface WarmOptions {
  /** the running proxy, e.g. http://127.0.0.1:3128 (user:password@ for proxy authentication) */
  proxy: string;
  /** file with one URL per line ('#' comments and blank lines ignored); '-' reads standard input */
  file: string;
  /** parallel fetches, default 4 */
  concurrency?: number;
  out: NodeJS.WritableStream;
  /** progress bar instead of a line per 10%; default: out.isTTY */
  isTTY?: boolean;
  /** give up on a URL when no data arrived for this long, default 60 s */
  idleTimeoutMs?: number;
}

/** stored: the proxy fetched and stored it; fresh: it was already cached; notStored: fetched, not kept */
export type WarmOutcome = 'stored' | 'fresh' | 'notStored' | 'failed';

export interface WarmResult {
  url: string;
  outcome: WarmOutcome;
  status?: number;
  cacheStatus?: string;
  /** why it failed (network error or HTTP status) */
  reason?: string;
  bytes: number;
}

export interface WarmSummary {
  total: number;
  stored: number;
  fresh: number;
  notStored: number;
  failed: number;
  bytes: number;
  ms: number;
  /** the first few failures and not-stored URLs, for the report (bounded) */
  failures: WarmResult[];
  notStoredSamples: WarmResult[];
}

export const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 256;
const MAX_REDIRECTS = 5;
const FAILURES_SHOWN = 5;
const NOT_STORED_SHOWN = 3;

/** URLs from the list file: one per line, blank lines and '#' comment lines ignored. */
export function parseUrlList(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** Split on `sep` outside double-quoted sf-strings (RFC 8941 §3.3.3). */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\') { cur += c + (value[i + 1] ?? ''); i++; continue; }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * What the cache nearest to us did, from its Cache-Status member: the last one in the list
 * (https://www.rfc-editor.org/rfc/rfc9211#section-2). `hit` → already fresh; `fwd` with `stored` →
 * stored now; a revalidation answered 304 (`fwd=stale; fwd-status=304`) → already cached; anything
 * else, or no Cache-Status at all → not stored.
 */
export function classifyCacheStatus(value: string | undefined): 'stored' | 'fresh' | 'notStored' {
  if (!value) return 'notStored';
  const members = splitOutsideQuotes(value, ',');
  const last = members.at(-1);
  if (!last) return 'notStored';
  const params = new Map<string, string>();
  for (const p of splitOutsideQuotes(last, ';').slice(1)) {
    const eq = p.indexOf('=');
    params.set((eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '?1' : p.slice(eq + 1).trim());
  }
  const on = (key: string) => params.has(key) && params.get(key) !== '?0';
  if (on('hit')) return 'fresh';
  if (params.has('fwd') && on('stored')) return 'stored';
  if (params.get('fwd') === 'stale' && params.get('fwd-status') === '304') return 'fresh';
  return 'notStored';
}

function describeError(err: unknown, proxy: string, idleTimeoutMs: number): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (e.name === 'AbortError' || code === 'UND_ERR_ABORTED') return `timed out (no data for ${idleTimeoutMs / 1000}s)`;
  // for http:// URLs the proxy is the only host we connect to; https:// ones are tunnelled through it
  if (code === 'ECONNREFUSED') return `cannot connect to the proxy ${proxy} (connection refused)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the proxy ${proxy} (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed by the proxy';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timed out';
  const message = (e.message ?? String(err)).split('\n')[0];
  return code ? `${message} (${code})` : message!;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Fetch one URL through the proxy, following redirects, reading every body to the end. */
async function warmOne(url: string, agent: Dispatcher, proxy: string, idleTimeoutMs: number): Promise<WarmResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { url, outcome: 'failed', reason: 'not a URL', bytes: 0 };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return { url, outcome: 'failed', reason: 'not an http:// or https:// URL', bytes: 0 };
  }
  let bytes = 0;
  for (let hop = 0; ; hop++) {
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(), idleTimeoutMs);
    const touch = () => { clearTimeout(timer); timer = setTimeout(() => controller.abort(), idleTimeoutMs); };
    try {
      const res = await request(target, {
        dispatcher: agent,
        method: 'GET',
        headers: { 'user-agent': 'larder-warm' },
        signal: controller.signal,
      });
      touch();
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        touch();
      }
      const cacheStatus = header(res.headers, 'cache-status');
      const location = header(res.headers, 'location');
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && location && hop < MAX_REDIRECTS) {
        target = new URL(location, target);
        if (target.protocol !== 'http:' && target.protocol !== 'https:') {
          return { url, outcome: 'failed', status: res.statusCode, reason: `redirected to ${target.protocol} URL`, bytes };
        }
        continue;
      }
      if (res.statusCode >= 400) {
        return { url, outcome: 'failed', status: res.statusCode, cacheStatus, reason: `HTTP ${res.statusCode}`, bytes };
      }
      return { url, outcome: classifyCacheStatus(cacheStatus), status: res.statusCode, cacheStatus, bytes };
    } catch (err) {
      return { url, outcome: 'failed', reason: describeError(err, proxy, idleTimeoutMs), bytes };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The proxy URL without credentials, for messages. */
function redactProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.host}`;
  } catch {
    return proxy;
  }
}

export interface WarmUrlsOptions {
  proxy: string;
  concurrency?: number;
  idleTimeoutMs?: number;
  /** called after each URL, in completion order */
  onResult?: (result: WarmResult, summary: WarmSummary) => void;
}

/** Warm the URLs with bounded concurrency; never throws for a single URL's failure. */
export async function warmUrls(urls: readonly string[], opts: WarmUrlsOptions): Promise<WarmSummary> {
  const started = performance.now();
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const concurrency = Math.min(Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY), MAX_CONCURRENCY, Math.max(1, urls.length));
  // absolute-form requests for http:// (so the proxy can cache them), CONNECT tunnels for https://
  const agent = new ProxyAgent({ uri: opts.proxy, proxyTunnel: false, connections: concurrency });
  const proxyShown = redactProxy(opts.proxy);
  const summary: WarmSummary = { total: urls.length, stored: 0, fresh: 0, notStored: 0, failed: 0, bytes: 0, ms: 0, failures: [], notStoredSamples: [] };
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      const r = await warmOne(url, agent, proxyShown, idleTimeoutMs);
      summary[r.outcome]++;
      summary.bytes += r.bytes;
      if (r.outcome === 'failed' && summary.failures.length < FAILURES_SHOWN) summary.failures.push(r);
      if (r.outcome === 'notStored' && summary.notStoredSamples.length < NOT_STORED_SHOWN) summary.notStoredSamples.push(r);
      opts.onResult?.(r, summary);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close().catch(() => {});
  }
  summary.ms = performance.now() - started;
  return summary;
}

/** Reports progress: a redrawn bar on a terminal, otherwise a plain line each time another 10% is done. */
function progressReporter(out: NodeJS.WritableStream, isTTY: boolean, total: number) {
  let lastDraw = 0;
  let lastDecile = 0;
  const WIDTH = 24;
  return {
    update(s: WarmSummary, force = false) {
      const done = s.stored + s.fresh + s.notStored + s.failed;
      if (isTTY) {
        const now = performance.now();
        if (!force && now - lastDraw < 100) return;
        lastDraw = now;
        const filled = Math.round((done / total) * WIDTH);
        const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
        out.write(`\r\x1b[K[${bar}] ${Math.floor((done / total) * 100)}% ${done}/${total}  stored ${s.stored}  fresh ${s.fresh}  not stored ${s.notStored}  failed ${s.failed}`);
        return;
      }
      const decile = Math.floor((done * 10) / total);
      if (decile > lastDecile) {
        lastDecile = decile;
        out.write(`warm: ${decile * 10}% (${done}/${total})\n`);
      }
    },
    end(s: WarmSummary) {
      if (isTTY) { this.update(s, true); out.write('\n'); }
    },
  };
}

/** The report `larder warm` prints at the end: totals, then one row per outcome. */
export function formatWarmReport(s: WarmSummary): string {
  const width = String(Math.max(s.stored, s.fresh, s.notStored, s.failed)).length;
  const row = (label: string, n: number) => `  ${label.padEnd(14)}${String(n).padStart(width)}\n`;
  let text = `warmed ${s.total} URL${s.total === 1 ? '' : 's'} in ${(s.ms / 1000).toFixed(1)}s, ${formatBytes(s.bytes)} received\n`;
  text += row('stored', s.stored) + row('already fresh', s.fresh) + row('not stored', s.notStored) + row('failed', s.failed);
  if (s.notStoredSamples.length > 0) {
    text += `not stored${s.notStored > s.notStoredSamples.length ? ` (first ${s.notStoredSamples.length})` : ''}:\n`;
    for (const r of s.notStoredSamples) text += `  ${r.url}  HTTP ${r.status}, Cache-Status: ${r.cacheStatus ?? '(none)'}\n`;
  }
  if (s.failures.length > 0) {
    text += `failed${s.failed > s.failures.length ? ` (first ${s.failures.length} of ${s.failed})` : ''}:\n`;
    for (const r of s.failures) text += `  ${r.url}  ${r.reason}\n`;
  }
  return text;
}

async function readList(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8');
}

/** The `larder warm` command. Exit code: 0 when nothing failed, 1 when some URL failed, 2 on a usage error. */
export async function runWarm(opts: WarmOptions): Promise<number> {
  const { out } = opts;
  let proxy: URL;
  try {
    proxy = new URL(opts.proxy);
    if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw new Error('scheme');
  } catch {
    out.write(`larder warm: --proxy: expected an http:// URL such as http://127.0.0.1:3128, got ${JSON.stringify(opts.proxy)}\n`);
    return 2;
  }
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    out.write(`larder warm: --concurrency: expected 1..${MAX_CONCURRENCY}, got ${concurrency}\n`);
    return 2;
  }
  let text: string;
  try {
    text = await readList(opts.file);
  } catch (err) {
    out.write(`larder warm: cannot read ${opts.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
    return 2;
  }
  const urls = parseUrlList(text);
  if (urls.length === 0) {
    out.write(`larder warm: no URLs in ${opts.file}\n`);
    return 0;
  }
  const isTTY = opts.isTTY ?? (out as { isTTY?: boolean }).isTTY === true;
  const progress = progressReporter(out, isTTY, urls.length);
  const summary = await warmUrls(urls, {
    proxy: opts.proxy,
    concurrency,
    idleTimeoutMs: opts.idleTimeoutMs,
    onResult: (_r, s) => progress.update(s),
  });
  progress.end(summary);
  out.write(formatWarmReport(summary));
  return summary.failed === 0 ? 0 : 1;
}
