/**
 * The cache engine: between the router and the upstream client. Looks the request up in the store,
 * serves fresh entries, revalidates stale ones (RFC 9111 §4.3), applies RFC 5861, collapses concurrent
 * misses, stores what RFC 9111 §3 allows, and invalidates after unsafe methods (§4.4).
 * It knows no socket: it takes a request description and returns an Outcome (cache/request.ts) that the
 * proxy layer writes to the client. Every Outcome carries the Cache-Status (RFC 9211) naming what it did.
 */
import type { Config } from '../config/load.js';
import type { Store } from '../store/types.js';
import { notCached, type ExchangeError } from '../errors.js';
import type { CachedEntry } from './stored-policy.js';
import type { CacheRequest, Clock, Outcome, UpstreamPort, UpstreamReply } from './request.js';
import { cacheResultOf } from './status.js';
import { formatCacheStatus, type CacheStatusParams, type FwdReason } from '../http/cache-status.js';
import { Collapser, type KeyCollapser } from './collapse.js';
import { serveStored, servePart, readyHead } from './serve.js';
import type { PlainHit } from './plain-hit.js';
import { answerFromParts } from './partial-read.js';
import type { Part } from './partial.js';
import { decideUse, onlyIfCached, ttl as ttlOf, type PolicyOptions, type RuleParams } from './policy.js';
import { primaryKey } from './key.js';
import { variantMatches } from './vary.js';
import { invalidationTargets, postResponseReusable } from './invalidation.js';
import { targetedNames, privateTargetedNames } from './cache-control.js';
import { finishResponseHeaders } from './response-head.js';
import { viaEntry } from '../http/via.js';
import { SAFE_METHODS } from '../http/methods.js';
import { exchange } from './upstream-exchange.js';
import { admit } from './admit.js';
import type { AbandonRule, FillOptions, StoreFill } from './store-tee.js';
import {
  CONDITIONAL_FIELDS, revalidateNow, refreshInBackground, headUpdatesStored,
  type Finish, type ServeParams, type ValidationCore,
} from './revalidate.js';

export interface EngineEvents {
  collapsed?(): void;
  revalidation?(outcome: 'not-modified' | 'modified' | 'error'): void;
  upstreamError?(kind: string): void;
  offline?(url: string, ageSeconds: number): void;
  /** a stored body's last chunk was delivered before its commit finished (read-your-writes not kept) */
  slowCommit?(): void;
  /** a fill was given up on after its client left */
  fillAbandoned?(): void;
}

export interface RuleMatcher {
  match(url: string): RuleParams | undefined;
}

/** The options the engine reads. */
export type EngineOptions = Pick<Config,
  | 'cache' | 'via' | 'keyIgnoreQuery' | 'collapseTimeout' | 'shareSetCookie' | 'heuristicFraction' | 'heuristicMax'
  | 'maxObjectSize' | 'maxVariants' | 'offlineGrace'
> & Partial<Pick<Config, 'cdnCacheControlName' | 'cdnCacheControlForward'>> & Partial<Pick<Config, 'fillAbortMin' | 'fillAbortMax' | 'fillAbortPercent'>>;

export interface EngineDeps {
  config: EngineOptions;
  store: Store;
  upstream: UpstreamPort;
  rules?: RuleMatcher;
  events?: EngineEvents;
  /** the time (ms since the epoch); Date.now by default */
  clock?: Clock;
  /** default: per-process collapsing; the cluster workers inject one that asks the primary */
  collapser?: KeyCollapser;
  /** how long the last chunk of a stored body waits for the commit (read-your-writes); 1 s by default */
  commitWaitMs?: number;
}

/** Squid's quick_abort_* defaults */
const DEFAULT_ABANDON: AbandonRule = { minBytes: 16 * 1024, maxBytes: 16 * 1024, percent: 95 };

export class CacheEngine implements ValidationCore {
  private readonly collapser: KeyCollapser;
  /** targeted cache-control fields addressed to larder alone: never sent downstream (RFC 9213) */
  private readonly omit: ReadonlySet<string>;
  private readonly background = new Set<string>();
  private readonly name: string;
  readonly store: Store;
  readonly upstream: UpstreamPort;
  readonly clock: Clock;
  readonly events: EngineEvents;
  readonly offlineGraceMs: number;
  readonly shareSetCookie: boolean;
  readonly maxObjectSize: number;
  readonly maxVariants: number;
  private readonly abandon: AbandonRule;
  /** counters the metrics read */
  readonly counters = { slowCommits: 0, fillsAbandoned: 0 };

  constructor(private readonly deps: EngineDeps) {
    const c = deps.config;
    this.collapser = deps.collapser ?? new Collapser(c.collapseTimeout);
    this.omit = privateTargetedNames(c.cdnCacheControlName ?? []);
    this.name = c.via;
    this.store = deps.store;
    this.upstream = deps.upstream;
    this.clock = deps.clock ?? Date.now;
    this.events = deps.events ?? {};
    this.offlineGraceMs = c.offlineGrace;
    this.shareSetCookie = c.shareSetCookie;
    this.maxObjectSize = c.maxObjectSize;
    this.maxVariants = c.maxVariants;
    this.abandon = {
      minBytes: c.fillAbortMin ?? DEFAULT_ABANDON.minBytes,
      maxBytes: c.fillAbortMax ?? DEFAULT_ABANDON.maxBytes,
      percent: c.fillAbortPercent ?? DEFAULT_ABANDON.percent,
    };
  }

  keyOf(url: string): string {
    return primaryKey(url, this.deps.config.keyIgnoreQuery);
  }

  handle(req: CacheRequest): Promise<Outcome> {
    if (!this.deps.config.cache) return this.passThrough(req, { fwd: 'bypass', detail: 'cache-off' });
    if (req.method === 'GET' || req.method === 'HEAD') return this.read(req, { collapse: true });
    if (SAFE_METHODS.has(req.method)) return this.passThrough(req, { fwd: 'method' });
    return this.unsafe(req);
  }

  // ---- reads -------------------------------------------------------------------------------------------

  /** `collapse: false` after waiting for another request's fetch: go upstream alone rather than wait again. */
  private async read(req: CacheRequest, { collapse }: { collapse: boolean }): Promise<Outcome> {
    const key = this.keyOf(req.resourceUrl);
    const entries = await this.lookup(key);
    const entry = this.select(entries, req.headers);
    const now = this.clock();
    if (!entry && entries.length > 0) {
      // no complete response: stored parts may answer (RFC 9111 §3.3, §3.4; cache/partial-read.ts)
      const out = await answerFromParts(this, req, key, entries, now);
      if (out) return out;
    }
    if (entry) {
      const d = decideUse(entry.policy, req.headers, now);
      if (d.action === 'serve') {
        const out = await this.serve(req, entry, { hit: true, ttl: ttlOf(entry.policy, now) }, { now, stale: d.stale, unvalidated: true });
        if (out) return out;
      } else if (d.action === 'serve-stale-while-revalidate') {
        const out = await this.serve(req, entry, { hit: true, ttl: ttlOf(entry.policy, now), detail: 'stale-while-revalidate' }, { now, stale: true, unvalidated: true });
        if (out) { this.revalidateInBackground(req, key, entry); return out; }
      } else {
        if (onlyIfCached(req.headers)) return this.fail(notCached(), { detail: 'only-if-cached' });
        return this.revalidate(req, key, entry, { collapse });
      }
    }
    if (onlyIfCached(req.headers)) return this.fail(notCached(), { detail: 'only-if-cached' });
    const fwd: FwdReason = entries.some((e) => e.status !== 206) ? 'vary-miss' : 'uri-miss';
    return this.miss(req, key, fwd, { collapse });
  }

  async lookup(key: string): Promise<CachedEntry[]> {
    try {
      return await this.store.lookup(key) as CachedEntry[];
    } catch {
      return []; // a store failure degrades to a miss, never to an error page
    }
  }

  /** §4.1: the most recent stored response whose Vary-selected fields match the request. */
  select(entries: CachedEntry[], headers: CacheRequest['headers']): CachedEntry | undefined {
    let best: CachedEntry | undefined;
    for (const e of entries) {
      if (e.status === 206) continue; // a stored part is never the whole (§3.3); cache/partial-read.ts uses it
      if (e.vary.length > 0 && !variantMatches(e, headers)) continue;
      if (!best || e.policy.responseTime > best.policy.responseTime) best = e;
    }
    return best;
  }

  /** A range from a stored part (RFC 9111 §3.3); undefined when its body vanished. */
  async servePiece(req: CacheRequest, entry: CachedEntry, part: Part, range: { start: number; end: number }, params: CacheStatusParams, now: number, source: Pick<Store, 'read'> = this.store): Promise<Outcome | undefined> {
    params = { ...params, ttl: ttlOf(entry.policy, now) };
    const cacheStatus = formatCacheStatus(this.name, params);
    const r = await servePart(req, source, entry, part, range, { via: viaEntry(req.httpVersion, this.name), cacheStatus, now, unvalidated: true, omit: this.omit });
    if (r === 'vanished') return undefined;
    return { kind: 'stored', ...r, cacheStatus, result: 'hit' };
  }

  private async miss(req: CacheRequest, key: string, fwd: FwdReason, { collapse }: { collapse: boolean }): Promise<Outcome> {
    if (!isPlainGet(req) || !collapse) return this.fetch(req, key, { fwd }, req.upstreamHeaders);
    const finish = await this.collapser.lead(key);
    if (!finish) return this.follow(req, key, fwd);
    return this.led(finish, () => this.fetch(req, key, { fwd }, req.upstreamHeaders, finish));
  }

  /** Run the leader's fetch; a failure releases the followers at once (they then go upstream alone). */
  private async led(finish: Finish, run: () => Promise<Outcome>): Promise<Outcome> {
    try {
      const out = await run();
      if (!(out.kind === 'upstream' && out.fill)) finish({ stored: false });
      return out;
    } catch (err) {
      finish({ stored: false });
      throw err;
    }
  }

  /** A collapsed request: wait for the leader, then serve what it stored, or go upstream alone. */
  private async follow(req: CacheRequest, key: string, fwd: FwdReason): Promise<Outcome> {
    this.events.collapsed?.();
    req.notes.collapsed = true;
    const r = await this.collapser.wait(key);
    if (r.stored) {
      const entry = this.select(await this.lookup(key), req.headers);
      const now = this.clock();
      if (entry && decideUse(entry.policy, req.headers, now).action === 'serve') {
        const out = await this.serve(req, entry, { fwd, fwdStatus: entry.status, collapsed: true, ttl: ttlOf(entry.policy, now) }, { now, stale: false, unvalidated: true, result: 'hit' });
        if (out) return out;
      }
    }
    return this.read(req, { collapse: false });
  }

  policyOptions(url: string, mode?: CacheRequest['mode']): PolicyOptions {
    const c = this.deps.config;
    return {
      targeted: targetedNames(c.cdnCacheControlName ?? [], mode, c.cdnCacheControlForward ?? false),
      shareSetCookie: c.shareSetCookie,
      heuristicPercent: c.heuristicFraction,
      heuristicMaxSeconds: Math.floor(c.heuristicMax / 1000),
      rule: this.deps.rules?.match(url),
    };
  }

  /**
   * Prepare an entry for the fast hit path (cache/plain-hit.ts): one without Vary, whole (not a part, 204 or
   * 304). Whether it may be served, and how fresh, is still decided per request by decideUse.
   */
  private attachPlain(entry: CachedEntry): void {
    if (!this.store.attach || entry.vary.length > 0 || entry.status === 204 || entry.status === 206 || entry.status === 304) return;
    const plain: PlainHit = { entry, head: readyHead(entry, true, this.omit) };
    this.store.attach(entry, plain);
  }

  fillOptions(key: string): Omit<FillOptions, 'expectedSize'> {
    return {
      // a new entry is ready for the fast path as soon as it is committed (its first hit need not be slow)
      onCommitted: (meta) => this.attachPlain(meta as CachedEntry),
      commitWaitMs: this.deps.commitWaitMs ?? 1000,
      abandon: this.abandon,
      // another process's waiters are not counted here: then a fill others may wait for is finished
      othersWaiting: () => (this.collapser.waiting ? this.collapser.waiting(key) > 0 : this.collapser.has(key)),
      onSlowCommit: () => { this.counters.slowCommits++; this.events.slowCommit?.(); },
      onAbandoned: () => { this.counters.fillsAbandoned++; this.events.fillAbandoned?.(); },
    };
  }

  /** Send the request upstream, store the response when allowed, and answer with it. */
  async fetch(req: CacheRequest, key: string, status: CacheStatusParams, headers: string[], finish?: Finish): Promise<Outcome> {
    const r = await exchange(this.upstream, this.clock, { url: req.target, method: req.method, headers, body: req.body, onInterim: req.interim }, req.notes);
    if (!r.ok) return this.upstreamFailure(req, r.error, status);
    if (req.method === 'HEAD') await headUpdatesStored(this, req, key, r.reply, r.requestTime, r.responseTime);
    return this.deliver(req, key, r.reply, r.requestTime, r.responseTime, { ...status, fwdStatus: r.reply.status }, finish);
  }

  /** The upstream response as the answer, teed into the store when it may be stored. */
  async deliver(
    req: CacheRequest, key: string, reply: UpstreamReply, requestTime: number, responseTime: number,
    params: CacheStatusParams, finish?: Finish, storeAs: string = req.method,
  ): Promise<Outcome> {
    const { fill, policy, detail } = await admit(this, { method: storeAs, headers: req.headers, resourceUrl: req.resourceUrl, mode: req.mode }, key, reply, requestTime, responseTime);
    const status: CacheStatusParams = { ...params, stored: !!fill, detail: detail ?? params.detail ?? (policy?.rule ? `rule:${policy.rule}` : undefined) };
    if (policy) status.ttl = ttlOf(policy, this.clock());
    if (policy?.rule) req.notes.rule = policy.rule;
    if (fill && finish) void fill.settled.then((stored) => finish({ stored }));
    return this.forward(req, reply, status, fill);
  }

  private forward(req: CacheRequest, reply: UpstreamReply, params: CacheStatusParams, fill?: StoreFill): Outcome {
    const cacheStatus = formatCacheStatus(this.name, params);
    return {
      kind: 'upstream', reply, fill, cacheStatus, result: cacheResultOf(params, false),
      headers: finishResponseHeaders(this.omit.size > 0 ? reply.pairs.filter(([n]) => !this.omit.has(n.toLowerCase())) : reply.pairs, viaEntry(req.httpVersion, this.name), cacheStatus),
      settle: (o) => { if (o.error) this.events.upstreamError?.('body'); },
    };
  }

  /** A stored entry as the answer; undefined when its body vanished meanwhile (the caller then treats it as a miss). */
  async serve(req: CacheRequest, entry: CachedEntry, params: CacheStatusParams, how: ServeParams): Promise<Outcome | undefined> {
    if (!params.detail && entry.policy.rule) params = { ...params, detail: `rule:${entry.policy.rule}` };
    const cacheStatus = formatCacheStatus(this.name, params);
    const r = await serveStored(req, this.store, entry, { via: viaEntry(req.httpVersion, this.name), cacheStatus, now: how.now, unvalidated: how.unvalidated, omit: this.omit });
    if (r === 'vanished') return undefined;
    if (entry.policy.rule) req.notes.rule = entry.policy.rule;
    // served whole, fresh and unmodified: the fast hit path may answer the next plain GETs from it
    if (req.method === 'GET' && params.hit && !how.stale && how.unvalidated && how.result === undefined
      && (params.detail === undefined || params.detail === `rule:${entry.policy.rule}`) && r.status === entry.status) {
      this.attachPlain(entry);
    }
    return { kind: 'stored', ...r, cacheStatus, result: how.result ?? cacheResultOf(params, how.stale) };
  }

  // ---- validation (§4.3): cache/revalidate.ts ------------------------------------------------------------

  private async revalidate(req: CacheRequest, key: string, entry: CachedEntry, { collapse }: { collapse: boolean }): Promise<Outcome> {
    // concurrent revalidations of one key collapse like misses
    if (req.method !== 'GET' || !collapse) return revalidateNow(this, req, key, entry);
    const finish = await this.collapser.lead(key);
    if (!finish) return this.follow(req, key, 'stale');
    return this.led(finish, () => revalidateNow(this, req, key, entry, finish));
  }

  private revalidateInBackground(req: CacheRequest, key: string, entry: CachedEntry): void {
    if (this.background.has(key) || this.collapser.has(key)) return;
    this.background.add(key);
    void refreshInBackground(this, req, key, entry).finally(() => this.background.delete(key));
  }

  // ---- writes (§4.4) and everything else ------------------------------------------------------------------

  private async unsafe(req: CacheRequest): Promise<Outcome> {
    const r = await exchange(this.upstream, this.clock, { url: req.target, method: req.method, headers: req.upstreamHeaders, body: req.body, signal: req.clientGone, onInterim: req.interim }, req.notes);
    if (!r.ok) return this.upstreamFailure(req, r.error, { fwd: 'method' });
    if (r.reply.status < 400) {
      for (const url of invalidationTargets(req.method, req.resourceUrl, r.reply.status, r.reply.headers)) {
        await this.store.delete(this.keyOf(url)).catch(() => 0);
      }
    }
    // RFC 9110 §9.3.3: a POST response with explicit freshness and Content-Location = target serves later GETs
    if (req.method === 'POST' && postResponseReusable(req.resourceUrl, r.reply.status, r.reply.headers, this.policyOptions(req.resourceUrl, req.mode).targeted)) {
      return this.deliver(req, this.keyOf(req.resourceUrl), r.reply, r.requestTime, r.responseTime, { fwd: 'method', fwdStatus: r.reply.status }, undefined, 'GET');
    }
    return this.forward(req, r.reply, { fwd: 'method', fwdStatus: r.reply.status });
  }

  private async passThrough(req: CacheRequest, params: CacheStatusParams): Promise<Outcome> {
    const r = await exchange(this.upstream, this.clock, { url: req.target, method: req.method, headers: req.upstreamHeaders, body: req.body, signal: req.clientGone, onInterim: req.interim }, req.notes);
    if (!r.ok) return this.upstreamFailure(req, r.error, params);
    return this.forward(req, r.reply, { ...params, fwdStatus: r.reply.status });
  }

  private upstreamFailure(req: CacheRequest, error: ExchangeError, params: CacheStatusParams): Outcome {
    req.notes.upstreamError = error.detail;
    this.events.upstreamError?.(error.detail);
    return this.fail(error, { ...params, detail: error.detail });
  }

  fail(error: ExchangeError, params: CacheStatusParams): Outcome {
    return { kind: 'error', error, cacheStatus: formatCacheStatus(this.name, { ...params, detail: params.detail ?? error.detail }), result: 'error' };
  }

  /** Purge by exact URL (all variants) or by URL prefix. */
  async purge(target: { url?: string; prefix?: string }): Promise<number> {
    if (target.url) return this.store.delete(this.keyOf(target.url));
    if (target.prefix) {
      // the prefix is normalised like a key as far as it goes (scheme/host case), without adding a trailing '/'
      let prefix = target.prefix;
      try {
        const u = new URL(prefix);
        const key = this.keyOf(prefix);
        prefix = u.pathname === '/' && !prefix.endsWith('/') && !u.search ? key.replace(/\/$/, '') : key;
      } catch { /* not a URL: used as given */ }
      return this.store.deletePrefix(prefix);
    }
    return 0;
  }
}

function isPlainGet(req: CacheRequest): boolean {
  if (req.method !== 'GET') return false;
  for (const f of CONDITIONAL_FIELDS) if (req.headers[f] !== undefined) return false;
  return true;
}

