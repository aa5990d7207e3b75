// The API app with stand-ins for the parts behind it, for tests of what the
// routes declare (their OpenAPI document) without a loop or HAProxy.
import { systemClock } from '../../src/clock.js';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { configDiff } from '../../src/core/planning/config-diff.js';
import { StatsPoller } from '../../src/haproxy/stats-poller.js';
import { buildApp } from '../../src/http/app.js';
import type { ObjectService } from '../../src/http/object-service.js';
import type { SystemView } from '../../src/http/routes/system.js';
import { ActivityFeed } from '../../src/observe/activity.js';
import { Metrics } from '../../src/observe/metrics.js';

/** A loop that has applied nothing, for the system routes. */
export const idleSystem = (): SystemView => ({
  appliedConfig: () => undefined,
  ready: () => false,
  lastApply: () => undefined,
  preview: () => configDiff(undefined, ''),
  generationConfig: async () => undefined,
  access: { readOnly: false, readToken: false, writeToken: false },
});

/** The app with every route registered; its handlers must not be called (the service is empty). */
export async function documentedApp(): Promise<FastifyInstance> {
  const log = pino({ level: 'silent' });
  const app = await buildApp(
    {
      service: {} as ObjectService,
      system: idleSystem(),
      ledger: () => [],
      observe: {
        poller: new StatsPoller(() => Promise.reject(new Error('no HAProxy here')), 1000, log, systemClock),
        activity: new ActivityFeed(systemClock),
        metrics: new Metrics({
          manifests: async () => [],
          members: () => ({}),
          held: () => [],
          certificates: () => [],
          registryConnected: () => undefined,
          oldWorkers: async () => undefined,
          rollouts: () => [],
          healthGates: () => [],
          build: {
            version: '1.0.0',
            haproxyVersion: '2.6.12',
            haproxyVersionText: '2.6.12-1+deb12u4',
            haproxyBuildOptions: 'USE_OPENSSL=1',
            nodeVersion: process.version,
          },
          applied: () => undefined,
        }),
        maxBufferedBytes: 1024,
      },
      log,
    },
    { readOnly: false, auth: {}, bodyLimit: 1024, waitTimeoutMs: 1000, version: '1.0.0' },
  );
  await app.ready();
  return app;
}

type Json = Record<string, unknown>;

/** The generated OpenAPI document. */
export async function openApiDocument(): Promise<Json> {
  const app = await documentedApp();
  try {
    return app.swagger() as unknown as Json;
  } finally {
    await app.close();
  }
}
