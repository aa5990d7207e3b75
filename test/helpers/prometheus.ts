// Prometheus text parsed with a real parser (parse-prometheus-text-format,
// prom2json's format), and a lookup of one sample by name and labels.
import { createRequire } from 'node:module';

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }[];
}

// The package ships CommonJS without types; this is its documented call.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

export function parsePrometheus(text: string): MetricFamily[] {
  return parse(text);
}

/** The value of the sample of `name` whose labels include `labels`; undefined when absent. */
export function sample(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  if (m === undefined) return undefined;
  return Number(m.value ?? m.count);
}
