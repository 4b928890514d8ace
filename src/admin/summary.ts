/**
 * --summary: one line every few seconds on a stream (stderr by default in the CLI), for a quick look
 * without the dashboard:  "larder: 12.4 req/s · hit 63.2% · byte hit 71.0% · saved 1.2 GB"
 */
import type { Metrics, StatsSnapshot } from './metrics.js';

export function formatSummary(s: StatsSnapshot): string {
  const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const rps = s.rates.requestsPerSecond;
  return `larder: ${rps >= 100 ? Math.round(rps) : rps.toFixed(1)} req/s · hit ${pct(s.rates.hitRatio)} · ` +
    `byte hit ${pct(s.rates.byteHitRatio)} · saved ${formatBytes(s.bytesSaved)} · ${s.totals.requests} requests`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** Print a summary line every intervalMs; returns the function that stops it. */
export function startSummary(metrics: Metrics, out: NodeJS.WritableStream, intervalMs = 5000): () => void {
  const timer = setInterval(() => {
    out.write(`${formatSummary(metrics.snapshot())}\n`);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
