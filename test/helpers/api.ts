// A small client for Aqueduct's REST API over real HTTP.
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
  text: string;
}

export type ApiCall = (
  method: string,
  urlPath: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiResponse>;

/** Requests against base; a string body is sent as is (for malformed JSON), anything else as JSON. */
export function apiClient(base: string, token?: string): ApiCall {
  return async (method, urlPath, body, headers = {}) => {
    const res = await fetch(`${base}${urlPath}`, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text) as unknown;
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

/** The body as an object, for reading fields. */
export const obj = (r: ApiResponse): Record<string, unknown> => r.body as Record<string, unknown>;

/** The id of the newest entry of the apply ledger, 0 when there is none. */
export async function lastApplyId(api: ApiCall): Promise<number> {
  const [newest] = (await api('GET', '/applies?limit=1')).body as { id: number }[];
  return newest?.id ?? 0;
}

/** Entries of the apply ledger newer than `id`, oldest first. */
export async function appliesSince(api: ApiCall, id: number): Promise<Record<string, unknown>[]> {
  const all = (await api('GET', '/applies?limit=200')).body as { id: number }[];
  return all.filter((a) => a.id > id).reverse();
}
