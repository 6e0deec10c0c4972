import { execFileSync } from 'node:child_process';

/**
 * Recover a backed-up private key the way someone without Keyrite would (docs/formats.md,
 * "Recovering without Keyrite"): plain openssl, or Python's `cryptography`. Everything goes
 * through pipes so no private key touches the disk.
 */

/** `openssl enc -d -id-aes256-wrap-pad`: the exact RFC 5649 plaintext. */
export function opensslUnwrap(kek: Buffer, blob: Buffer): Buffer {
  return execFileSync('openssl', ['enc', '-d', '-id-aes256-wrap-pad', '-K', kek.toString('hex'), '-iv', 'A65959A6'], { input: blob });
}

/** `openssl pkey` reading the plaintext as DER PKCS#8: the SPKI (DER) of the key. */
export function opensslSpkiOf(pkcs8: Buffer): Buffer {
  return execFileSync('openssl', ['pkey', '-inform', 'DER', '-pubout', '-outform', 'DER'], { input: pkcs8 });
}

const PYTHON = `
import sys, json, hashlib
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from cryptography.hazmat.primitives.serialization import load_der_private_key, Encoding, PublicFormat
req = json.loads(sys.stdin.read())
plain = aes_key_unwrap_with_padding(bytes.fromhex(req["kek"]), bytes.fromhex(req["blob"]))
key = load_der_private_key(plain, password=None)
spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
print(json.dumps({"length": len(plain), "spkiSha256": hashlib.sha256(spki).hexdigest()}))
`;

/** Python `cryptography` (strict DER: trailing bytes are refused). */
export function pythonUnwrap(kek: Buffer, blob: Buffer): { length: number; spkiSha256: string } {
  const out = execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify({ kek: kek.toString('hex'), blob: blob.toString('hex') }), stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out.toString()) as { length: number; spkiSha256: string };
}
