import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import type { Answers } from '../core/ceremony/answers';

/**
 * `--demo-openpgp N`: a rehearsal where the first N custodians of the demo cast bring OpenPGP
 * keys. The keys are made now (v4 Ed25519/Cv25519, what GnuPG 2.2 and OpenPGP cards use; no passphrase), written to a fresh private temporary
 * folder — the public key as a custodian would bring it, the secret key as a throw-away TEST key
 * the answers driver uses to read back the words, as the custodian's card would — and never reused.
 */
export async function withDemoOpenPgpKeys(answers: Answers, count: number): Promise<{ answers: Answers; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-demo-openpgp-'));
  let left = count;
  const participants: NonNullable<Answers['participants']> = [];
  for (const p of answers.participants ?? []) {
    if (left <= 0 || !p.roles.includes('custodian') || p.openpgpKey) {
      participants.push(p);
      continue;
    }
    left -= 1;
    const { publicKey, privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: `${p.name} (Keyrite demo key)` }], format: 'armored' });
    const openpgpKey = path.join(dir, `${p.id}.pub.asc`);
    const openpgpTestSecretKey = path.join(dir, `${p.id}.demo-secret.asc`);
    writeFileSync(openpgpKey, publicKey, { mode: 0o600 });
    writeFileSync(openpgpTestSecretKey, privateKey, { mode: 0o600 });
    participants.push({ ...p, openpgpKey, openpgpTestSecretKey });
  }
  return { answers: { ...answers, participants }, dir };
}
