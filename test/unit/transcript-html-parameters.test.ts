import { describe, expect, it } from 'vitest';
import { renderTranscriptHtml } from '../../src/core/transcript/html';
import type { TranscriptEvent } from '../../src/core/transcript/event-types';

const ev = (seq: number, type: string, data: Record<string, unknown>): TranscriptEvent =>
  ({ seq, at: `2026-01-01T00:00:0${seq}.000Z`, ceremony: 'c1', step: null, actor: null, type, data, prev: seq === 1 ? null : 'a'.repeat(64), hash: String(seq).repeat(64).slice(0, 64) }) as TranscriptEvent;

const events = [
  ev(1, 'CEREMONY_STARTED', { title: 'Root', scriptId: 'root-key-generation', parameters: { subject: 'CN=<Acme> Root', threshold: 2, count: 3 }, policyWarnings: ['2 of 3 is fine'], steps: [], roles: [], demo: false }),
];
const info = { finalHash: 'ab'.repeat(32), keySpkiSha256: 'cd'.repeat(32) };

describe('transcript.html: the Parameters section (layout 2)', () => {
  it('lists each parameter as started, escaped, with the policy warnings', () => {
    const html = renderTranscriptHtml(events, info);
    expect(html).toContain('<h2>Parameters</h2>');
    expect(html).toContain('<th>subject</th><td>CN=&lt;Acme&gt; Root</td>');
    expect(html).toContain('<th>count</th><td>3</td>');
    expect(html).toContain('<li>2 of 3 is fine</li>');
  });

  it('layout 1 (bundles sealed before it) is rendered without it, so those bundles still verify', () => {
    const v1 = renderTranscriptHtml(events, { ...info, format: 1 });
    expect(v1).not.toContain('<h2>Parameters</h2>');
    expect(renderTranscriptHtml(events, { ...info, format: 2 })).toBe(renderTranscriptHtml(events, info));
  });
});
