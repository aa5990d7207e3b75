// The ledger with each generation's config diff, the problems, and the live
// activity feed.
import { createTwoFilesPatch } from 'diff';
import { useState } from 'preact/hooks';
import { getText } from './api.js';
import { html } from './html.js';
import {
  activitySentence,
  dnsText,
  foldNoops,
  registryText,
  type ActivityEvent,
  type Apply,
  type Status,
} from './model.js';

function DiffOf(props: { generation: number }) {
  const [text, setText] = useState<string | undefined>(undefined);
  const load = async () => {
    const gen = props.generation;
    const [before, after] = await Promise.all([
      gen > 1 ? getText(`/haproxy/generations/${gen - 1}`).catch(() => '') : Promise.resolve(''),
      getText(`/haproxy/generations/${gen}`).catch((e: Error) => `(${e.message})`),
    ]);
    setText(createTwoFilesPatch(`generation ${gen - 1}`, `generation ${gen}`, before, after, '', '', { context: 2 }));
  };
  return text === undefined
    ? html`<button onClick=${load}>Show the config diff of generation ${props.generation}</button>`
    : html`<pre class="diff">
${text
          .split('\n')
          .map(
            (l) =>
              html`<span class=${`line ${l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}`}>${l}</span>`,
          )}</pre>`;
}

function ApplyEntry(props: { a: Apply }) {
  const { a } = props;
  return html`<li class=${`apply ${a.result}`}>
    <div>
      <strong>#${a.id} ${a.plan}: ${a.result}</strong>
      <span class="muted"
        >${new Date(a.at).toLocaleTimeString()}, ${a.durationMs}
        ms${a.workerPid ? `, worker ${a.workerPid}` : ''}${a.generation ? `, generation ${a.generation}` : ''}</span
      >
    </div>
    <div class="muted">${a.reasons.join('; ')}</div>
    ${a.error && html`<div class="error">${a.error}</div>`}
    ${a.generation !== undefined && a.plan !== 'noop' && html`<${DiffOf} generation=${a.generation} />`}
  </li>`;
}

/** Looks that found nothing to change, folded into one line that opens on a click. */
function Quiet(props: { noops: Apply[] }) {
  const n = props.noops.length;
  return html`<li class="apply noop">
    <details>
      <summary class="muted">${n} look${n === 1 ? '' : 's'} that changed nothing (noop)</summary>
      <ol class="timeline">
        ${props.noops.map((a) => html`<${ApplyEntry} key=${a.id} a=${a} />`)}
      </ol>
    </details>
  </li>`;
}

export function Applies(props: { applies: Apply[] }) {
  return html`<section aria-labelledby="a-title">
    <h2 id="a-title">Applies</h2>
    <ol class="timeline">
      ${foldNoops(props.applies).map((e) =>
        'apply' in e
          ? html`<${ApplyEntry} key=${e.apply.id} a=${e.apply} />`
          : html`<${Quiet} key=${`noops-${e.noops[0]?.id}`} noops=${e.noops} />`,
      )}
    </ol>
  </section>`;
}

function HaproxyProcess(props: { status: Status }) {
  const p: NonNullable<Status['haproxy']> | Record<string, undefined> = props.status.haproxy ?? {};
  const last = props.status.lastApply;
  const parts = [
    p.masterPid !== undefined && `master pid ${p.masterPid}`,
    p.workers !== undefined && `worker${p.workers.length === 1 ? '' : 's'} ${p.workers.join(', ')}`,
    p.workerPid !== undefined && `worker pid ${p.workerPid}`,
    p.reloads !== undefined && `${p.reloads} reloads${p.failedReloads ? ` (${p.failedReloads} failed)` : ''}`,
    p.oldWorkers !== undefined && `${p.oldWorkers} old workers still finishing connections`,
  ].filter((x): x is string => typeof x === 'string');
  return html`<p>${parts.length > 0 ? parts.join(' · ') : 'no process information (is HAProxy running?)'}</p>
    <p>${last ? `Last apply #${last.id}: ${last.plan} ${last.result}` : 'Nothing applied yet'}</p>`;
}

/** "file:line (document N) Kind/name path: message" with the place set apart from the words. */
export function issueLine(line: string) {
  const m = /^(\S+:\d+(?::\d+)?(?: \(document \d+\))?) (.*)$/.exec(line);
  return m === null ? line : html`<code>${m[1]}</code> ${m[2]}`;
}

export function Problems(props: { status: Status }) {
  const { status } = props;
  const troubled = status.objects.filter((o) => o.state !== 'applied' || o.serving !== 'current');
  const registry = status.registry;
  const dns = dnsText(status.sources?.['dns']);
  return html`<section aria-labelledby="p-title">
    <h2 id="p-title">Problems</h2>
    ${status.issues.length === 0 && troubled.length === 0 && html`<p>No problems: every object is applied as declared.</p>`}
    <ul class="issues">
      ${status.issues.map((line) => html`<li>${issueLine(line)}</li>`)}
    </ul>
    ${
      troubled.length > 0 &&
      html`<h3>Objects not served as declared</h3>
        <ul>
          ${troubled.map((o) => html`<li>${o.id}: ${o.state}, serving ${o.serving} version${o.lastError ? html` — <span class="error">${o.lastError}</span>` : ''}</li>`)}
        </ul>`
    }
    <h3>Registry</h3>
    <p>${registryText(registry)}</p>
    ${
      dns !== undefined &&
      html`<h3>DNS</h3>
        <p>${dns}</p>`
    }
    <h3>HAProxy</h3>
    <${HaproxyProcess} status=${status} />
  </section>`;
}

/** The feed as sentences, newest first; each entry's data one click away. */
export function Activity(props: { events: ActivityEvent[] }) {
  return html`<section aria-labelledby="act-title">
    <h2 id="act-title">Activity</h2>
    <ol class="activity" aria-live="polite">
      ${props.events.map(
        (e, i) =>
          html`<li key=${i} data-event=${e.event}>
            <time class="muted" datetime=${e.at}>${new Date(e.at).toLocaleTimeString()}</time>
            <span class="sentence">${activitySentence(e)}</span>
            <details>
              <summary class="muted">data</summary>
              <pre>${JSON.stringify(e, null, 2)}</pre>
            </details>
          </li>`,
      )}
    </ol>
  </section>`;
}
