// Picks the registry source from the run options.
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { RunConfig } from '../../config.js';
import type { Registration } from '../../core/manifests/model.js';
import { axonTransport } from './axon-transport.js';
import { httpUrl } from './registry-http.js';
import { noRegistry, SnapshotRegistrySource, type RegistryObserver, type RegistrySource } from './registry-source.js';
import { socketIoTransport } from './socketio-transport.js';

export const registryApiUrl = (config: Pick<RunConfig, 'thalassaHost' | 'thalassaApiPort'>): string =>
  httpUrl(config.thalassaHost, config.thalassaApiPort);

export interface RegistryWiring {
  /** Membership changed: the loop reads the snapshot when it runs. */
  onChange(): void;
  observer?: RegistryObserver;
  /** Why a registration may not become a member, if so (see SnapshotSourceOptions.refuse). */
  refuse?: (r: Registration) => string | undefined;
  log: Logger;
  clock: Clock;
}

export function createRegistrySource(config: RunConfig, wiring: RegistryWiring): RegistrySource {
  const { onChange, observer, refuse, log, clock } = wiring;
  if (config.registry === 'none') return noRegistry;
  const apiUrl = registryApiUrl(config);
  const transport =
    config.registry === 'thalassa'
      ? axonTransport(config.thalassaHost, config.thalassaPort, clock)
      : socketIoTransport(apiUrl);
  return new SnapshotRegistrySource({
    kind: config.registry,
    apiUrl,
    pollIntervalMs: config.registryPollInterval,
    graceMs: config.registryGrace,
    transport,
    onChange,
    ...(observer !== undefined && { observer }),
    ...(refuse !== undefined && { refuse }),
    log,
    clock,
  });
}
