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

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
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

AT = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$')
ZERO_HASH = '0' * 64
SUMS_LINE = re.compile(r'^([0-9a-f]{64}) [ *](.+)$')  # GNU sha256sum: text or binary (`*`) mode
HEX64 = re.compile(r'^[0-9a-f]{64}$')
MAX_SEQ = 2 ** 53 - 1  # seq is a JSON number: an exact integer


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
    if not (_is_integer(ev['seq']) and 1 <= ev['seq'] <= MAX_SEQ):
        return 'seq is not an integer >= 1'
    if not (isinstance(ev['at'], str) and AT.match(ev['at'])):
        return 'at is not YYYY-MM-DDTHH:MM:SS[.f…]Z'
    if not (isinstance(ev['ceremony'], str) and ev['ceremony']) or not _str_or_null(ev['step']) or not _str_or_null(ev['actor']):
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
        if line_bytes == b'':
            raise Problem('TRANSCRIPT_NOT_CANONICAL', '%s is blank' % where)
        # A CR (CRLF endings) is whitespace to JSON and fails the canonical form; a BOM is not JSON.
        text = line_bytes.decode('utf-8')
        try:
            ev = jcs.parse(text, duplicates=True)  # a member named twice fails the canonical form below
        except ValueError:
            raise Problem('TRANSCRIPT_NOT_JSON', '%s is not JSON' % where)
        bad = check_shape(ev)
        if bad:
            raise Problem('TRANSCRIPT_EVENT_INVALID', '%s: %s' % (where, bad))
        try:
            canon = jcs.canonical_bytes(ev)
        except (ValueError, OverflowError, RecursionError):
            canon = None  # NaN/Infinity (e.g. 1e400) have no canonical form
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
        events.append(ev)
    # The sealed shape, once every line has passed the chain rules
    if events[0]['type'] != 'CEREMONY_STARTED':
        raise Problem('TRANSCRIPT_EVENT_INVALID', 'the transcript does not start with CEREMONY_STARTED')
    types = [e['type'] for e in events]
    if 'CEREMONY_SEALED' not in types:
        raise Problem('TRANSCRIPT_TRUNCATED', 'the transcript stops before CEREMONY_SEALED (last seq %d)' % events[-1]['seq'])
    sealed_at = types.index('CEREMONY_SEALED')
    if sealed_at != len(events) - 1:
        extra = events[sealed_at + 1]
        raise Problem('TRANSCRIPT_EVENT_AFTER_SEAL', 'event %d (%s) follows CEREMONY_SEALED' % (extra['seq'], extra['type']))
    last = events[-1]
    if 'events' in last['data'] and last['data']['events'] != last['seq']:
        raise Problem('TRANSCRIPT_SEAL_COUNT', 'CEREMONY_SEALED says %r events, it is event %d' % (last['data']['events'], last['seq']))
    return raw, events


def check_transcript_key(bundle, events):
    """Step 3: an EC P-384 key whose SPKI SHA-256 is the one recorded in TRANSCRIPT_KEY_CREATED
    (a ceremony has one transcript key: every TRANSCRIPT_KEY_CREATED must record the same)."""
    recorded = [e['data'].get('spkiSha256') for e in events if e['type'] == 'TRANSCRIPT_KEY_CREATED']
    if not recorded:
        raise Problem('TRANSCRIPT_KEY_NOT_RECORDED', 'no TRANSCRIPT_KEY_CREATED event')
    if any(r != recorded[0] for r in recorded):
        raise Problem('TRANSCRIPT_KEY_MISMATCH', 'a second TRANSCRIPT_KEY_CREATED records a different key')
    with open(os.path.join(bundle, 'transcript-key.pem'), 'rb') as f:
        pem = f.read()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise Problem('TRANSCRIPT_KEY_INVALID', 'transcript-key.pem is not a public key: %s' % e)
    if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)):
        raise Problem('TRANSCRIPT_KEY_INVALID', 'transcript-key.pem is not an EC P-384 key')
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


def path_problem(rel):
    """Bundle paths ("Bundle"): relative with `/`, no backslash, CR, LF or NUL, no empty, `.` or `..` part."""
    if not rel:
        return 'empty'
    if re.search(r'[\\\n\r\0]', rel):
        return 'a backslash, newline or NUL'
    if rel.startswith('/'):
        return 'absolute'
    if any(part in ('', '.', '..') for part in rel.split('/')):
        return "an empty, '.' or '..' part"
    return None


def list_bundle(bundle):
    """Every file under the folder, relative with `/`; anything but folders and regular files is refused."""
    out = []
    for dirpath, dirnames, filenames in os.walk(bundle):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, bundle).replace(os.sep, '/')
            if os.path.isdir(path) and not os.path.islink(path):
                continue
            if os.path.islink(path) or not os.path.isfile(path):
                raise Problem('BUNDLE_FILE_NOT_REGULAR', '%s is not a regular file (a link, device or socket)' % rel)
            if path_problem(rel):
                raise Problem('BUNDLE_FILE_NAME_INVALID', '%r cannot be listed in SHA256SUMS: %s' % (rel, path_problem(rel)))
            out.append(rel)
    return sorted(out, key=lambda p: p.encode('utf-16-be', 'surrogatepass'))


def check_file(bundle, rel, digest, seq=None):
    at = ' (seq %d)' % seq if seq else ''
    path = os.path.join(bundle, *rel.split('/'))
    if not os.path.isfile(path):
        raise Problem('BUNDLE_FILE_MISSING', '%s%s is missing' % (rel, at))
    if sha256_file(path) != digest:
        raise Problem('BUNDLE_FILE_CHANGED', '%s%s does not have the recorded SHA-256' % (rel, at))


def check_recorded_files(bundle, events, present):
    """Step 5: the top-level {file, sha256} of an event's data, where that file is in the folder
    (a later event with `supersedes` replaces the record of its file), and every
    CEREMONY_SEALED.data.artifacts[{path, sha256}], which must be there."""
    claims = []  # (file, sha256, seq, required)
    for ev in events:
        d = ev['data']
        if d.get('supersedes') and isinstance(d.get('file'), str):
            claims = [c for c in claims if c[0] != d['file'].replace('\\', '/')]
        claims.append((d.get('file'), d.get('sha256'), ev['seq'], False))
        if ev['type'] == 'CEREMONY_SEALED' and isinstance(d.get('artifacts'), list):
            claims += [(a.get('path'), a.get('sha256'), ev['seq'], True) for a in d['artifacts'] if isinstance(a, dict)]
    for rel, digest, seq, required in claims:
        if not (isinstance(rel, str) and isinstance(digest, str) and HEX64.match(digest)):
            continue
        rel = rel.replace('\\', '/')
        if path_problem(rel) or (not required and rel not in present):
            continue  # an absolute path (a policy file, a drill shares file) is not a bundle file
        check_file(bundle, rel, digest, seq)


def check_sums(bundle, present):
    """Step 6: SHA256SUMS well-formed, every listed file with its hash, nothing unlisted."""
    with open(os.path.join(bundle, 'SHA256SUMS'), 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    if text and not text.endswith('\n'):
        raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS does not end with a newline')
    listed, seen = [], set()
    for n, line in enumerate(text.split('\n')[:-1], 1):
        m = SUMS_LINE.match(line)
        if not m:
            raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS line %d is not `<sha256>  <path>`' % n)
        if path_problem(m.group(2)):
            raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS line %d names a path with %s' % (n, path_problem(m.group(2))))
        if m.group(2) in seen:
            raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS line %d lists a file a second time' % n)
        seen.add(m.group(2))
        listed.append((m.group(2), m.group(1)))
    for rel, digest in listed:
        if rel == 'SHA256SUMS':
            raise Problem('BUNDLE_SUMS_INVALID', 'SHA256SUMS lists itself')
        if rel not in present and any(p.startswith(rel + '/') for p in present):
            raise Problem('BUNDLE_SUMS_LISTS_FOLDER', 'SHA256SUMS lists %s, a folder' % rel)
        check_file(bundle, rel, digest)
    for rel in present:
        if rel != 'SHA256SUMS' and rel not in seen:
            raise Problem('BUNDLE_FILE_UNLISTED', '%s is not listed in SHA256SUMS' % rel)
    for name in ('transcript.jsonl', 'transcript.sig', 'transcript-key.pem', 'transcript.html'):
        if name not in present:
            raise Problem('BUNDLE_FILE_MISSING', '%s is missing' % name)


def verify(bundle):
    """The checks of "`keyrite verify <bundle>`", in its order, except the HTML rendering (7)."""
    if not os.path.isdir(bundle):
        raise Problem('BUNDLE_NOT_FOUND', '%s is not a folder' % bundle)
    present = list_bundle(bundle)
    if not present:
        raise Problem('BUNDLE_EMPTY', '%s holds no file' % bundle)
    if 'transcript.jsonl' not in present:
        raise Problem('BUNDLE_FILE_MISSING', 'transcript.jsonl is missing')
    if 'transcript.sig' not in present:
        raise Problem('TRANSCRIPT_NOT_SEALED', 'transcript.sig is missing: the bundle was not sealed')
    for name in ('transcript-key.pem', 'SHA256SUMS'):
        if name not in present:
            raise Problem('BUNDLE_FILE_MISSING', '%s is missing' % name)
    raw, events = read_transcript(os.path.join(bundle, 'transcript.jsonl'))
    key, key_fp = check_transcript_key(bundle, events)
    check_signature(bundle, key, raw)
    check_recorded_files(bundle, events, set(present))
    check_sums(bundle, set(present))
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
