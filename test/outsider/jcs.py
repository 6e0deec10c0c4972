"""Canonical JSON as docs/formats.md "File rules" specifies it: RFC 8785 (JCS).

Members sorted by UTF-16 code units at every level, no whitespace, numbers in ECMAScript
shortest form (-0 is 0), strings with only the escapes JSON.stringify produces.
Written from the document alone, not from Keyrite's code.
"""
import json
import math
import sys

# Parsing and re-serializing recurse once per nesting level; allow what JSON.parse reads.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 12000))

_SHORT_ESCAPES = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}


def _string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif c < 0x20 or 0xD800 <= c <= 0xDFFF:
            # JSON.stringify escapes other C0 controls and (well-formed JSON.stringify) lone surrogates
            out.append('\\u%04x' % c)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def _number(v):
    """ECMAScript Number::toString (RFC 8785 section 3.2.2.3) of an IEEE-754 double."""
    if isinstance(v, bool):
        raise TypeError('bool is not a number')
    f = float(v)
    if math.isnan(f) or math.isinf(f):
        raise ValueError('NaN and Infinity have no JSON form')
    if f == 0:
        return '0'  # also -0
    sign = '-' if f < 0 else ''
    # repr() gives the shortest round-tripping digits; ECMAScript then chooses the layout.
    mantissa, _, exp = repr(abs(f)).partition('e')
    int_part, _, frac = mantissa.partition('.')
    digits = (int_part + frac).lstrip('0')
    # position of the decimal point relative to the first significant digit (ECMAScript's n)
    point = len(int_part.lstrip('0')) if int_part.strip('0') else -(len(frac) - len(frac.lstrip('0')))
    point += int(exp or 0)
    digits = digits.rstrip('0') or '0'
    k = len(digits)
    n = point
    if k <= n <= 21:
        s = digits + '0' * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + '.' + digits[n:]
    elif -6 < n <= 0:
        s = '0.' + '0' * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ('.' + digits[1:] if k > 1 else '') + 'e' + ('+' if e >= 0 else '-') + str(abs(e))
    return sign + s


def _utf16_key(s):
    return s.encode('utf-16-be', 'surrogatepass')


def canonical(value):
    """The canonical JSON text (str) of a parsed JSON value."""
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return '[' + ','.join(canonical(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ','.join(_string(k) + ':' + canonical(value[k]) for k in sorted(value, key=_utf16_key)) + '}'
    raise TypeError('not a JSON value: %r' % type(value))


def canonical_bytes(value):
    return canonical(value).encode('utf-8', 'surrogatepass')


class DuplicateMember(ValueError):
    pass


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise DuplicateMember('member %r named twice' % k)
        obj[k] = v
    return obj


def _refuse_constant(name):
    raise ValueError('%s is not JSON' % name)


def parse(text, duplicates=False):
    """Strict JSON: no NaN/Infinity, no member named twice unless `duplicates` (then the last one
    wins, as with JSON.parse; such text is never canonical) (RFC 8259 text, as JSON.parse reads it).
    Nesting deeper than the recursion limit set below is refused as not JSON: no Keyrite event
    nests that deep (the document sets no limit; Keyrite itself fails past about 4000)."""
    try:
        return json.loads(text, object_pairs_hook=dict if duplicates else _no_duplicates, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError('nested too deep')
