// Thalassa's event socket: an axon pub socket over TCP that we subscribe to,
// reconnecting with backoff (0.5 s doubling to 30 s) for as long as we run.
import net from 'node:net';
import type { Clock } from '../../clock.js';
import { AxonDecoder } from './axon-frames.js';
import type { EventTransport } from './registry-source.js';

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export function axonTransport(host: string, port: number, clock: Clock): EventTransport {
  let socket: net.Socket | undefined;
  let cancelRetry = (): void => undefined;
  let closed = false;
  let backoff = MIN_BACKOFF_MS;
  return {
    connect(handlers) {
      const open = () => {
        if (closed) return;
        const decoder = new AxonDecoder();
        const s = net.connect({ host, port });
        socket = s;
        let failed = false;
        const fail = (reason: string) => {
          if (failed) return;
          failed = true;
          s.destroy();
          handlers.disconnected(reason);
          if (closed) return;
          cancelRetry = clock.after(backoff, open);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        };
        s.setKeepAlive(true, 10_000);
        s.on('connect', () => {
          backoff = MIN_BACKOFF_MS;
          handlers.connected();
        });
        s.on('data', (chunk: Buffer) => {
          try {
            for (const parts of decoder.push(chunk)) handlers.message(parts);
          } catch (err) {
            fail(`bad data on the event socket: ${(err as Error).message}`);
          }
        });
        s.on('error', (err) => fail(`${host}:${port}: ${err.message}`));
        s.on('close', () => fail(`${host}:${port}: connection closed`));
      };
      open();
    },
    async close() {
      closed = true;
      cancelRetry();
      socket?.destroy();
    },
  };
}
