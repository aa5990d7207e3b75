// GET /stats (snapshot) and the WebSocket stream at /stream (with
// @fastify/websocket, on ws): a snapshot first, then only what changed, and
// the activity feed in the same channel. A client that cannot keep up is
// dropped once its send buffer passes the limit: nobody waits for it.
import { STREAM_PROTOCOL } from '../guards.js';
import { routeSchema } from '../openapi.js';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { StatsPoller } from '../../haproxy/stats-poller.js';
import type { ActivityFeed } from '../../observe/activity.js';

export interface StreamOptions {
  /** Bytes a client may have waiting before it is dropped. */
  maxBufferedBytes: number;
}

/** Close code for a client dropped for being too slow (1013: try again later). */
export const SLOW_CLIENT_CLOSE = 1013;

/** The part of a WebSocket the bounded sender uses. */
export interface SendableSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
}

/**
 * Sends unless the client already has more than maxBufferedBytes waiting, in
 * which case it is closed: one slow client must not hold memory, nor the
 * others. Returns false once the socket was dropped.
 */
export function sendBounded(socket: SendableSocket, message: unknown, maxBufferedBytes: number): boolean {
  if (socket.bufferedAmount > maxBufferedBytes) {
    socket.close(
      SLOW_CLIENT_CLOSE,
      'too slow: the stream does not wait for slow clients; reconnect for a new snapshot',
    );
    return false;
  }
  socket.send(JSON.stringify(message));
  return true;
}

export async function registerStreamRoutes(
  app: FastifyInstance,
  poller: StatsPoller,
  activity: ActivityFeed,
  opts: StreamOptions,
): Promise<void> {
  await app.register(websocket, {
    options: {
      maxPayload: 64 * 1024,
      // The dashboard offers "aqueduct" (and its token as a second protocol): answer with the first.
      handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
    },
  });

  app.get(
    '/stats',
    {
      schema: routeSchema({
        operationId: 'getStats',
        tag: 'observe',
        summary: 'HAProxy stats of every frontend, backend and server',
        response: 'StatList',
        errors: [401],
      }),
    },
    async () => poller.snapshot(),
  );

  // @fastify/websocket hides its routes from @fastify/swagger; openapi.ts adds this one (STREAM_OPERATION).
  app.get('/stream', { websocket: true }, (socket: WebSocket) => {
    let closed = false;
    // Deltas before the snapshot is out are already in it: a client sees the snapshot first, then changes.
    let ready = false;
    const send = (message: unknown) => {
      if (!closed) closed = !sendBounded(socket, message, opts.maxBufferedBytes);
    };
    const stopStats = poller.subscribe((delta) => {
      if (ready) send({ type: 'stats', at: new Date().toISOString(), changed: delta.changed, removed: delta.removed });
    });
    const stopActivity = activity.subscribe((a) => send({ type: 'activity', ...a }));
    socket.on('close', () => {
      closed = true;
      stopStats();
      stopActivity();
    });
    void poller.snapshot().then((stats) => {
      send({ type: 'snapshot', at: new Date().toISOString(), stats, activity: activity.history() });
      ready = true;
    });
  });
}
