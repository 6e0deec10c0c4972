import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKeyrite } from '../helpers/cli';
import { tempDir } from '../helpers/ceremony';
import { TestGpg } from '../helpers/gpg';
import { scanForSecrets } from '../helpers/secrets';

/**
 * `keyrite ceremony run --demo --demo-openpgp 3`: three demo custodians get throw-away keys and
 * sealed shares. The shares are opened with plain gpg (the demo's secret keys imported into a
 * scratch GnuPG home, as each custodian's own device would hold them), written to files, and a
 * recovery drill driven by an answers file that names those decrypted files restores the key.
 */
const home = tempDir('pgp-cli-home');
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' };
const keyrite = (args: string[]) => runKeyrite(args, { env });
const gpg = new TestGpg();
afterAll(() => gpg.close());

describe('keyrite ceremony run --demo --demo-openpgp', () => {
  const bundle = path.join(tempDir('pgp-cli-b'), 'b');
  const drill = path.join(tempDir('pgp-cli-d'), 'd');

  it('seals three shares, which plain gpg opens, and a drill from the decrypted files restores the key', () => {
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--demo-openpgp', '3', '--out', bundle]);
    expect(r.status, r.stderr).toBe(0);
    const keysDir = /Demo OpenPGP keys \(throw-away, rehearsal only\): (\S+)/.exec(r.stdout)![1];
    const sealedDir = `${bundle}-sealed-shares`;
    const sealed = readdirSync(sealedDir).sort();
    expect(sealed.map((f) => f.replace(/-[0-9A-F]{4}-[0-9A-F]{4}-/, '-SPLIT-'))).toEqual(['carl-SPLIT-share-2.asc', 'cleo-SPLIT-share-3.asc', 'cora-SPLIT-share-1.asc']);
    expect(keyrite(['verify', bundle]).status).toBe(0);

    for (const f of readdirSync(keysDir).filter((x) => x.endsWith('.demo-secret.asc'))) gpg.run(['--import', path.join(keysDir, f)]);
    const plainDir = tempDir('pgp-cli-plain');
    const plain = sealed.map((f) => {
      const out = path.join(plainDir, f.replace(/\.asc$/, '.txt'));
      writeFileSync(out, gpg.decrypt(path.join(sealedDir, f)));
      return out;
    });
    const answers = path.join(plainDir, 'drill.yaml');
    writeFileSync(answers, `shares:\n${plain.map((p) => `  - { file: ${JSON.stringify(path.basename(p))} }`).join('\n')}\n`);
    const backup = readFileSync(path.join(bundle, 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/)![0];
    const d = keyrite(['ceremony', 'run', 'backup-recovery-drill', '--demo', '--answers', answers, '--backup', path.join(bundle, backup), '--out', drill]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/fingerprintMatches: true/);
    expect(d.stdout).toMatch(/signatureVerified: true/);
    expect(keyrite(['verify', drill]).status).toBe(0);

    // No run of their words anywhere Keyrite wrote: store, bundles, and the sealed files themselves.
    const words = plain.flatMap((p) => readFileSync(p, 'utf8').trim().split('\n').pop()!.split(' '));
    expect(words).toHaveLength(99);
    expect(scanForSecrets([home, bundle, drill, sealedDir], [], { shareWords: words })).toEqual([]);
    expect(r.stdout + d.stdout).not.toContain(words.slice(5, 8).join(' '));
  }, 170_000);

  it('--demo-openpgp without --demo is a usage error', () => {
    const r = keyrite(['ceremony', 'run', 'root-key-generation', '--demo-openpgp', '2', '--out', path.join(tempDir('pgp-cli-x'), 'x')]);
    expect(r.status).not.toBe(0);
    expect(r.errorCode).toBe('USAGE');
  });
});
