import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A throw-away GnuPG home with real keys made by `gpg --batch` (as a custodian's own machine or
 * card would make them). Nothing here is a fixture on disk: keys are generated per test file,
 * without passphrases, and removed with the home.
 */
export class TestGpg {
  readonly home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-gpg-'));

  run(args: string[], input?: string): string {
    return execFileSync('gpg', ['--homedir', this.home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** A primary (sign, cert) key with an optional encryption subkey; returns its fingerprint. */
  makeKey(uid: string, algo = 'ed25519', encrypt: string | null = 'cv25519', extra: string[] = []): string {
    try {
      this.run([...extra, '--quick-gen-key', uid, algo, 'sign,cert', '2y']);
    } catch {
      // gpg-agent occasionally fails to start under heavy load (several test files at once); once more.
      this.run([...extra, '--quick-gen-key', uid, algo, 'sign,cert', '2y']);
    }
    const fpr = this.run(['--with-colons', '--list-keys', uid]).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
    if (encrypt) this.run([...extra, '--quick-add-key', fpr, encrypt, 'encr', '2y']);
    return fpr;
  }

  publicKey(fpr: string): string {
    return this.run(['--armor', '--export', fpr]);
  }

  /** The unprotected secret key, armored: for answers files' openpgpTestSecretKey only. */
  secretKey(fpr: string): string {
    return this.run(['--armor', '--export-secret-keys', fpr]);
  }

  /** Writes the public (and secret) key to files in `dir`; returns their paths. */
  keyFiles(fpr: string, dir: string, name: string): { publicKey: string; secretKey: string } {
    const publicKey = path.join(dir, `${name}.pub.asc`);
    const secretKey = path.join(dir, `${name}.sec.asc`);
    writeFileSync(publicKey, this.publicKey(fpr));
    writeFileSync(secretKey, this.secretKey(fpr), { mode: 0o600 });
    return { publicKey, secretKey };
  }

  /** Plain `gpg --decrypt FILE`, as the custodian would run it: no Keyrite code involved. */
  decrypt(file: string): string {
    return this.run(['--decrypt', file]);
  }

  close(): void {
    spawnSync('gpgconf', ['--homedir', this.home, '--kill', 'all']);
    rmSync(this.home, { recursive: true, force: true });
  }
}
