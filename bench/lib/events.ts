import type { EventFields } from '../../src/core/transcript';

/**
 * Event shapes a step writes, with the sizes and kinds of values the runner records (from a real
 * demo root ceremony): a sign-off, a key use with its signature evidence, a step completion, and
 * the next step's start with the text read aloud.
 */
export function stepEvents(ceremony: string, step: number, at: string): EventFields[] {
  const id = `step-${step}`;
  const hex = (n: number): string => ((step * 2654435761 + n * 40503) >>> 0).toString(16).padStart(8, '0').repeat(8);
  return [
    { at, ceremony, step: id, actor: 'otto', type: 'STEP_CONFIRMED', data: { index: step, name: 'Otto Officer', personId: 'otto', role: 'officer' } },
    { at, ceremony, step: id, actor: 'wren', type: 'STEP_CONFIRMED', data: { index: step, name: 'Wren Witness', personId: 'wren', role: 'witness' } },
    {
      at, ceremony, step: id, actor: null, type: 'SIGNATURE_GENERATED',
      data: { challengeSha256: hex(1), keyId: 'ecp384-2026-01', mechanism: 'CKM_ECDSA (SHA-384 computed by Keyrite)', purpose: 'certificate', signatureSha256: hex(2), tokenLabel: 'keyrite-demo', tokenSerial: '1d41ddd820a46b14' },
    },
    { at, ceremony, step: id, actor: null, type: 'STEP_COMPLETED', data: { evidence: { keyId: 'ecp384-2026-01', passed: ['CKM_ECDSA (SHA-256 computed by Keyrite) SHA-256', 'CKM_ECDSA (SHA-384 computed by Keyrite) SHA-384'] }, index: step, signoffs: ['otto:officer', 'wren:witness'], title: 'Self-test the root key' } },
    {
      at, ceremony, step: `step-${step + 1}`, actor: null, type: 'STEP_STARTED',
      data: { action: 'createBackup', id: `step-${step + 1}`, index: step + 1, say: "A fresh key-encryption key is drawn from the HSM's random generator, the root key is wrapped under it, and the KEK is split into shares. The backup is checked at once by unwrapping it inside the HSM.", title: 'Back up the root key under a split KEK' },
    },
  ];
}
