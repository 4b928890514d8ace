// larder dashboard: polls /stats every second and renders figures, uPlot charts and tables.
// Charts render from a bounded ring of points (MAX_POINTS), so memory and drawing cost stay flat however
// long the page stays open. Every value from the server is written with textContent (URLs come from
// clients: never innerHTML).
'use strict';
(() => {
  const POLL_MS = 1000;
  const MAX_POINTS = 300; // 5 minutes at one point per second
  const TIMEOUT_MS = 5000;

  // The token: ?token=T on first load, kept for the tab's session and removed from the address bar.
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || sessionStorage.getItem('larder-token') || '';
  if (params.has('token')) {
    sessionStorage.setItem('larder-token', token);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }

  const $ = (id) => document.getElementById(id);
  const CACHE = ['hit', 'stale', 'revalidated', 'miss', 'bypass', 'error'];
  const COLORS = { hit: '#2ea043', stale: '#d4a72c', revalidated: '#1f9bb5', miss: '#d1242f', bypass: '#8c959f', error: '#8250df' };

  // ---- formatting
  const fmtNum = (n) => (n >= 100 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const fmtPct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);
  const fmtBytes = (b) => {
    if (b === null || b === undefined) return '–';
    const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    while (b >= 1000 && i < units.length - 1) { b /= 1000; i++; }
    return `${i === 0 ? Math.round(b) : b.toFixed(b >= 100 ? 0 : 1)} ${units[i]}`;
  };
  const fmtMs = (ms) => (ms === null || ms === undefined ? '–' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms >= 10 ? Math.round(ms) : ms.toFixed(1)} ms`);
  const fmtDuration = (s) => {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
  };
  const set = (id, text) => { const el = $(id); if (el.textContent !== text) el.textContent = text; };

  // ---- the ring of points: column arrays, as uPlot wants them
  const series = {
    t: [],
    ...Object.fromEntries(CACHE.map((c) => [c, []])),
    hitRatio: [], byteHitRatio: [],
    cacheBps: [], upstreamBps: [],
    p50: [], p90: [], p99: [],
  };
  const push = (point) => {
    for (const k of Object.keys(series)) {
      series[k].push(point[k] ?? null);
      if (series[k].length > MAX_POINTS) series[k].shift();
    }
  };

  // ---- charts
  const charts = [];
  function makeChart(el, seriesOpts, axisFormat, yRange) {
    const width = Math.max(300, el.clientWidth);
    const opts = {
      width, height: 220,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: yRange ? { x: { time: true }, y: { range: yRange } } : { x: { time: true } },
      // x: ticks at whole seconds or more (the points are one per second)
      axes: [{ incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600] }, { values: (u, vals) => vals.map(axisFormat), size: 86 }],
      series: [{}, ...seriesOpts.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.fill, value: (u, v) => (v === null ? '–' : axisFormat(v)), points: { show: false } }))],
    };
    const chart = new uPlot(opts, [[], ...seriesOpts.map(() => [])], el);
    charts.push({ chart, el, keys: seriesOpts.map((s) => s.key) });
    return chart;
  }
  makeChart($('chart-requests'), CACHE.map((c) => ({ key: c, label: c, color: COLORS[c] })), (v) => `${fmtNum(v)}/s`);
  makeChart($('chart-ratio'), [
    { key: 'hitRatio', label: 'hit ratio', color: '#2f6fdb', fill: 'rgba(47,111,219,.08)' },
    { key: 'byteHitRatio', label: 'byte hit ratio', color: '#2ea043' },
  ], (v) => `${Math.round(v * 100)}%`, [0, 1]); // ratios on a fixed 0–100% scale
  makeChart($('chart-bandwidth'), [
    { key: 'cacheBps', label: 'from cache (saved)', color: '#2ea043', fill: 'rgba(46,160,67,.10)' },
    { key: 'upstreamBps', label: 'from upstream', color: '#d1242f' },
  ], (v) => `${fmtBytes(v)}/s`);
  makeChart($('chart-latency'), [
    { key: 'p50', label: 'p50', color: '#2f6fdb' },
    { key: 'p90', label: 'p90', color: '#d4a72c' },
    { key: 'p99', label: 'p99', color: '#d1242f' },
  ], (v) => fmtMs(v));

  const resize = () => {
    for (const c of charts) {
      const w = Math.max(300, c.el.clientWidth);
      if (w !== c.chart.width) c.chart.setSize({ width: w, height: 220 });
    }
  };
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(resize);
    for (const c of charts) ro.observe(c.el);
  } else {
    addEventListener('resize', resize);
  }

  function redrawCharts() {
    for (const c of charts) c.chart.setData([series.t, ...c.keys.map((k) => series[k])]);
  }

  // ---- tables
  function fillTable(id, rows, cells, emptyText) {
    const body = $(id).tBodies[0];
    const frag = document.createDocumentFragment();
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = $(id).tHead.rows[0].cells.length;
      td.className = 'empty';
      td.textContent = emptyText;
      tr.append(td);
      frag.append(tr);
    }
    for (const row of rows) {
      const tr = document.createElement('tr');
      for (const [content, cls] of cells(row)) {
        const td = document.createElement('td');
        if (cls) td.className = cls;
        if (content instanceof Node) td.append(content);
        else { td.textContent = content; td.title = content; }
        tr.append(td);
      }
      frag.append(tr);
    }
    body.replaceChildren(frag);
  }

  function render(s) {
    const r = s.rates;
    set('fig-rps', fmtNum(r.requestsPerSecond));
    set('fig-requests', `${s.totals.requests.toLocaleString('en')} total`);
    set('fig-hit', fmtPct(r.hitRatio));
    set('fig-hit-total', `${fmtPct(s.hitRatio)} since start`);
    set('fig-bytehit', fmtPct(r.byteHitRatio));
    set('fig-bytehit-total', `${fmtPct(s.byteHitRatio)} since start`);
    set('fig-saved', fmtBytes(s.bytesSaved));
    set('fig-saved-rate', `${fmtBytes(r.cacheBytesPerSecond)}/s now`);
    const up = s.latency.upstreamMs;
    set('fig-upstream', fmtMs(up.p90));
    set('fig-upstream-sub', `p90 · p50 ${fmtMs(up.p50)} · p99 ${fmtMs(up.p99)}`);
    set('fig-conns', String(s.connections));
    set('fig-tunnels', `${s.tunnels} tunnels`);
    set('fig-errors', String(s.totals.upstreamErrors + s.totals.denied + s.totals.authFailures));
    set('fig-errors-sub', `${s.totals.upstreamErrors} upstream · ${s.totals.denied} denied · ${s.totals.authFailures} auth`);
    const meta = [];
    if (s.version) meta.push(`v${s.version}`);
    if (typeof s.uptime === 'number') meta.push(`up ${fmtDuration(s.uptime)}`);
    else if (s.startedAt) meta.push(`up ${fmtDuration((s.time - s.startedAt) / 1000)}`);
    set('meta', meta.join(' · ') || 'caching proxy');

    push({
      t: s.time / 1000,
      ...Object.fromEntries(CACHE.map((c) => [c, r.byCache[c]])),
      hitRatio: r.hitRatio, byteHitRatio: r.byteHitRatio,
      cacheBps: r.cacheBytesPerSecond, upstreamBps: r.upstreamBytesPerSecond,
      p50: up.p50, p90: up.p90, p99: up.p99,
    });
    redrawCharts();

    fillTable('store', s.store, (t) => {
      const meter = document.createElement('meter');
      meter.min = 0; meter.max = t.budget || 1; meter.value = t.bytes; meter.high = (t.budget || 1) * 0.9;
      meter.title = t.budget ? `${((t.bytes / t.budget) * 100).toFixed(1)}% of budget` : 'no budget';
      return [[t.tier, 'key'], [meter], [t.objects.toLocaleString('en'), 'num'], [fmtBytes(t.bytes), 'num'], [t.budget ? fmtBytes(t.budget) : '–', 'num'], [t.evictions.toLocaleString('en'), 'num']];
    }, 'no store');
    const count = (e) => [[e.key, 'key'], [e.count.toLocaleString('en'), 'num']];
    const bytes = (e) => [[e.key, 'key'], [fmtBytes(e.count), 'num']];
    fillTable('top-hosts-hits', s.top.hostsByHits, count, 'no cache hits yet');
    fillTable('top-hosts-bytes', s.top.hostsByBytes, bytes, 'no traffic yet');
    fillTable('top-urls-hits', s.top.urlsByHits, count, 'no cache hits yet');
    fillTable('top-urls-bytes', s.top.urlsByBytes, bytes, 'no traffic yet');
  }

  // ---- polling: one request at a time, never overlapping
  function status(cls, text) {
    const el = $('status');
    el.className = cls;
    el.textContent = text;
  }
  function notice(text) {
    const el = $('notice');
    el.textContent = text || '';
    el.classList.toggle('show', Boolean(text));
  }

  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch('stats', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store', signal: ctl.signal });
      if (res.status === 401) {
        status('error', 'token required');
        notice('This admin listener needs a token: open the dashboard as /?token=YOUR_TOKEN.');
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      render(await res.json());
      status('ok', `live · ${new Date().toLocaleTimeString()}`);
      notice('');
    } catch (err) {
      status('error', `disconnected (${err.name === 'AbortError' ? 'timeout' : err.message})`);
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MS);
    }
  }
  void poll();
})();
