#!/usr/bin/env python3
"""Recover a Keyrite backup without Keyrite, from docs/formats.md alone.

    recover_key.py BACKUP_JSON < share-texts

stdin holds the custodians' shares as Keyrite hands them out: each share's header line
(`share 2 of 5 · needs 3 · split 7F3A-91C2`, optionally after `# ` as in a drill shares file)
followed by its 33 words; shares may also be separated by blank lines. Prints the recovered
private key's SPKI SHA-256 (hex) and exits 0, or `FAIL <CODE>: <reason>` on stderr and exits 1.
The KEK and the private key stay in this process's memory: nothing is written to disk.
"""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_private_key

import jcs
from share import HEADER, Problem, combine, decode

MAX_BACKUP = 1 << 20  # "at most 1 MiB" (Backup file; input-checks.md)


def split_shares(text):
    """One block of word lines per share: a header line (also after `# `, as a drill shares file
    writes it) or a blank line ends the share before it; other `#` lines are comments."""
    blocks, cur = [], []
    for line in text.splitlines() + ['']:
        stripped = line.strip()
        if not stripped or HEADER.match(stripped.lstrip('#')):
            if cur:
                blocks.append('\n'.join(cur))
            cur = []
        elif not stripped.startswith('#'):
            cur.append(line)
    return blocks


FIELDS = {'formatVersion', 'keyId', 'keyLabel', 'ckaId', 'keyType', 'keyUsage', 'spkiDer', 'spkiSha256', 'wrapMechanism',
          'wrapFormat', 'pkcs8Length', 'wrapTrust', 'wrappedKey', 'kek', 'split', 'ceremonyId', 'createdAt'}
V2_ONLY = {'wrapFormat', 'pkcs8Length'}


def read_backup(path):
    """"Backup file", Reading: the document's checks in its order (field values are not all re-checked)."""
    with open(path, 'rb') as f:
        raw = f.read(MAX_BACKUP + 1)
    if len(raw) > MAX_BACKUP:
        raise Problem('BACKUP_TOO_LARGE', 'over 1 MiB')
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise Problem('BACKUP_NOT_A_BACKUP', 'it is binary data, not text')
    if not text.strip():
        raise Problem('BACKUP_CORRUPT', 'the backup file is empty')
    if text.startswith('\ufeff'):
        raise Problem('BACKUP_HAS_BOM', 'the backup file starts with a byte-order mark')
    if not text.lstrip()[:1] in ('{', '['):
        raise Problem('BACKUP_NOT_A_BACKUP', 'it does not start with "{"')
    try:
        b = jcs.parse(text)
    except jcs.DuplicateMember as e:
        raise Problem('BACKUP_DUPLICATE_KEY', str(e))
    except ValueError as e:
        raise Problem('BACKUP_CORRUPT', 'not JSON: %s' % e)
    if not isinstance(b, dict):
        raise Problem('BACKUP_CORRUPT', 'not a backup record')
    version = b.get('formatVersion')
    if type(version) not in (int, float) or version not in (1, 2):
        # another number is another format; anything else is a damaged field
        raise Problem('BACKUP_VERSION' if type(version) in (int, float) else 'BACKUP_INVALID', 'format version %r' % version)
    expected = FIELDS if b['formatVersion'] == 2 else FIELDS - V2_ONLY
    if set(b) != expected:
        raise Problem('BACKUP_INVALID', 'fields missing or unknown: %s' % sorted(set(b) ^ expected))
    if set(b['kek']) != {'algorithm', 'kcv', 'kcvMethod'} or set(b['split']) != {'scheme', 'id', 'threshold', 'count', 'shares'}:
        raise Problem('BACKUP_INVALID', 'kek or split: fields missing or unknown')
    spki = base64.b64decode(b['spkiDer'], validate=True)
    if hashlib.sha256(spki).hexdigest() != b['spkiSha256']:
        raise Problem('BACKUP_INVALID', 'spkiSha256 is not the SHA-256 of spkiDer')
    split = b['split']
    if split['scheme'] != 'shamir-gf256' or not 2 <= split['threshold'] <= split['count'] <= 16:
        raise Problem('BACKUP_INVALID', 'split: not shamir-gf256 with 2 <= threshold <= count <= 16')
    if [s['index'] for s in split['shares']] != list(range(1, split['count'] + 1)):
        raise Problem('BACKUP_INVALID', 'split.shares: not indexes 1..count in order')
    if b['formatVersion'] == 2:
        blob_len = len(base64.b64decode(b['wrappedKey'], validate=True))
        if blob_len % 8 or not max(1, blob_len - 15) <= b['pkcs8Length'] <= blob_len - 8:
            raise Problem('BACKUP_INVALID', 'pkcs8Length %r does not fit a %d-byte RFC 5649 blob' % (b['pkcs8Length'], blob_len))
    return b


def check_share(s, split):
    """Per-share checks against the backup file, before any KEK exists (Backup file, "Per-share digest")."""
    if s.split_text != split['id']:
        raise Problem('SHARE_FOREIGN_SPLIT', 'share %d belongs to split %s, the backup to %s' % (s.index, s.split_text, split['id']))
    if (s.threshold, s.count) != (split['threshold'], split['count']):
        raise Problem('SHARE_THRESHOLD_MISMATCH', 'share says %d of %d, the backup %d of %d' % (s.threshold, s.count, split['threshold'], split['count']))
    if not 1 <= s.index <= split['count']:
        raise Problem('SHARE_INDEX_RANGE', 'share index %d' % s.index)
    if s.digest() != split['shares'][s.index - 1]['digest']:
        raise Problem('SHARE_DIGEST_MISMATCH', 'share %d does not match its digest in the backup file' % s.index)


def kcv(kek, method):
    """First 8 bytes of AES-CMAC or AES-ECB of one zero block under the KEK (Backup file, `kek`)."""
    if method == 'aes-cmac':
        c = cmac.CMAC(algorithms.AES(bytes(kek)))
        c.update(bytes(16))
        return c.finalize()[:8].hex()
    if method == 'aes-ecb':
        e = Cipher(algorithms.AES(bytes(kek)), modes.ECB()).encryptor()
        return (e.update(bytes(16)) + e.finalize())[:8].hex()
    raise Problem('BACKUP_INVALID', 'kcvMethod %r' % method)


def recover(backup, share_texts):
    split = backup['split']
    shares = []
    for n, text in enumerate(share_texts, 1):
        try:
            s = decode(text)
        except Problem as p:
            raise Problem(p.code, 'share #%d given: %s' % (n, p))
        check_share(s, split)
        shares.append(s)
    if len({s.split_id for s in shares}) > 1:
        raise Problem('SHARE_MIXED_SPLITS', 'shares of different splits')
    if len({s.index for s in shares}) != len(shares):
        raise Problem('SHARE_DUPLICATE', 'the same share given twice')
    if len(shares) < split['threshold']:
        raise Problem('SHARE_TOO_FEW', '%d shares given, %d needed' % (len(shares), split['threshold']))
    kek = combine([s.shamir for s in shares])
    try:
        if kcv(kek, backup['kek']['kcvMethod']) != backup['kek']['kcv']:
            raise Problem('BACKUP_KCV_MISMATCH', 'the rebuilt KEK does not have the recorded check value')
        blob = base64.b64decode(backup['wrappedKey'], validate=True)
        try:
            pkcs8 = aes_key_unwrap_with_padding(bytes(kek), blob)  # RFC 5649
        except InvalidUnwrap:
            raise Problem('BACKUP_WRAPPED_KEY_DAMAGED', 'the wrapped key does not unwrap under the rebuilt KEK')
    finally:
        kek[:] = bytes(len(kek))
    if backup['formatVersion'] == 2 and len(pkcs8) != backup['pkcs8Length']:
        raise Problem('BACKUP_PKCS8_LENGTH', 'unwrapped %d bytes, pkcs8Length is %d' % (len(pkcs8), backup['pkcs8Length']))
    key = load_der_private_key(pkcs8, password=None)
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(spki).hexdigest()
    if digest != backup['spkiSha256']:
        raise Problem('BACKUP_INVALID', 'the recovered key is not the backup\'s public key')
    return digest


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: recover_key.py BACKUP_JSON < shares\n')
        return 2
    try:
        backup = read_backup(argv[1])
        print(recover(backup, split_shares(sys.stdin.read())))
        return 0
    except Problem as p:
        sys.stderr.write('FAIL %s: %s\n' % (p.code, p))
        return 1
    except (KeyError, TypeError, ValueError) as e:
        sys.stderr.write('FAIL BACKUP_INVALID: %s: %s\n' % (type(e).__name__, e))
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
