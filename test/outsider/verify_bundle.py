#!/usr/bin/env python3
"""Verify a sealed Keyrite bundle without Keyrite, from docs/formats.md alone.

    verify_bundle.py BUNDLE_DIR

Prints `OK <final hash>` (then the hash in groups and PGP words) and exits 0, or prints
`FAIL <CODE>: <reason>` on stderr and exits 1 at the first problem, in the order of
"`keyrite verify <bundle>`". The one check it cannot make is step 7 (transcript.html re-rendered
byte for byte): the document says standard tools cannot; here it is covered by SHA256SUMS only.
"""
import hashlib
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import jcs
from wordlists import witness_words


class Problem(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# "Event types and their data": the enumerated list
EVENT_TYPES = set('''CEREMONY_STARTED TRANSCRIPT_KEY_CREATED PREFLIGHT_RECORDED NETWORK_OVERRIDE
PARTICIPANT_CHECKED_IN OPENPGP_KEY_ENROLLED OPENPGP_KEY_REJECTED STEP_STARTED STEP_CONFIRMED
STEP_COMPLETED HSM_LOGIN KEY_GENERATED SELF_TEST_PASSED KEY_USED SIGNATURE_GENERATED BACKUP_WRITTEN
BACKUP_VERIFIED SHARE_ISSUED SHARE_CONFIRMED SHARE_SEALED SHARE_UNDECRYPTABLE SHARE_RESHOW_REQUESTED
SHARE_REDISPLAYED SHARE_CARD_PRINTED SHARE_ACCEPTED SHARE_REJECTED KEK_REBUILT KEY_RESTORED
IDENTITY_PROVEN PUBLIC_KEY_EXPORTED CERTIFICATE_ISSUED CSR_ISSUED KEY_DESTROYED KEY_ABSENCE_VERIFIED
KEY_STATUS_CHANGED STATEMENT_RECORDED DRILL_SHARES_EXPORTED SHARES_RESPLIT CEREMONY_RESUMED
ERROR_RECORDED CEREMONY_ABORTED CEREMONY_SEALED'''.split())

AT = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$')
ZERO_HASH = '0' * 64
SUMS_LINE = re.compile(r'^([0-9a-f]{64})  (.+)$')


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def _str_or_null(v):
    return v is None or isinstance(v, str)


def _is_integer(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == int(v)


def check_shape(ev):
    """Chain rule 1: exactly the nine fields, of the right types, a known type ("Event fields")."""
    fields = {'seq', 'at', 'ceremony', 'step', 'actor', 'type', 'data', 'prev', 'hash'}
    if not isinstance(ev, dict) or set(ev) != fields:
        return 'not an object with exactly the nine event fields'
    if not (_is_integer(ev['seq']) and ev['seq'] >= 1):
        return 'seq is not an integer >= 1'
    if not (isinstance(ev['at'], str) and AT.match(ev['at'])):
        return 'at is not YYYY-MM-DDTHH:MM:SS[.fff]Z'
    if not isinstance(ev['ceremony'], str) or not _str_or_null(ev['step']) or not _str_or_null(ev['actor']):
        return 'ceremony, step or actor of the wrong type'
    if ev['type'] not in EVENT_TYPES:
        return 'unknown event type'
    if not isinstance(ev['data'], dict) or not isinstance(ev['prev'], str) or not isinstance(ev['hash'], str):
        return 'data, prev or hash of the wrong type'
    return None


def read_transcript(path):
    """File rules and chain rules ("Transcript"); returns the events."""
    with open(path, 'rb') as f:
        raw = f.read()
    if not raw:
        raise Problem('TRANSCRIPT_EMPTY', 'transcript.jsonl is empty')
    # A line that is not UTF-8 anywhere is reported first (as when the whole file is decoded first).
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b'\n') + 1
        raise Problem('TRANSCRIPT_NOT_JSON', 'line %d is not UTF-8' % line)
    lines = raw.split(b'\n')
    cut_off = lines[-1] != b''  # missing final newline
    if not cut_off:
        lines.pop()
    events, first = [], None
    for n, line_bytes in enumerate(lines, 1):
        where = 'line %d' % n
        if cut_off and n == len(lines):
            raise Problem('TRANSCRIPT_TRUNCATED', '%s has no final newline (cut off)' % where)
        if line_bytes == b'' or b'\r' in line_bytes:
            raise Problem('TRANSCRIPT_NOT_CANONICAL', '%s is blank or has a CR' % where)
        text = line_bytes.decode('utf-8')
        if n == 1 and text.startswith('\ufeff'):
            raise Problem('TRANSCRIPT_NOT_JSON', 'line 1 starts with a byte-order mark')
        try:
            ev = jcs.parse(text)
        except ValueError as e:
            if isinstance(e, jcs.DuplicateMember):
                raise Problem('TRANSCRIPT_NOT_CANONICAL', '%s: %s' % (where, e))
            raise Problem('TRANSCRIPT_NOT_JSON', '%s is not JSON' % where)
        bad = check_shape(ev)
        if bad:
            raise Problem('TRANSCRIPT_EVENT_INVALID', '%s: %s' % (where, bad))
        try:
            canon = jcs.canonical_bytes(ev)
        except (ValueError, OverflowError):
            canon = None
        if canon != line_bytes:
            raise Problem('TRANSCRIPT_NOT_CANONICAL', '%s is not RFC 8785 canonical JSON' % where)
        without_hash = dict(ev)
        del without_hash['hash']
        if hashlib.sha256(jcs.canonical_bytes(without_hash)).hexdigest() != ev['hash']:
            raise Problem('TRANSCRIPT_EVENT_HASH', '%s (seq %s): the content was changed' % (where, ev['seq']))
        if ev['seq'] != n:
            raise Problem('TRANSCRIPT_SEQ', '%s has seq %s' % (where, ev['seq']))
        if ev['prev'] != (events[-1]['hash'] if events else ZERO_HASH):
            raise Problem('TRANSCRIPT_CHAIN_BROKEN', '%s: prev is not the previous event\'s hash' % where)
        first = first or ev
        if ev['ceremony'] != first['ceremony']:
            raise Problem('TRANSCRIPT_CEREMONY_MISMATCH', '%s belongs to ceremony %r' % (where, ev['ceremony']))
        if events and events[-1]['type'] == 'CEREMONY_SEALED':
            raise Problem('TRANSCRIPT_EVENT_AFTER_SEAL', 'event %d (%s) follows CEREMONY_SEALED' % (n, ev['type']))
        events.append(ev)
    # The sealed shape
    if events[0]['type'] != 'CEREMONY_STARTED':
        raise Problem('UNNAMED', 'the transcript does not start with CEREMONY_STARTED')
    last = events[-1]
    if last['type'] != 'CEREMONY_SEALED':
        raise Problem('TRANSCRIPT_TRUNCATED', 'the transcript stops before CEREMONY_SEALED (last seq %d)' % last['seq'])
    if 'events' in last['data'] and last['data']['events'] != last['seq']:
        raise Problem('TRANSCRIPT_SEAL_COUNT', 'CEREMONY_SEALED says %r events, it is event %d' % (last['data']['events'], last['seq']))
    return raw, events


def check_transcript_key(bundle, events):
    """Step 3: an EC P-384 key whose SPKI SHA-256 is the one recorded in TRANSCRIPT_KEY_CREATED."""
    with open(os.path.join(bundle, 'transcript-key.pem'), 'rb') as f:
        pem = f.read()
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise Problem('TRANSCRIPT_KEY_INVALID', 'transcript-key.pem is not a public key: %s' % e)
    if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)):
        raise Problem('TRANSCRIPT_KEY_INVALID', 'transcript-key.pem is not an EC P-384 key')
    recorded = [e['data'].get('spkiSha256') for e in events if e['type'] == 'TRANSCRIPT_KEY_CREATED']
    if not recorded:
        raise Problem('TRANSCRIPT_KEY_NOT_RECORDED', 'no TRANSCRIPT_KEY_CREATED event')
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if hashlib.sha256(spki).hexdigest() != recorded[0]:
        raise Problem('TRANSCRIPT_KEY_MISMATCH', 'transcript-key.pem is not the key recorded in the chain')
    return key, hashlib.sha256(spki).hexdigest()


def check_signature(bundle, key, raw):
    """Step 4: DER ECDSA-SHA384 over the exact bytes of transcript.jsonl."""
    with open(os.path.join(bundle, 'transcript.sig'), 'rb') as f:
        sig = f.read()
    try:
        key.verify(sig, raw, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Problem('TRANSCRIPT_SIGNATURE_INVALID', 'transcript.sig is not a signature of transcript.jsonl by transcript-key.pem')


def _bundle_path(bundle, rel):
    parts = rel.split('/')
    if rel.startswith('/') or '..' in parts or '' in parts:
        return None
    return os.path.join(bundle, *parts)


def check_file(bundle, rel, digest, seq=None):
    path = _bundle_path(bundle, rel)
    at = ' (seq %d)' % seq if seq else ''
    if path is None or not os.path.isfile(path):
        raise Problem('BUNDLE_FILE_MISSING', '%s%s is missing' % (rel, at))
    if sha256_file(path) != digest:
        raise Problem('BUNDLE_FILE_CHANGED', '%s%s does not have the recorded SHA-256' % (rel, at))


def check_recorded_files(bundle, events):
    """Step 5: {file, sha256} in an event's data, and CEREMONY_SEALED.data.artifacts[{path, sha256}]."""
    for ev in events:
        d = ev['data']
        if isinstance(d.get('file'), str) and isinstance(d.get('sha256'), str):
            check_file(bundle, d['file'], d['sha256'], ev['seq'])
    sealed = events[-1]
    for a in sealed['data'].get('artifacts', []):
        check_file(bundle, a['path'], a['sha256'], sealed['seq'])


def bundle_files(bundle):
    """Every non-directory entry under the folder, relative with `/` (like `find . ! -type d`)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(bundle):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            out.append(os.path.relpath(os.path.join(dirpath, name), bundle).replace(os.sep, '/'))
    return out


def check_sums(bundle):
    """Step 6: SHA256SUMS well-formed, every listed file with its hash, nothing unlisted."""
    with open(os.path.join(bundle, 'SHA256SUMS'), 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS is not UTF-8')
    if not text.endswith('\n'):
        raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS does not end with a newline')
    listed = []
    for n, line in enumerate(text[:-1].split('\n'), 1):
        m = SUMS_LINE.match(line)
        if not m or _bundle_path(bundle, m.group(2)) is None:
            raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS line %d is not `<sha256>  <path>`' % n)
        listed.append((m.group(2), m.group(1)))
    paths = [p for p, _ in listed]
    if len(set(paths)) != len(paths):
        raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS lists a file twice')
    if paths != sorted(paths, key=lambda p: p.encode('utf-8')):
        raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS is not sorted')
    for rel, digest in listed:
        check_file(bundle, rel, digest)
    unlisted = sorted(set(bundle_files(bundle)) - set(paths) - {'SHA256SUMS'})
    if unlisted:
        raise Problem('BUNDLE_FILE_UNLISTED', '%s is not listed in SHA256SUMS' % unlisted[0])


def verify(bundle):
    """The checks of "`keyrite verify <bundle>`", in its order, except the HTML rendering (7)."""
    if not os.path.isdir(bundle):
        raise Problem('BUNDLE_NOT_FOUND', '%s is not a folder' % bundle)
    if not os.listdir(bundle):
        raise Problem('BUNDLE_EMPTY', '%s is empty' % bundle)
    for name in ('transcript.jsonl', 'transcript-key.pem', 'SHA256SUMS'):
        if not os.path.isfile(os.path.join(bundle, name)):
            raise Problem('BUNDLE_FILE_MISSING', '%s is missing' % name)
    if not os.path.isfile(os.path.join(bundle, 'transcript.sig')):
        raise Problem('TRANSCRIPT_NOT_SEALED', 'transcript.sig is missing: the bundle was not sealed')
    raw, events = read_transcript(os.path.join(bundle, 'transcript.jsonl'))
    key, key_fp = check_transcript_key(bundle, events)
    check_signature(bundle, key, raw)
    check_recorded_files(bundle, events)
    check_sums(bundle)
    return events, key_fp


def groups(hex_digest):
    return ' '.join(hex_digest[i:i + 4] for i in range(0, len(hex_digest), 4))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: verify_bundle.py BUNDLE_DIR\n')
        return 2
    try:
        events, key_fp = verify(argv[1])
    except Problem as p:
        sys.stderr.write('FAIL %s: %s\n' % (p.code, p))
        return 1
    final = events[-1]['hash']
    started = events[0]['data']
    print('OK %s' % final)
    if started.get('demo') or started.get('demoToken'):
        print('DEMO: made on the demo token or as a rehearsal')
    print('ceremony %s, %d events' % (events[0]['ceremony'], len(events)))
    print('final hash      %s' % groups(final))
    print('                %s' % ' '.join(witness_words(bytes.fromhex(final))))
    print('transcript key  %s' % groups(key_fp))
    print('                %s' % ' '.join(witness_words(bytes.fromhex(key_fp))))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
