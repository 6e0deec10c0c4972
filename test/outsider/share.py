"""Share text -> share fields, per docs/formats.md "Share format" (version 1).

Written from the document alone. Raises Problem(code, message) with the document's codes.
"""
import hashlib
import re
import unicodedata

from wordlists import bip39_english


class Problem(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# --- Reed-Solomon over GF(2^11), reduction polynomial x^11 + x^2 + 1 (0x805), alpha = 2 ("Checksum")
_POLY, _SIZE = 0x805, 2048
_EXP, _LOG = [0] * (2 * _SIZE), [0] * _SIZE
_v = 1
for _i in range(_SIZE - 1):
    _EXP[_i] = _v
    _LOG[_v] = _i
    _v <<= 1
    if _v & _SIZE:
        _v ^= _POLY
for _i in range(_SIZE - 1, 2 * _SIZE):
    _EXP[_i] = _EXP[_i - (_SIZE - 1)]
PREFIX = [ord(c) for c in 'keyrite']  # mixed in, not written


def _syndromes(symbols):
    """The codeword polynomial (prefix, data, check; first symbol = highest coefficient) at alpha^1..3.
    It is divisible by g(x) = (x - a)(x - a^2)(x - a^3) exactly when all three are zero."""
    out = []
    for j in (1, 2, 3):
        acc = 0
        for s in PREFIX + symbols:  # Horner
            acc = (_EXP[_LOG[acc] + j] if acc else 0) ^ s
        out.append(acc)
    return out


def checksum_ok(symbols):
    return _syndromes(symbols) == [0, 0, 0]


def _mul(a, b):
    return _EXP[_LOG[a] + _LOG[b]] if a and b else 0


def check_symbols(data30):
    """Remainder of message * x^3 divided by g(x); used to check the document's test vector."""
    g = [1]  # g(x) = (x - a)(x - a^2)(x - a^3), highest coefficient first; minus is XOR
    for j in (1, 2, 3):
        g = [c ^ _mul(prev, _EXP[j]) for c, prev in zip(g + [0], [0] + g)]
    rem = PREFIX + list(data30) + [0, 0, 0]
    for i in range(len(rem) - 3):
        c = rem[i]
        for k in range(1, 4):
            rem[i + k] ^= _mul(c, g[k])
    return rem[-3:]


# --- Text -> words ("Decoding and its errors")
HEADER = re.compile(r'^\s*share\s+\d+\s+of\s+\d+\b', re.I)  # a line that starts like a header is skipped


def words_of(text):
    """"Decoding and its errors": NFKC, lower case; words separated by whitespace, `,` `;` `·`;
    a header line skipped; leading numbering (`1.`, `12)`, `3:`) and trailing `.,;:!?` dropped."""
    tokens = []
    for line in re.split(r'\r?\n', unicodedata.normalize('NFKC', text).lower()):
        if HEADER.match(line):
            continue
        for tok in re.split(r'[\s,;·]+', line):
            tok = re.sub(r'[.,;:!?]+$', '', re.sub(r'^\d+[.):]*', '', tok))
            if tok:
                tokens.append(tok)
    return tokens


class Share:
    def __init__(self, version, split_id, threshold, count, index, shamir):
        self.version, self.split_id, self.threshold, self.count, self.index, self.shamir = version, split_id, threshold, count, index, shamir

    @property
    def split_text(self):
        h = self.split_id.hex().upper()
        return h[:4] + '-' + h[4:]

    @property
    def header(self):
        return 'share %d of %d · needs %d · split %s' % (self.index, self.count, self.threshold, self.split_text)

    def digest(self):
        """Per-share digest ("Backup file"): SHA-256(label || 0x00 || split id || index || Shamir share)."""
        return hashlib.sha256(b'keyrite/share-digest/v1\x00' + self.split_id + bytes([self.index]) + self.shamir).hexdigest()


def _lookup(word, wordlist, by_prefix):
    if word in by_prefix['exact']:
        return by_prefix['exact'][word]
    if len(word) >= 4:
        hits = [i for i, w in enumerate(wordlist) if w.startswith(word)]
        if len(hits) == 1:
            return hits[0]
    return None


_WORDS = None


def decode(text):
    global _WORDS
    wordlist = _WORDS = _WORDS or bip39_english()
    index = {'exact': {w: i for i, w in enumerate(wordlist)}}
    tokens = words_of(text)
    symbols, unknown = [], []
    for pos, tok in enumerate(tokens, 1):
        s = _lookup(tok, wordlist, index)
        if s is None:
            unknown.append(pos)
        symbols.append(s)
    if unknown:
        raise Problem('SHARE_UNKNOWN_WORD', 'word %d is not in the BIP-39 English list' % unknown[0])
    if len(symbols) != 33:
        raise Problem('SHARE_WORD_COUNT', 'expected 33 words, got %d' % len(symbols))
    if not checksum_ok(symbols):
        diagnosis = _diagnose(symbols)
        if diagnosis == 'several' and symbols[0] >> 3 != 1:  # the version byte is the first word's top 8 bits
            raise Problem('SHARE_VERSION', 'share format version %d (supported: 1)' % (symbols[0] >> 3))
        raise Problem('SHARE_CHECKSUM', 'the checksum fails (%s)' % diagnosis)
    # 30 data symbols = 41 bytes (328 bits) followed by 2 zero bits, big-endian
    bits = 0
    for s in symbols[:30]:
        bits = (bits << 11) | s
    raw = (bits >> 2).to_bytes(41, 'big')
    version, split_id, m, n, idx, shamir = raw[0], raw[1:5], raw[5], raw[6], raw[7], raw[8:41]
    if version != 1:
        raise Problem('SHARE_VERSION', 'share format version %d (supported: 1)' % version)
    if bits & 0b11:
        raise Problem('SHARE_MALFORMED', 'padding bits set')
    if not 2 <= n <= 16:
        raise Problem('SHARE_MALFORMED', 'count %d outside 2..16' % n)
    if not 2 <= m <= n:
        raise Problem('SHARE_MALFORMED', 'threshold %d outside 2..%d' % (m, n))
    if not 1 <= idx <= n:
        raise Problem('SHARE_MALFORMED', 'index %d outside 1..%d' % (idx, n))
    if shamir[32] == 0:
        raise Problem('SHARE_MALFORMED', 'Shamir x = 0')
    return Share(version, split_id, m, n, idx, shamir)


def _div(a, b):
    return _EXP[_LOG[a] - _LOG[b] + _SIZE - 1] if a else 0


def _diagnose(symbols):
    """The document's kinds: the only one-word substitution or two-word swap that passes, else several.
    With minimum distance 4 a substitution exists only for a single error, which the syndromes
    locate: S_j = e * a^(j*d) for the error e at degree d (word p has degree 32 - p)."""
    s1, s2, s3 = _syndromes(symbols)
    if s1 and s2 and s3 and _div(s2, s1) == _div(s3, s2):
        d = _LOG[_div(s2, s1)]
        if d <= 32:
            return 'substitution at word %d' % (33 - d)
    swaps = []
    for a in range(33):
        for b in range(a + 1, 33):
            if symbols[a] != symbols[b]:
                t = list(symbols)
                t[a], t[b] = t[b], t[a]
                if checksum_ok(t):
                    swaps.append('swap of words %d and %d' % (a + 1, b + 1))
    return swaps[0] if len(swaps) == 1 else 'several'


# --- Shamir over GF(2^8), AES polynomial 0x11b ("Share format")
def _gf256_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return r


def _gf256_inv(a):
    r = 1  # a^254
    for _ in range(254):
        r = _gf256_mul(r, a)
    return r


def combine(shamir_shares):
    """KEK = value at x = 0 of the polynomials through the shares (Lagrange, per byte).
    Each share is y (32 bytes) || x (1 byte)."""
    xs = [s[32] for s in shamir_shares]
    if len(set(xs)) != len(xs):
        raise Problem('SHARE_DUPLICATE', 'two shares have the same x')
    secret = bytearray(32)
    for i, si in enumerate(shamir_shares):
        # basis_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR in GF(2^8)
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = _gf256_mul(num, xj)
                den = _gf256_mul(den, xj ^ xs[i])
        coef = _gf256_mul(num, _gf256_inv(den))
        for k in range(32):
            secret[k] ^= _gf256_mul(si[k], coef)
    return secret


def main():
    """`share.py < share-text`: the header line of one share, or `FAIL <CODE>: <reason>` (exit 1)."""
    import sys
    try:
        print(decode(sys.stdin.read()).header)
        return 0
    except Problem as p:
        sys.stderr.write('FAIL %s: %s\n' % (p.code, p))
        return 1


if __name__ == '__main__':
    raise SystemExit(main())
