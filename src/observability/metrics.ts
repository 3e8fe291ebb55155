import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { AnyEvent } from '../domain/shared/message.ts';

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one)
 * so that several apps in one process — as in tests — do not share counters.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'twofactor_verifications_total',
    help: 'Codes checked, by method (totp, recovery-code), purpose and outcome (success, failure, refused)',
    labelNames: ['method', 'purpose', 'outcome'] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'twofactor_lockouts_total',
    help: 'Factors locked after failed attempts, by factor (app, recovery-codes) and kind (temporary, until-admin)',
    labelNames: ['factor', 'kind'] as const,
    registers: [registry],
  });

  /** Counts verifications and lockouts from the events a command appended. */
  function observeEvents(events: readonly AnyEvent[]): void {
    for (const event of events) {
      const data = event.data as Record<string, unknown>;
      switch (event.type) {
        case 'SignInVerified':
          verifications.inc({ method: String(data.method), purpose: 'sign-in', outcome: 'success' });
          break;
        case 'CodesRegenerated':
          verifications.inc({ method: 'totp', purpose: 'regenerate', outcome: 'success' });
          break;
        case 'TwoFactorDisabled':
          verifications.inc({ method: String(data.method), purpose: 'disable', outcome: 'success' });
          break;
        case 'VerificationFailed':
          verifications.inc({
            method: String(data.method),
            purpose: String(data.purpose),
            outcome: 'failure',
          });
          break;
        case 'VerificationRefused':
          verifications.inc({
            method: String(data.method),
            purpose: String(data.purpose),
            outcome: 'refused',
          });
          break;
        case 'FactorLocked':
          lockouts.inc({
            factor: String(data.factor),
            kind: data.lockedUntil === null ? 'until-admin' : 'temporary',
          });
          break;
      }
    }
  }

  // Each (method, route, status) keeps its label children: prom-client otherwise hashes the
  // label object on every observation, which shows in the profile of a busy route.
  const perRequestKind = new Map<string, { count: () => void; observe: (seconds: number) => void }>();
  /** Counts one answered request and observes its latency. */
  function observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let children = perRequestKind.get(key);
    if (children === undefined) {
      const counter = requests.labels({ method, route, status: String(status) });
      const histogram = duration.labels({ method, route });
      children = { count: () => counter.inc(), observe: (value) => histogram.observe(value) };
      perRequestKind.set(key, children);
    }
    children.count();
    children.observe(seconds);
  }

  return { registry, requests, duration, observeEvents, observeRequest };
}

export type Metrics = ReturnType<typeof createMetrics>;
