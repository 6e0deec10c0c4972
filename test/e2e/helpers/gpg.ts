import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Real OpenPGP keys for the tests, made with plain `gpg --batch` in a throw-away GNUPGHOME (the
 * custodian's own device, in the room), and decryption with that same `gpg`, never Keyrite.
 * Keys have no passphrase: the private keys never leave the temporary home, which is removed.
 */
export class GpgHome {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-gnupg-'));

  private gpg(args: string[], input?: string): string {
    return execFileSync('gpg', ['--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env: { ...process.env, GNUPGHOME: this.dir },
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /**
   * A key made as the custodian's software would: `good` is ed25519 with a cv25519 encryption
   * subkey; the others are what check-in must refuse (RSA-1024, signing only, expired in 2020).
   */
  makeKey(uid: string, kind: 'good' | 'weak' | 'sign-only' | 'expired' = 'good'): { fingerprint: string; armored: string } {
    switch (kind) {
      case 'good':
        this.gpg(['--quick-gen-key', uid, 'future-default', 'default', 'never']);
        break;
      case 'weak':
        this.gpg(['--quick-gen-key', uid, 'rsa1024', 'default', 'never']);
        break;
      case 'sign-only':
        this.gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
        break;
      case 'expired':
        this.gpg(['--faked-system-time', '20200101T000000', '--quick-gen-key', uid, 'future-default', 'default', '1y']);
        break;
    }
    const colons = this.gpg(['--with-colons', '--list-keys', uid]);
    const fingerprint = /^fpr:+([0-9A-F]{40,64}):/m.exec(colons)?.[1];
    if (!fingerprint) throw new Error(`gpg made no key for ${uid}`);
    return { fingerprint, armored: this.gpg(['--armor', '--export', fingerprint]) };
  }

  /** What the custodian does on their own device: `gpg --decrypt FILE`. */
  decrypt(file: string): string {
    return this.gpg(['--decrypt', file]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
