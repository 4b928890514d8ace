/**
 * The cache engine: between the router and the upstream client. Looks the request up in the store,
 * serves fresh entries, revalidates stale ones (RFC 9111 §4.3), applies RFC 5861, collapses concurrent
 * misses, stores what RFC 9111 §3 allows, and invalidates after unsafe methods (§4.4).
 * Every response it sends carries Cache-Status (RFC 9211).
 */
import { once } from 'node:events';
import type { Config } from '../config/load.js';
import type { Store, EntryMeta, EntryWriter, StoredPolicy } from '../store/types.js';
import type { UpstreamClient, UpstreamResponse } from '../upstream/client.js';
import type { Exchange } from '../proxy/exchange.js';
import { deliverUpstream } from '../proxy/respond.js';
import { ProxyError, sendError, notCached, upstreamTimeout } from '../proxy/errors.js';
import { objectToPairs, pairsToObject, removeRaw } from '../proxy/headers.js';
import { formatCacheStatus, cacheResultOf, type CacheStatusParams, type FwdReason } from './status.js';
import { Collapser, type KeyCollapser } from './collapse.js';
import { serveStored } from './serve.js';
import {
  canStore, makeStoredPolicy, decideUse, canServeStaleOnError, onlyIfCached, ttl as ttlOf, currentAge,
  type PolicyOptions, type RuleParams,
} from './policy.js';
import { validatorsFor, selectedBy304, updateHeaders } from './conditional.js';
import { primaryKey } from './key.js';
import { varyFieldNames, normaliseFieldValue, variantId, variantMatches } from './vary.js';
import { invalidationTargets, postResponseReusable } from './invalidation.js';
import { formatHttpDate } from './http-date.js';
import { targetedNames, privateTargetedNames } from './cache-control.js';

export interface EngineEvents {
  collapsed?(): void;
  revalidation?(outcome: 'not-modified' | 'modified' | 'error'): void;
  upstreamError?(kind: string): void;
  offline?(url: string, ageSeconds: number): void;
}

export interface RuleMatcher {
  match(url: string): RuleParams | undefined;
}

export interface EngineDeps {
  config: Config;
  store: Store;
  upstream: UpstreamClient;
  rules?: RuleMatcher;
  events?: EngineEvents;
  /** default: per-process collapsing; the cluster workers inject one that asks the primary */
  collapser?: KeyCollapser;
}

/** Request fields that make a GET conditional or partial: such requests are forwarded as they are on a miss. */
const CONDITIONAL_FIELDS = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export class CacheEngine {
  private readonly collapser: KeyCollapser;
  private readonly background = new Set<string>();
  private readonly name: string;
  /** targeted cache-control fields addressed to larder alone: never sent downstream (RFC 9213) */
  private readonly omit: Set<string>;

  constructor(private readonly deps: EngineDeps) {
    this.collapser = deps.collapser ?? new Collapser(deps.config.collapseTimeout);
    this.name = deps.config.via;
    this.omit = privateTargetedNames(deps.config.cdnCacheControlName ?? []);
  }

  keyOf(url: string): string {
    return primaryKey(url, this.deps.config.keyIgnoreQuery);
  }

  async handle(ex: Exchange): Promise<void> {
    if (!this.deps.config.cache) return this.passThrough(ex, { fwd: 'bypass', detail: 'cache-off' });
    if (ex.method === 'GET' || ex.method === 'HEAD') return this.handleRead(ex, false);
    if (SAFE_METHODS.has(ex.method)) return this.passThrough(ex, { fwd: 'method' });
    return this.handleUnsafe(ex);
  }

  // ---- reads -------------------------------------------------------------------------------------------

  private async handleRead(ex: Exchange, afterWait: boolean): Promise<void> {
    const key = this.keyOf(ex.resourceUrl);
    const entries = await this.lookup(key);
    const entry = this.select(entries, ex);
    const now = Date.now();
    if (entry) {
      const d = decideUse(entry.policy, ex.reqHeaders, now);
      if (d.action === 'serve') {
        const ok = await this.serve(ex, entry, { hit: true, ttl: ttlOf(entry.policy, now) }, now, d.stale, true);
        if (ok) return;
      } else if (d.action === 'serve-stale-while-revalidate') {
        const ok = await this.serve(ex, entry, { hit: true, ttl: ttlOf(entry.policy, now), detail: 'stale-while-revalidate' }, now, true, true);
        if (ok) { this.revalidateInBackground(ex, key, entry); return; }
      } else {
        if (onlyIfCached(ex.reqHeaders)) return this.fail(ex, notCached(), { detail: 'only-if-cached' });
        return this.revalidate(ex, key, entry, afterWait);
      }
    }
    if (onlyIfCached(ex.reqHeaders)) return this.fail(ex, notCached(), { detail: 'only-if-cached' });
    const fwd: FwdReason = entries.length > 0 ? 'vary-miss' : 'uri-miss';
    return this.miss(ex, key, fwd, afterWait);
  }

  private async lookup(key: string): Promise<EntryMeta[]> {
    try {
      return await this.deps.store.lookup(key);
    } catch {
      return []; // a store failure degrades to a miss, never to an error page
    }
  }

  /** §4.1: the most recent stored response whose Vary-selected fields match the request. */
  private select(entries: EntryMeta[], ex: Exchange): EntryMeta | undefined {
    let best: EntryMeta | undefined;
    for (const e of entries) {
      if (e.vary.length > 0 && !variantMatches(e, ex.reqHeaders)) continue;
      if (!best || e.policy.responseTime > best.policy.responseTime) best = e;
    }
    return best;
  }

  private isPlainGet(ex: Exchange): boolean {
    if (ex.method !== 'GET') return false;
    for (const f of CONDITIONAL_FIELDS) if (ex.reqHeaders[f] !== undefined) return false;
    return true;
  }

  private async miss(ex: Exchange, key: string, fwd: FwdReason, afterWait: boolean): Promise<void> {
    if (!this.isPlainGet(ex) || afterWait) return this.fetch(ex, key, fwd, ex.upstreamHeaders);
    const finish = await this.collapser.lead(key);
    if (!finish) return this.follow(ex, key, fwd);
    try {
      await this.fetch(ex, key, fwd, ex.upstreamHeaders, finish);
    } finally {
      finish({ stored: false });
    }
  }

  /** A collapsed request: wait for the leader, then serve what it stored, or go upstream alone. */
  private async follow(ex: Exchange, key: string, fwd: FwdReason): Promise<void> {
    this.deps.events?.collapsed?.();
    ex.record.collapsed = true;
    const r = await this.collapser.wait(key);
    if (r.stored) {
      const entry = this.select(await this.lookup(key), ex);
      const now = Date.now();
      if (entry && decideUse(entry.policy, ex.reqHeaders, now).action === 'serve') {
        const ok = await this.serve(ex, entry, { fwd, fwdStatus: entry.status, collapsed: true, ttl: ttlOf(entry.policy, now) }, now, false, true);
        if (ok) { ex.record.cache = 'hit'; return; }
      }
    }
    return this.handleRead(ex, true);
  }

  private policyOptions(url: string, mode?: string): PolicyOptions {
    const c = this.deps.config;
    return {
      targeted: targetedNames(c.cdnCacheControlName ?? [], mode, c.cdnCacheControlForward),
      shareSetCookie: c.shareSetCookie,
      heuristicPercent: c.heuristicFraction,
      heuristicMaxSeconds: Math.floor(c.heuristicMax / 1000),
      rule: this.deps.rules?.match(url),
    };
  }

  /** Send the request upstream, store the response when allowed, deliver it. */
  private async fetch(ex: Exchange, key: string, fwd: FwdReason, headers: string[], finish?: (r: { stored: boolean }) => void): Promise<void> {
    const requestTime = Date.now();
    let up: UpstreamResponse;
    try {
      up = await this.deps.upstream.request({ url: ex.target, method: ex.method, headers, body: requestBody(ex) });
    } catch (err) {
      return this.upstreamFailure(ex, err, { fwd });
    }
    const responseTime = Date.now();
    this.noteUpstream(ex, up, responseTime - requestTime);
    if (ex.method === 'HEAD') await this.headUpdatesStored(ex, key, up, requestTime, responseTime);
    await this.storeAndDeliver(ex, key, up, requestTime, responseTime, { fwd, fwdStatus: up.status }, finish);
  }

  private noteUpstream(ex: Exchange, up: UpstreamResponse, ms: number): void {
    ex.record.upstreamMs = ms;
    ex.record.upstreamAddress = up.address;
  }

  private async storeAndDeliver(
    ex: Exchange, key: string, up: UpstreamResponse, requestTime: number, responseTime: number,
    params: CacheStatusParams, finish?: (r: { stored: boolean }) => void, storeAs: string = ex.method,
  ): Promise<void> {
    const opts = this.policyOptions(ex.resourceUrl, ex.mode);
    let writer: EntryWriter | undefined;
    let policy: StoredPolicy | undefined;
    let detail: string | undefined;
    if (storeAs === 'GET' && up.status !== 206 && up.status !== 304) {
      const verdict = canStore({ method: storeAs, headers: ex.reqHeaders }, { status: up.status, headers: up.headers }, opts);
      const cl = Number(up.headers['content-length']);
      if (!verdict.ok) detail = verdict.reason;
      else if (Number.isFinite(cl) && cl > this.deps.config.maxObjectSize) detail = 'too-large';
      else {
        policy = makeStoredPolicy({ status: up.status, headers: up.headers }, requestTime, responseTime, opts);
        if (this.useless(policy, up)) { detail = 'no-freshness'; policy = undefined; }
        else writer = await this.openWriter(ex, key, up, policy, Number.isFinite(cl) && up.headers['content-length'] !== undefined ? cl : undefined);
      }
    }
    const status: CacheStatusParams = { ...params, stored: !!writer, detail: detail ?? params.detail ?? (policy?.rule ? `rule:${policy.rule}` : undefined) };
    if (policy) status.ttl = ttlOf(policy, Date.now());
    if (policy?.rule) ex.record.rule = policy.rule;
    const outcome = await this.deliver(ex, up, status, writer);
    finish?.({ stored: outcome.stored });
  }

  /** A response with no freshness, no validator and no stale allowance could never be reused: not worth storing. */
  private useless(policy: StoredPolicy, up: UpstreamResponse): boolean {
    return policy.freshnessLifetime <= 0 && up.headers.etag === undefined && up.headers['last-modified'] === undefined
      && policy.staleIfError <= 0 && policy.staleWhileRevalidate <= 0 && this.deps.config.offlineGrace <= 0;
  }

  private async openWriter(ex: Exchange, key: string, up: UpstreamResponse, policy: StoredPolicy, expectedSize: number | undefined): Promise<EntryWriter | undefined> {
    const names = varyFieldNames(up.headers);
    if (names === '*') return undefined;
    const values = names.map((n) => normaliseFieldValue(n, ex.reqHeaders));
    const variant = variantId(names, values);
    // keep the variant count bounded and drop variants stored under a different Vary
    const existing = await this.lookup(key);
    const sameVary = existing.filter((e) => e.vary.join(',') === names.join(','));
    for (const e of existing) {
      if (e.vary.join(',') !== names.join(',')) await this.deps.store.delete(key, e.variant).catch(() => 0);
    }
    const others = sameVary.filter((e) => e.variant !== variant).sort((a, b) => a.storedAt - b.storedAt);
    while (others.length >= this.deps.config.maxVariants) {
      const old = others.shift()!;
      await this.deps.store.delete(key, old.variant).catch(() => 0);
    }
    try {
      return this.deps.store.write({
        key, variant, vary: names, varyValues: values, status: up.status,
        headers: withDate(objectToPairs(up.headers), policy.responseTime), policy, storedAt: Date.now(), expectedSize,
      });
    } catch {
      return undefined;
    }
  }

  private deliver(ex: Exchange, up: UpstreamResponse, params: CacheStatusParams, writer?: EntryWriter) {
    const cacheStatus = formatCacheStatus(this.name, params);
    ex.record.cacheStatus = cacheStatus;
    ex.record.cache = cacheResultOf(params, false);
    const headers = this.omit.size > 0 ? objectToPairs(up.headers, this.omit) : undefined;
    return deliverUpstream(ex, up, { via: this.viaEntry(ex), cacheStatus, writer, headers, idleTimeoutMs: this.deps.config.idleTimeout }).then((o) => {
      if (o.error) this.deps.events?.upstreamError?.('body');
      return o;
    });
  }

  private viaEntry(ex: Exchange): string {
    return `${ex.req.httpVersion === '1.0' ? '1.0' : '1.1'} ${this.name}`;
  }

  /** Serve a stored entry; false when its body vanished meanwhile (the caller then treats it as a miss). */
  private async serve(ex: Exchange, entry: EntryMeta, params: CacheStatusParams, now: number, stale: boolean, unvalidated: boolean): Promise<boolean> {
    if (!params.detail && entry.policy.rule) params = { ...params, detail: `rule:${entry.policy.rule}` };
    const cacheStatus = formatCacheStatus(this.name, params);
    ex.record.cacheStatus = cacheStatus;
    ex.record.cache = cacheResultOf(params, stale);
    if (entry.policy.rule) ex.record.rule = entry.policy.rule;
    const r = await serveStored(ex, this.deps.store, entry, {
      via: this.viaEntry(ex), cacheStatus, now, unvalidated, idleTimeoutMs: this.deps.config.idleTimeout, omit: this.omit,
    });
    return r === 'served';
  }

  // ---- validation (§4.3) ----------------------------------------------------------------------------------

  private conditionalHeaders(ex: Exchange, entry: EntryMeta): string[] {
    const headers = removeRaw(ex.upstreamHeaders, CONDITIONAL_FIELDS);
    for (const [k, v] of Object.entries(validatorsFor(entry.headers))) headers.push(k, v);
    return headers;
  }

  private async revalidate(ex: Exchange, key: string, entry: EntryMeta, afterWait: boolean): Promise<void> {
    // concurrent revalidations of one key collapse like misses
    let finish: ((r: { stored: boolean }) => void) | undefined;
    if (ex.method === 'GET' && !afterWait) {
      finish = await this.collapser.lead(key);
      if (!finish) return this.follow(ex, key, 'stale');
    }
    try {
      await this.revalidateNow(ex, key, entry, finish);
    } finally {
      finish?.({ stored: false });
    }
  }

  private async revalidateNow(ex: Exchange, key: string, entry: EntryMeta, finish?: (r: { stored: boolean }) => void): Promise<void> {
    const requestTime = Date.now();
    let up: UpstreamResponse;
    try {
      up = await this.deps.upstream.request({ url: ex.target, method: ex.method, headers: this.conditionalHeaders(ex, entry), body: requestBody(ex) });
    } catch (err) {
      this.deps.events?.revalidation?.('error');
      if (await this.serveStaleOnError(ex, entry, undefined)) return;
      const perr = this.deps.upstream.toProxyError(err, ex.target);
      if (entry.policy.mustRevalidate) {
        return this.fail(ex, upstreamTimeout(`stored response must be revalidated and ${perr.message}`), { fwd: 'stale', detail: perr.detail });
      }
      return this.fail(ex, perr, { fwd: 'stale', detail: perr.detail });
    }
    const responseTime = Date.now();
    this.noteUpstream(ex, up, responseTime - requestTime);

    if (up.status === 304) {
      await drain(up);
      if (selectedBy304(entry.headers, up.headers)) {
        const updated = await this.applyNotModified(key, entry, up, requestTime, responseTime, ex.resourceUrl, ex.mode);
        this.deps.events?.revalidation?.('not-modified');
        finish?.({ stored: true });
        const now = Date.now();
        const ok = await this.serve(ex, updated, { fwd: 'stale', fwdStatus: 304, ttl: ttlOf(updated.policy, now) }, now, false, false);
        if (ok) { ex.record.cache = 'revalidated'; return; }
      }
      // the 304 does not describe what we hold: fetch the full response unconditionally
      return this.fetch(ex, key, 'stale', removeRaw(ex.upstreamHeaders, CONDITIONAL_FIELDS), finish);
    }
    // a 5xx is a real answer: it goes to the client as it is, unless stale-if-error allows the stored one
    // (RFC 9111 §4.2.4 asks for a 504 only when the origin cannot be reached at all)
    if (up.status >= 500 && await this.serveStaleOnError(ex, entry, up)) return;
    if (ex.method === 'HEAD') await this.headUpdatesStored(ex, key, up, requestTime, responseTime);
    this.deps.events?.revalidation?.('modified');
    await this.storeAndDeliver(ex, key, up, requestTime, responseTime, { fwd: 'stale', fwdStatus: up.status }, finish);
  }

  /** §4.3.4: freshen the stored response with the 304's fields. */
  private async applyNotModified(key: string, entry: EntryMeta, up: UpstreamResponse, requestTime: number, responseTime: number, url: string, mode: string): Promise<EntryMeta> {
    const headers = updateHeaders(entry.headers, up.headers, { shareSetCookie: this.deps.config.shareSetCookie });
    const policy = makeStoredPolicy({ status: entry.status, headers: pairsToObject(headers) }, requestTime, responseTime, this.policyOptions(url, mode));
    const updated: EntryMeta = { ...entry, key, headers, policy };
    await this.deps.store.update(updated).catch(() => undefined);
    return updated;
  }

  /** RFC 5861 stale-if-error and the offline grace: serve the stale entry instead of an upstream failure. */
  private async serveStaleOnError(ex: Exchange, entry: EntryMeta, up: UpstreamResponse | undefined): Promise<boolean> {
    const now = Date.now();
    const c = this.deps.config;
    let params: CacheStatusParams | undefined;
    if (canServeStaleOnError(entry.policy, ex.reqHeaders, now)) {
      params = { fwd: 'stale', fwdStatus: up?.status, ttl: ttlOf(entry.policy, now), detail: 'stale-if-error' };
    } else if (c.offlineGrace > 0) {
      const age = currentAge(entry.policy, now);
      // unrounded, so the grace ends when it says it does
      const staleFor = entry.policy.correctedInitialAge + (now - entry.policy.responseTime) / 1000 - entry.policy.freshnessLifetime;
      const strict = entry.policy.mustRevalidate || entry.policy.noCache;
      if (staleFor * 1000 <= c.offlineGrace && (!strict || entry.policy.offlineOverride)) {
        params = { hit: true, ttl: ttlOf(entry.policy, now), detail: 'offline' };
        this.deps.events?.offline?.(ex.resourceUrl, age);
      }
    }
    if (!params) return false;
    if (up) await drain(up);
    return this.serve(ex, entry, params, now, true, true);
  }

  /** stale-while-revalidate: refresh once in the background, no client attached. */
  private revalidateInBackground(ex: Exchange, key: string, entry: EntryMeta): void {
    if (this.background.has(key) || this.collapser.has(key)) return;
    this.background.add(key);
    const headers = this.conditionalHeaders(ex, entry);
    const method = 'GET';
    void (async () => {
      const requestTime = Date.now();
      try {
        const up = await this.deps.upstream.request({ url: ex.target, method, headers });
        const responseTime = Date.now();
        if (up.status === 304) {
          await drain(up);
          if (selectedBy304(entry.headers, up.headers)) await this.applyNotModified(key, entry, up, requestTime, responseTime, ex.resourceUrl, ex.mode);
          this.deps.events?.revalidation?.('not-modified');
          return;
        }
        const opts = this.policyOptions(ex.resourceUrl, ex.mode);
        const verdict = canStore({ method, headers: ex.reqHeaders }, { status: up.status, headers: up.headers }, opts);
        if (!verdict.ok || up.status >= 500) { await drain(up); return; }
        const policy = makeStoredPolicy({ status: up.status, headers: up.headers }, requestTime, responseTime, opts);
        const cl = up.headers['content-length'] !== undefined ? Number(up.headers['content-length']) : undefined;
        const writer = await this.openWriter(ex, key, up, policy, cl);
        if (!writer) { await drain(up); return; }
        try {
          for await (const chunk of up.body as AsyncIterable<Buffer>) {
            const p = writer.write(chunk);
            if (p) await p;
          }
          await writer.commit();
          this.deps.events?.revalidation?.('modified');
        } catch {
          writer.abort();
        }
      } catch {
        this.deps.events?.revalidation?.('error');
      } finally {
        this.background.delete(key);
      }
    })();
  }

  /** §4.3.5: a HEAD response freshens (or invalidates) the stored GET it describes. */
  private async headUpdatesStored(ex: Exchange, key: string, up: UpstreamResponse, requestTime: number, responseTime: number): Promise<void> {
    if (up.status !== 200) return;
    const entry = this.select(await this.lookup(key), ex);
    if (!entry) return;
    const hasValidator = up.headers.etag !== undefined || up.headers['last-modified'] !== undefined;
    if (hasValidator && selectedBy304(entry.headers, up.headers)) {
      await this.applyNotModified(key, entry, up, requestTime, responseTime, ex.resourceUrl, ex.mode);
    } else if (hasValidator) {
      await this.deps.store.delete(key, entry.variant).catch(() => 0);
    }
  }

  // ---- writes (§4.4) and everything else ------------------------------------------------------------------

  /** Aborted when the client goes away before its response is complete (nothing else waits on it). */
  private clientSignal(ex: Exchange): AbortSignal {
    const ac = new AbortController();
    ex.res.once('close', () => { if (!ex.res.writableFinished) ac.abort(); });
    return ac.signal;
  }

  private async handleUnsafe(ex: Exchange): Promise<void> {
    const requestTime = Date.now();
    let up: UpstreamResponse;
    try {
      up = await this.deps.upstream.request({ url: ex.target, method: ex.method, headers: ex.upstreamHeaders, body: requestBody(ex), signal: this.clientSignal(ex) });
    } catch (err) {
      return this.upstreamFailure(ex, err, { fwd: 'method' });
    }
    this.noteUpstream(ex, up, Date.now() - requestTime);
    if (up.status < 400) {
      for (const url of invalidationTargets(ex.method, ex.resourceUrl, up.status, up.headers)) {
        await this.deps.store.delete(this.keyOf(url)).catch(() => 0);
      }
    }
    // RFC 9110 §9.3.3: a POST response with explicit freshness and Content-Location = target serves later GETs
    if (ex.method === 'POST' && postResponseReusable(ex.resourceUrl, up.status, up.headers, this.policyOptions(ex.resourceUrl, ex.mode).targeted)) {
      return this.storeAndDeliver(ex, this.keyOf(ex.resourceUrl), up, requestTime, Date.now(), { fwd: 'method', fwdStatus: up.status }, undefined, 'GET');
    }
    await this.deliver(ex, up, { fwd: 'method', fwdStatus: up.status });
  }

  private async passThrough(ex: Exchange, params: CacheStatusParams): Promise<void> {
    const requestTime = Date.now();
    let up: UpstreamResponse;
    try {
      up = await this.deps.upstream.request({ url: ex.target, method: ex.method, headers: ex.upstreamHeaders, body: requestBody(ex), signal: this.clientSignal(ex) });
    } catch (err) {
      return this.upstreamFailure(ex, err, params);
    }
    this.noteUpstream(ex, up, Date.now() - requestTime);
    await this.deliver(ex, up, { ...params, fwdStatus: up.status });
  }

  private upstreamFailure(ex: Exchange, err: unknown, params: CacheStatusParams): void {
    const perr = this.deps.upstream.toProxyError(err, ex.target);
    ex.record.upstreamError = perr.detail;
    this.deps.events?.upstreamError?.(perr.detail);
    this.fail(ex, perr, { ...params, detail: perr.detail });
  }

  private fail(ex: Exchange, err: ProxyError, params: CacheStatusParams): void {
    const cacheStatus = formatCacheStatus(this.name, { ...params, detail: params.detail ?? err.detail });
    ex.record.cacheStatus = cacheStatus;
    ex.record.cache = 'error';
    ex.record.status = err.status;
    sendError(ex.res, err, ex.resourceUrl, cacheStatus, err.status === 413);
  }

  /** Purge by exact URL (all variants) or by URL prefix. */
  async purge(target: { url?: string; prefix?: string }): Promise<number> {
    if (target.url) return this.deps.store.delete(this.keyOf(target.url));
    if (target.prefix) {
      // the prefix is normalised like a key as far as it goes (scheme/host case), without adding a trailing '/'
      let prefix = target.prefix;
      try {
        const u = new URL(prefix);
        const key = this.keyOf(prefix);
        prefix = u.pathname === '/' && !prefix.endsWith('/') && !u.search ? key.replace(/\/$/, '') : key;
      } catch { /* not a URL: used as given */ }
      return this.deps.store.deletePrefix(prefix);
    }
    return 0;
  }
}

/** RFC 9110 §6.6.1: a cache that stores a response without Date adds one (the time it was received). */
function withDate(pairs: [string, string][], responseTime: number): [string, string][] {
  if (pairs.some(([n]) => n.toLowerCase() === 'date')) return pairs;
  return [...pairs, ['Date', formatHttpDate(responseTime)]];
}

/** The request body to forward, if the client sent one. */
function requestBody(ex: Exchange): import('node:stream').Readable | null {
  const h = ex.req.headers;
  if (h['transfer-encoding'] !== undefined) return ex.body ?? ex.req;
  const cl = h['content-length'];
  if (cl !== undefined && cl !== '0') return ex.body ?? ex.req;
  return null;
}

async function drain(up: UpstreamResponse): Promise<void> {
  if (up.body.readableEnded) return;
  up.body.resume();
  await once(up.body, 'end').catch(() => undefined);
}
