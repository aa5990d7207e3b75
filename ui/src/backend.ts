// One backend: its members as HAProxy serves them, its versions and rollout,
// a chart of the last minutes, and the deploy actions the API allows.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { getJson, send } from './api.js';
import { html } from './html.js';
import {
  lastCheck,
  rolloutLine,
  memberVersion,
  stateWord,
  type Backend,
  type Point,
  type Rollout,
  type StatsStore,
} from './model.js';

function Chart(props: { points: Point[] }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data: uPlot.AlignedData = [
    props.points.map((p) => p.t),
    props.points.map((p) => p.rate),
    props.points.map((p) => p.errors),
  ];
  useEffect(() => {
    if (el.current === null) return;
    plot.current = new uPlot(
      {
        width: Math.min(720, el.current.clientWidth || 720),
        height: 220,
        // The legend names the series only: with no point under the cursor, live values read "--".
        legend: { live: false },
        // From 0, and at least 0-1 so a quiet backend still gets a readable scale with several ticks.
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] } },
        axes: [{}, { space: 24, label: 'per second' }],
        series: [{}, { label: 'requests/s', stroke: '#2563eb' }, { label: '5xx/s', stroke: '#dc2626' }],
      },
      data,
      el.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [props.points.length, props.points.at(-1)?.t]);
  return html`<div ref=${el} class="chart" role="img" aria-label="Requests and 5xx per second, last minutes"></div>`;
}

/** Why a backend's table is empty, in the words of its source. */
const noServers = (b: Backend): string =>
  b.type === 'dynamic'
    ? `No servers: no instance of ${b.name ?? b.key}@${b.version ?? ''} is registered in the registry.`
    : 'No servers: this backend lists no members.';

/** A button that says what will change and asks before doing it. */
function Action(props: { label: string; confirm: string; run(): Promise<unknown>; done(msg: string): void }) {
  return html`<button
    onClick=${async () => {
      if (!window.confirm(props.confirm)) return;
      try {
        await props.run();
        props.done(`${props.label}: done`);
      } catch (err) {
        props.done(`${props.label} refused: ${(err as Error).message}`);
      }
    }}
  >
    ${props.label}
  </button>`;
}

function Deploys(props: { b: Backend; rollout: Rollout | undefined; notify(m: string): void }) {
  const { b } = props;
  const [version, setVersion] = useState('');
  const [weights, setWeights] = useState(b.versions?.map((v) => `${v.version}=${v.weight}`).join(', ') ?? '');
  const path = `/backends/${encodeURIComponent(b.key)}`;
  const parsed = () =>
    weights.split(',').map((p) => {
      const [v = '', w = ''] = p.split('=').map((x) => x.trim());
      return { version: v, weight: Number(w) };
    });
  return html`<section aria-labelledby="deploy-title">
    <h3 id="deploy-title">Deploy</h3>
    <div class="actions">
      <label
        >Version
        <input
          value=${version}
          onInput=${(e: Event) => setVersion((e.target as HTMLInputElement).value)}
          placeholder=${b.version ?? ''}
      /></label>
      <${Action}
        label="Switch version"
        confirm=${`Serve ${b.key} from version ${version} only (now ${b.version ?? 'several versions'})?`}
        run=${() => send('POST', path, { version })}
        done=${props.notify}
      />
      <${Action}
        label="Start rollout"
        confirm=${`Roll ${b.key} out to ${version} step by step, rolled back on errors?`}
        run=${() => send('POST', `${path}/rollout`, { to: version })}
        done=${props.notify}
      />
    </div>
    <div class="actions">
      <label
        >Weights
        <input
          value=${weights}
          onInput=${(e: Event) => setWeights((e.target as HTMLInputElement).value)}
          placeholder="1.0.0=80, 1.1.0=20"
      /></label>
      <${Action}
        label="Set weights"
        confirm=${`Split ${b.key}'s traffic as ${weights}?`}
        run=${() => send('POST', path, { versions: parsed() })}
        done=${props.notify}
      />
      ${
        props.rollout?.position?.state === 'progressing' &&
        html`<${Action}
          label="Abort rollout"
          confirm=${`Abort the rollout of ${b.key}: the new version is drained?`}
          run=${() => send('DELETE', `${path}/rollout`)}
          done=${props.notify}
        />`
      }
    </div>
  </section>`;
}

export function BackendView(props: { b: Backend; stats: StatsStore; readOnly: boolean; notify(m: string): void }) {
  const { b, stats } = props;
  const [rollout, setRollout] = useState<Rollout | undefined>(undefined);
  useEffect(() => {
    getJson<Rollout>(`/backends/${encodeURIComponent(b.key)}/rollout`).then(setRollout, () => setRollout(undefined));
  }, [b.key, b.version]);
  const members = stats.members(b.key).sort((x, y) => x.key.localeCompare(y.key));
  return html`<section aria-labelledby="b-title">
    <h2 id="b-title">Backend ${b.key} <span class="muted">${b.type} ${b.mode}, ${b.balance}</span></h2>
    ${b.status?.held && html`<p class="error" role="status">${b.status.held}</p>`}
    <p>
      ${b.versions ? `Versions: ${b.versions.map((v) => `${v.version} (${v.weight})`).join(', ')}` : b.version ? `Version ${b.version}` : ''}
      ${rollout?.position && html` · ${rolloutLine(rollout.position)}`}
    </p>
    ${
      (stats.history.get(b.key)?.length ?? 0) >= 2
        ? html`<${Chart} points=${stats.history.get(b.key) ?? []} />`
        : html`<p class="muted">Collecting requests and errors for the chart…</p>`
    }
    <table class="members">
      <thead>
        <tr>
          <th>Server</th>
          <th>Version</th>
          <th>Weight</th>
          <th>State</th>
          <th>Last check</th>
          <th>Changed</th>
          <th>Sessions</th>
          <th>Req/s</th>
          <th>5xx/s</th>
        </tr>
      </thead>
      <tbody>
        ${members.map((m) => {
          const state = stateWord(m);
          return html`<tr key=${m.id}>
            <td>${m.key}</td>
            <td>${memberVersion(b, m.key) ?? '–'}</td>
            <td>${m.weight ?? '–'}</td>
            <td><span class=${`badge ${state.toLowerCase().replace(' ', '-')}`}>${state}</span></td>
            <td>${lastCheck(m, b.status?.unresolved)}</td>
            <td>${m.lastChangeSeconds === undefined ? '–' : `${m.lastChangeSeconds} s ago`}</td>
            <td>${m.connections.current}</td>
            <td>${m.rate}</td>
            <td>${(stats.errorRate.get(m.id) ?? 0).toFixed(1)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${members.length === 0 && stats.received && html`<p class="note">${noServers(b)}</p>`}
    ${
      props.readOnly
        ? html`<p class="note">
            This Aqueduct runs with --readOnly: its manifests are owned by git (or another writer), so the page offers
            no actions.
          </p>`
        : b.type === 'dynamic'
          ? html`<${Deploys} b=${b} rollout=${rollout} notify=${props.notify} />`
          : html`<p class="muted">Static backend: change its members in its manifest.</p>`
    }
  </section>`;
}
