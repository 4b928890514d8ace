/**
 * A small parser for the Prometheus text exposition format (version 0.0.4), enough for the tests:
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface ParsedMetrics { samples: Sample[]; types: Map<string, string>; help: Map<string, string> }

export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (m) (m[1] === 'TYPE' ? types : help).set(m[2]!, m[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(m[3])) !== null) {
        labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      if (consumed !== m[3].length) throw new Error(`bad labels: ${m[3]}`);
    }
    const v = m[4]!;
    // Go's ParseFloat (used by Prometheus) takes NaN and Inf in any case; prom-client writes "Nan"
    const lower = v.toLowerCase();
    const value = lower === '+inf' || lower === 'inf' ? Infinity : lower === '-inf' ? -Infinity : lower === 'nan' ? NaN : Number(v);
    if (Number.isNaN(value) && lower !== 'nan') throw new Error(`bad value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types, help };
}

/** The value of the one sample with this name whose labels include `labels`; undefined when absent. */
export function sampleValue(p: ParsedMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples match`);
  return found[0]?.value;
}
