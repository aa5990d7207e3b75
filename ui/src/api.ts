// The dashboard's only way to the server: the REST API (with the token the
// person gave, kept for this tab only) and the /stream WebSocket, which
// reconnects with backoff when it drops.

const TOKEN_KEY = 'aqueduct.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const token = {
  get: (): string | undefined => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const t = token.get();
  if (t !== undefined) headers['authorization'] = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(res.status, err.code ?? 'error', err.message ?? res.statusText);
  }
  return res;
}

export const getJson = async <T>(path: string): Promise<T> => (await (await request('GET', path)).json()) as T;
export const getText = async (path: string): Promise<string> => (await request('GET', path)).text();
export const send = async <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> =>
  (await (await request(method, path, body)).json()) as T;

export interface StreamHandlers {
  message(m: Record<string, unknown>): void;
  connected(up: boolean): void;
}

/** The token as a WebSocket subprotocol (base64url): browsers cannot set headers, and URLs end up in logs. */
function protocols(): string[] {
  const t = token.get();
  if (t === undefined) return ['aqueduct'];
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(t)));
  return ['aqueduct', `aqueduct.bearer.${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`];
}

/** Opens /stream and keeps it open: after a drop, tries again after 0.5 s, doubling up to 15 s. */
export function openStream(h: StreamHandlers): () => void {
  let delay = 500;
  let stopped = false;
  let ws: WebSocket | undefined;
  const connect = () => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/stream`;
    ws = new WebSocket(url, protocols());
    ws.onopen = () => {
      delay = 500;
      h.connected(true);
    };
    ws.onmessage = (e) => h.message(JSON.parse(String(e.data)) as Record<string, unknown>);
    ws.onclose = () => {
      h.connected(false);
      if (stopped) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15_000);
    };
  };
  connect();
  return () => {
    stopped = true;
    ws?.close();
  };
}
