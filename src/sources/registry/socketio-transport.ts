// Registry events over socket.io (socket.io-client), from a registry that
// publishes them that way, such as `aqueduct registry`: "online" with the
// registration, "offline" with its id. socket.io reconnects by itself.
import { io, type Socket } from 'socket.io-client';
import type { EventTransport } from './registry-source.js';

export function socketIoTransport(url: string): EventTransport {
  let socket: Socket | undefined;
  return {
    connect(handlers) {
      const s = io(url, {
        transports: ['websocket'],
        reconnectionDelay: 500,
        reconnectionDelayMax: 30_000,
        timeout: 5000,
      });
      socket = s;
      s.on('connect', () => handlers.connected());
      s.on('disconnect', (reason) => handlers.disconnected(`socket.io: ${reason}`));
      s.on('connect_error', (err) => handlers.disconnected(`socket.io ${url}: ${err.message}`));
      // The same parts as a Thalassa axon message, so one parser reads both.
      s.on('online', (registration: unknown) => {
        const id = (registration as { id?: unknown } | null)?.id;
        handlers.message([typeof id === 'string' ? id : '', 'online', registration]);
      });
      s.on('offline', (id: unknown) => handlers.message([id, 'offline']));
    },
    async close() {
      socket?.close();
    },
  };
}
