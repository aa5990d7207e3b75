// HTTP calls to a Thalassa-compatible registry. node:http with a new
// connection per request rather than fetch: the real Thalassa (hapi 1.x)
// stalls on a reused keep-alive connection, and fetch pools them.
import http from 'node:http';

/** http://host:port, with an IPv6 host in brackets. */
export const httpUrl = (host: string, port: number): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export interface RegistryResponse {
  status: number;
  body: string;
}

/** The largest answer read from a registry: a list of 10,000 instances with their meta fits many times over. */
export const MAX_REGISTRY_RESPONSE_BYTES = 32 * 1024 * 1024;

export function registryRequest(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: string,
  timeoutMs = 5000,
  maxBytes = MAX_REGISTRY_RESPONSE_BYTES,
): Promise<RegistryResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers:
          body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (text.length > maxBytes) req.destroy(new Error(`the answer is larger than ${maxBytes} bytes`));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
