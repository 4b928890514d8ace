/**
 * A Prometheus histogram kept as plain numbers: a fixed array of bucket counts per label value, a sum and
 * a count, incremented with no label hashing or object lookups. It is registered in a prom-client Registry
 * like any metric and turned into prom-client's exported shape only when scraped (get / getForPromString),
 * so /metrics text, getMetricsAsJSON and the cluster AggregatorRegistry see exactly what a prom-client
 * Histogram with the same name, buckets and label values would give.
 */
import type { Registry } from 'prom-client';

interface Series {
  readonly labels: Record<string, string>;
  /** non-cumulative count per upper bound (index like `bounds`); values above the last bound only count */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  /** prom-client's shape: null on buckets (no exemplars kept), undefined on _sum and _count */
  exemplar: null | undefined;
}

export class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[];

  /**
   * @param labelName one label (values fixed up front, each series addressed by index), or undefined for none
   */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    labelName: string | undefined,
    labelValues: readonly string[],
    registry: Registry,
  ) {
    const values = labelName === undefined ? [undefined] : labelValues;
    this.series = values.map((v) => ({ labels: labelName === undefined || v === undefined ? {} : { [labelName]: v }, buckets: new Float64Array(bounds.length), sum: 0, count: 0 }));
    registry.registerMetric(this as never);
  }

  /** count `value` (seconds) in series `index`; non-finite values are ignored */
  observe(index: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const s = this.series[index]!;
    s.sum += value;
    s.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        s.buckets[i]!++;
        return;
      }
    }
  }

  reset(): void {
    for (const s of this.series) {
      s.buckets.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** prom-client's text-export shape: `le` as the label, the series labels as sharedLabels */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: ExportedValue[] } {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.series) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.buckets[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: s.labels, value: acc, metricName: bucketName, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's JSON shape (getMetricsAsJSON, cluster aggregation): series labels merged into each value's labels */
  get(): ReturnType<PlainHistogram['getForPromString']> {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}
