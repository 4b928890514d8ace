/** Port lists as in connectPorts: numbers, ranges `1000-2000`, or `*` (every port). */
import { ConfigError } from '../errors.js';

export interface PortRange {
  from: number;
  to: number;
}

/** Parse one entry; throws a ConfigError naming `key` for anything but 1..65535, a rising range or `*`. */
export function parsePortRange(raw: string, key: string): PortRange {
  const s = raw.trim();
  if (s === '*') return { from: 1, to: 65535 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  const from = m ? Number(m[1]) : NaN;
  const to = m && m[2] !== undefined ? Number(m[2]) : from;
  if (!m || from < 1 || to > 65535 || from > to) {
    throw new ConfigError(`${key}: expected port numbers or ranges (443,8443,1000-2000) or *, got ${JSON.stringify(raw)}`);
  }
  return { from, to };
}

export function parsePortRanges(list: readonly string[], key: string): PortRange[] {
  return list.map((raw) => parsePortRange(raw, key));
}

/** Is `port` (an integer 1..65535) in one of the ranges? */
export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
  return ranges.some((r) => port >= r.from && port <= r.to);
}
