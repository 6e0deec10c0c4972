#!/usr/bin/env python3
"""Check the test vectors printed in docs/formats.md with this clean-room decoder.

Reads every vector from the document itself: the share vector (words -> fields, checksum,
digest, any two shares -> KEK and its check values), the backup vector (RFC 5649 unwrap, PKCS#8
length, SPKI SHA-256), the transcript event vector (canonical JSON, hash, PGP words), the PGP
word list example and the fingerprint vector. Prints one line per check; exits 1 on any failure.
"""
import base64
import hashlib
import itertools
import json
import os
import re
import sys

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_private_key, load_der_public_key

import jcs
from recover_key import kcv
from share import check_symbols, combine, decode
from wordlists import bip39_english, fingerprint_words, witness_words

DOC = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'formats.md')
failures = []


def check(name, ok):
    print('%s %s' % ('ok  ' if ok else 'FAIL', name))
    if not ok:
        failures.append(name)


def table_value(doc, label):
    """The backticked value of a `| label | `value` |` row."""
    return re.search(r'^\| ' + re.escape(label) + r'[^|]*\| `([^`]+)`', doc, re.M).group(1)


def share_vector(doc):
    v = json.loads(re.search(r'<!-- vector:share-v1 -->\s*```json\n(.*?)```', doc, re.S).group(1))
    words = bip39_english()
    decoded = []
    for s in v['shares']:
        d = decode(s['header'] + '\n' + s['words'])
        symbols = [words.index(w) for w in s['words'].split()]
        check('share vector %s: header, Shamir share, digest' % s['header'],
              (d.header, d.shamir.hex(), d.digest()) == (s['header'], s['shamirShareHex'], s['digest']))
        check('share vector %s: check words are the RS remainder' % s['header'], check_symbols(symbols[:30]) == symbols[30:])
        decoded.append(d)
    for pair in itertools.combinations(decoded, 2):
        kek = combine([d.shamir for d in pair])
        check('share vector: shares %s rebuild the KEK' % [d.index for d in pair], kek.hex() == v['kekHex'])
    kek = bytes.fromhex(v['kekHex'])
    check('share vector: KCV aes-cmac', kcv(kek, 'aes-cmac') == v['kcvAesCmac'])
    check('share vector: KCV aes-ecb', kcv(kek, 'aes-ecb') == v['kcvAesEcb'])


def backup_vector(doc):
    section = doc[doc.index('**Test vector** (checked by `test/unit/backup-vector.test.ts`'):]
    kek = bytes.fromhex(table_value(section, 'KEK'))
    pkcs8_hex = table_value(section, 'PKCS#8')
    length = int(re.search(r'^\| PKCS#8 \((\d+) bytes', section, re.M).group(1))
    blob = base64.b64decode(table_value(section, '`wrappedKey`'))
    plain = aes_key_unwrap_with_padding(kek, blob)
    check('backup vector: RFC 5649 unwrap gives the PKCS#8', plain.hex() == pkcs8_hex)
    check('backup vector: pkcs8Length', len(plain) == length)
    key = load_der_private_key(plain, password=None)
    d = table_value(section, 'private key d')
    check('backup vector: private key d', '%064x' % key.private_numbers().private_value == d)
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    check('backup vector: spkiSha256', hashlib.sha256(spki).hexdigest() == table_value(section, '`spkiSha256`'))


def transcript_vector(doc):
    section = doc[doc.index('**Test vector.** Event fields'):]
    line = re.search(r'```\n(\{.*\})\n```', section).group(1)
    ev = {'seq': 1, 'at': '2025-01-01T00:00:00.000Z', 'ceremony': 'demo', 'step': None, 'actor': None,
          'type': 'CEREMONY_STARTED', 'data': {'title': 'Test vector', 'demo': True}, 'prev': '0' * 64}
    check('transcript vector: canonical JSON of the event without hash', jcs.canonical(ev) == line)
    h = re.search(r'its SHA-256 \(the event\'s `hash`\) is\s+`([0-9a-f]{64})`', section).group(1)
    check('transcript vector: hash', hashlib.sha256(line.encode()).hexdigest() == h)
    words = re.search(r'in PGP words\s+`([^`]+)`', section).group(1).split()
    check('transcript vector: hash in PGP words', witness_words(bytes.fromhex(h)) == words)
    full = dict(ev, hash=h)
    check('transcript vector: the line with "hash" inserted before "prev"',
          jcs.canonical(full) == line.replace('"prev"', '"hash":"%s","prev"' % h))


def pgp_example(doc):
    m = re.search(r'bytes `([0-9A-F ]+)` read\s+`([^`]+)`', doc)
    check('PGP word list example', witness_words(bytes.fromhex(m.group(1).replace(' ', ''))) == m.group(2).split())


def fingerprint_vector(doc):
    spki = base64.b64decode(re.search(r'^SPKI \(base64\) (\S+)', doc, re.M).group(1))
    digest = hashlib.sha256(spki).digest()
    load_der_public_key(spki)
    check('fingerprint vector: hex', digest.hex() == re.search(r'^hex\s+([0-9a-f]{64})', doc, re.M).group(1))
    check('fingerprint vector: colonHex', ':'.join('%02X' % b for b in digest) == re.search(r'^colonHex\s+(\S+)', doc, re.M).group(1))
    check('fingerprint vector: words', fingerprint_words(digest) == re.search(r'^words\s+(.+)$', doc, re.M).group(1).split())


def main():
    with open(DOC, encoding='utf-8') as f:
        doc = f.read()
    for fn in (share_vector, backup_vector, transcript_vector, pgp_example, fingerprint_vector):
        fn(doc)
    print('%d failed' % len(failures) if failures else 'all vectors ok')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
