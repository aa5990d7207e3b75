// Certificates: what each is, when it expires, how it is served and by
// which frontends (GET /certificates; never a key).
import { html } from './html.js';
import type { Certificate } from './model.js';

const DAY_MS = 86_400_000;

/** "in 29 days", "expired 3 days ago": the figure that matters next to the date. */
export function expiryText(notAfter: string | undefined, nowMs: number): string {
  if (notAfter === undefined) return '–';
  const days = Math.floor((Date.parse(notAfter) - nowMs) / DAY_MS);
  const date = notAfter.slice(0, 10);
  if (days < 0) return `${date} (expired ${-days} day${days === -1 ? '' : 's'} ago)`;
  return `${date} (in ${days} day${days === 1 ? '' : 's'})`;
}

/** Served and unused are fine, a renewal or first issuance under way is news, anything else a problem (badge colours). */
const tone = (status: string): string =>
  status === 'served' || status === 'unused' ? 'up' : status === 'renewing' || status === 'pending' ? 'maint' : 'down';

export function Certificates(props: { certificates: Certificate[]; now: number }) {
  const list = props.certificates;
  return html`<section aria-labelledby="c-title">
    <h2 id="c-title">Certificates</h2>
    ${
      list.length === 0
        ? html`<p class="muted">No certificates. docs/tls.md shows how to declare one.</p>`
        : html`<div class="table-wrap">
            <table class="certificates">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Status</th>
                  <th>Names</th>
                  <th>Expires</th>
                  <th>Frontends</th>
                  <th>Issuer</th>
                </tr>
              </thead>
              <tbody>
                ${list.map(
                  (c) =>
                    html`<tr key=${c.name} data-certificate=${c.name}>
                      <td>${c.name}</td>
                      <td>
                        <span class=${`badge ${tone(c.certificateStatus)}`}>${c.certificateStatus}</span>
                        ${c.serving === 'previous' && html` <span class="muted">(the last good pair serves)</span>`}
                        ${c.serving === 'placeholder' && html` <span class="muted">(a self-signed placeholder serves)</span>`}
                        ${c.message && html`<div class="error">${c.message}</div>`}
                      </td>
                      <td>${(c.sans ?? []).join(', ')}</td>
                      <td>${c.serving === 'placeholder' ? '–' : expiryText(c.notAfter, props.now)}</td>
                      <td>
                        ${c.frontends.length > 0 ? c.frontends.join(', ') : html`<span class="muted">none</span>`}
                      </td>
                      <td class="muted">${c.issuer ?? '–'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}
