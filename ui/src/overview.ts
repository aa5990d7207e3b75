// Overview: frontends (binds, rules in precedence order) and every backend
// with its health, requests and errors, filtered and paged so a thousand
// backends render at once.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { backendState, memberCounts, type Backend, type Frontend, type StatsStore } from './model.js';

const PAGE = 50;
const fmt = (n: number | undefined): string => (n === undefined ? '–' : n < 10 ? n.toFixed(1) : n.toFixed(0));

export function Overview(props: {
  frontends: Frontend[];
  backends: Backend[];
  stats: StatsStore;
  open(backend: string): void;
}) {
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  const shown = props.backends.filter((b) => b.key.includes(filter.trim()));
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const current = Math.min(page, pages - 1);
  return html`
    <section aria-labelledby="fe-title">
      <h2 id="fe-title">Frontends</h2>
      <ul class="frontends">
        ${props.frontends.map(
          (f) =>
            html`<li key=${f.key}>
              <strong>${f.key}</strong> <span class="muted">${f.mode} on ${f.bind}</span>
              <ol class="rules">
                ${f.rules.map(
                  (r) =>
                    html`<li>${r.type} ${r.header ?? ''} ${r.operation} <code>${r.value}</code> → ${r.backend}</li>`,
                )}
                <li>otherwise → ${f.backend}</li>
              </ol>
            </li>`,
        )}
      </ul>
    </section>
    <section aria-labelledby="be-title">
      <h2 id="be-title">Backends <span class="muted">(${props.backends.length})</span></h2>
      <label
        >Filter
        <input
          type="search"
          value=${filter}
          onInput=${(e: Event) => (setFilter((e.target as HTMLInputElement).value), setPage(0))}
      /></label>
      <table class="backends">
        <thead>
          <tr>
            <th>Backend</th>
            <th>Type</th>
            <th>Members up</th>
            <th>State</th>
            <th>Req/s</th>
            <th>5xx/s</th>
          </tr>
        </thead>
        <tbody>
          ${shown.slice(current * PAGE, (current + 1) * PAGE).map((b) => {
            const s = props.stats.backend(b.key);
            const h = memberCounts(props.stats, b);
            const state = backendState(props.stats, b.key);
            return html`<tr key=${b.key}>
              <td>
                <a href=${`#/backends/${b.key}`} onClick=${(e: Event) => (e.preventDefault(), props.open(b.key))}
                  >${b.key}</a
                >
              </td>
              <td>${b.type}${b.version ? ` ${b.version}` : ''}</td>
              <td>${h.up === undefined ? `– of ${h.total}` : `${h.up}/${h.total}`}</td>
              <td><span class=${`badge ${state.toLowerCase().replace(' ', '-')}`}>${state}</span></td>
              <td>${fmt(s?.rate)}</td>
              <td>${fmt(s === undefined ? undefined : props.stats.errorRate.get(s.id))}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${
        pages > 1 &&
        html`<nav class="pager" aria-label="Backend pages">
          <button disabled=${current === 0} onClick=${() => setPage(current - 1)}>Previous</button>
          <span>Page ${current + 1} of ${pages}</span>
          <button disabled=${current >= pages - 1} onClick=${() => setPage(current + 1)}>Next</button>
        </nav>`
      }
    </section>
  `;
}
