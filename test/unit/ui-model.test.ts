// The dashboard's reading of HAProxy's server states: the badge's word and the reason beside it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stat } from '../../src/core/haproxy-output/stats.js';
import { registryText, stateReason, stateWord } from '../../ui/src/model.js';

const stat = (status: string): Stat => ({ status }) as Stat;

describe('dashboard server states', () => {
  it("shows HAProxy's reason for a server it holds in maintenance, such as a host that does not resolve", () => {
    assert.equal(stateWord(stat('MAINT (resolution)')), 'MAINT');
    assert.equal(stateReason(stat('MAINT (resolution)')), 'resolution');
    assert.equal(stateReason(stat('UP')), undefined);
    assert.equal(stateReason(undefined), undefined);
  });
});

describe('the Problems view', () => {
  it('says a registry is off, connected, or disconnected and why', () => {
    assert.equal(registryText({ kind: 'none', connected: false }), 'none configured (--registry none)');
    assert.equal(registryText(undefined), 'none configured (--registry none)');
    assert.equal(registryText({ kind: 'thalassa', connected: true }), 'connected');
    assert.equal(
      registryText({ kind: 'thalassa', connected: false, lastError: 'ECONNREFUSED' }),
      'disconnected: ECONNREFUSED',
    );
  });
});
