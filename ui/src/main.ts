// The dashboard: what HAProxy serves and why, live from /stream, with the
// deploy actions the API would accept. Preact + htm, bundled by esbuild at
// `npm run build` (scripts/build-ui.mjs); no CDN.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, openStream, token } from './api.js';
import { BackendView } from './backend.js';
import { html } from './html.js';
import { Certificates } from './certificates.js';
import {
  StatsStore,
  type ActivityEvent,
  type Apply,
  type Backend,
  type Certificate,
  type Frontend,
  type Stat,
  type Status,
} from './model.js';
import { Overview } from './overview.js';
import { Activity, Applies, Problems } from './panels.js';

type View = 'overview' | 'certificates' | 'applies' | 'problems' | 'activity' | `backend:${string}`;
const VIEWS = ['overview', 'certificates', 'applies', 'problems', 'activity'] as const;

interface Data {
  status: Status;
  frontends: Frontend[];
  backends: Backend[];
  certificates: Certificate[];
  applies: Apply[];
}

const load = async (): Promise<Data> => {
  const [status, frontends, backends, certificates, applies] = await Promise.all([
    getJson<Status>('/status'),
    getJson<Frontend[]>('/frontends'),
    getJson<Backend[]>('/backends'),
    getJson<Certificate[]>('/certificates'),
    getJson<Apply[]>('/applies?limit=200'),
  ]);
  return { status, frontends, backends, certificates, applies };
};

const viewOf = (hash: string): View => {
  const m = /^#\/backends\/(.+)$/.exec(hash);
  if (m?.[1] !== undefined) return `backend:${decodeURIComponent(m[1])}`;
  const v = hash.replace('#/', '');
  return (VIEWS as readonly string[]).includes(v) ? (v as View) : 'overview';
};

function TokenForm(props: { message: string; retry(): void }) {
  const [value, setValue] = useState('');
  return html`<form class="token" onSubmit=${(e: Event) => (e.preventDefault(), token.set(value), props.retry())}>
    <p role="alert">${props.message}</p>
    <label
      >API token
      <input
        type="password"
        autocomplete="off"
        value=${value}
        onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)}
    /></label>
    <button type="submit">Use this token</button>
    <p class="muted">Kept for this tab only (session storage).</p>
  </form>`;
}

const stats = new StatsStore();

function App() {
  const [data, setData] = useState<Data | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [needToken, setNeedToken] = useState<string | undefined>(undefined);
  const [view, setView] = useState<View>(viewOf(location.hash));
  const [connected, setConnected] = useState(true);
  const [events, setEvents] = useState<ActivityEvent[]>([]);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [, tick] = useState(0);

  const refresh = () =>
    load().then(
      (d) => (setData(d), setNeedToken(undefined), setProblem(undefined)),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401)
          setNeedToken(
            token.get() === undefined
              ? 'This Aqueduct needs an API token to be read.'
              : `That token was refused (401): ${err.message}`,
          );
        else setProblem((err as Error).message);
      },
    );
  useEffect(() => {
    void refresh();
    const onHash = () => setView(viewOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (needToken !== undefined || data === undefined) return undefined;
    return openStream({
      connected: (up) => {
        setConnected(up);
        // For people and tests alike: whether the live stream is up, on the page's root element.
        document.documentElement.dataset['stream'] = up ? 'open' : 'closed';
      },
      message: (m) => {
        if (m['type'] === 'snapshot' || m['type'] === 'stats') {
          stats.apply((m['stats'] ?? m['changed'] ?? []) as Stat[], (m['removed'] ?? []) as string[]);
          tick((n) => n + 1);
        }
        if (m['type'] === 'snapshot') setEvents(((m['activity'] ?? []) as ActivityEvent[]).slice().reverse());
        if (m['type'] === 'activity') {
          setEvents((e) => [m as unknown as ActivityEvent, ...e].slice(0, 200));
          void refresh(); // an apply or a registry change: the objects may have changed
        }
      },
    });
  }, [needToken, data === undefined]);

  if (needToken !== undefined) return html`<${TokenForm} message=${needToken} retry=${refresh} />`;
  if (data === undefined) return html`<p class="loading">${problem ?? 'Loading Aqueduct…'}</p>`;
  const go = (v: string) => (location.hash = `#/${v}`);
  const backend = view.startsWith('backend:') ? data.backends.find((b) => `backend:${b.key}` === view) : undefined;
  const problems = data.status.issues.length + data.status.objects.filter((o) => o.state !== 'applied').length;
  return html`
    <header>
      <h1>Aqueduct</h1>
      <nav aria-label="Views">
        ${VIEWS.map(
          (v) =>
            html`<a href=${`#/${v}`} aria-current=${view === v ? 'page' : undefined}
              >${v[0]?.toUpperCase()}${v.slice(1)}${v === 'problems' && problems > 0 ? ` (${problems})` : ''}</a
            >`,
        )}
      </nav>
      ${data.status.access.readOnly && html`<span class="badge readonly">read-only</span>`}
    </header>
    ${!connected && html`<div class="banner" role="status">The live connection dropped; reconnecting…</div>`}
    ${notice && html`<div class="notice" role="status">${notice} <button onClick=${() => setNotice(undefined)}>Dismiss</button></div>`}
    ${problem && html`<div class="banner" role="alert">${problem}</div>`}
    <main>
      ${view === 'overview' && html`<${Overview} frontends=${data.frontends} backends=${data.backends} stats=${stats} open=${(b: string) => go(`backends/${encodeURIComponent(b)}`)} />`}
      ${backend && html`<${BackendView} b=${backend} stats=${stats} readOnly=${data.status.access.readOnly} notify=${(m: string) => (setNotice(m), void refresh())} />`}
      ${view === 'certificates' && html`<${Certificates} certificates=${data.certificates} now=${Date.now()} />`}
      ${view === 'applies' && html`<${Applies} applies=${data.applies} />`}
      ${view === 'problems' && html`<${Problems} status=${data.status} />`}
      ${view === 'activity' && html`<${Activity} events=${events} />`}
    </main>
  `;
}

const root = document.getElementById('app');
if (root !== null) render(html`<${App} />`, root);
