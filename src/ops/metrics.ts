// Prometheus metrics. Each app instance owns its registry (tests build many apps in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  gauge(name: string, help: string, labelNames?: string[]): Gauge<string>;
  counter(name: string, help: string, labelNames?: string[]): Counter<string>;
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): Histogram<string>;
}

/** const metrics = createMetrics(); metrics.counter('settle_deposits_total', 'Deposits seen').inc() */
export function createMetrics(withDefaults = true): Metrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const cache = new Map<string, unknown>();
  function once<T>(name: string, make: () => T): T {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  }
  return {
    registry,
    httpRequests: new Counter({ name: 'settle_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({ name: 'settle_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], registers: [registry], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] }),
    gauge: (name, help, labelNames = []) => once(name, () => new Gauge({ name, help, labelNames, registers: [registry] })),
    counter: (name, help, labelNames = []) => once(name, () => new Counter({ name, help, labelNames, registers: [registry] })),
    histogram: (name, help, labelNames = [], buckets) => once(name, () => new Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })),
  };
}
