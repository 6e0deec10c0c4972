"""The two word lists docs/formats.md names.

- BIP-39 English (share words, fingerprint words): "taken from @scure/bip39/wordlists/english";
  read here from that package in node_modules (a frozen template string, one word per line).
- The PGP word list ("Witness words"): resources/wordlists/pgp-words.txt,
  `<hex byte> <even> <odd>` per line.
"""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def bip39_english():
    path = os.path.join(ROOT, 'node_modules', '@scure', 'bip39', 'wordlists', 'english.js')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    body = re.search(r'`([^`]*)`', text).group(1)
    words = body.split()
    if len(words) != 2048 or len(set(w[:4] for w in words)) != 2048:
        raise SystemExit('unexpected BIP-39 English list in %s' % path)
    return words


def pgp_words():
    """[(even, odd)] for bytes 0..255."""
    path = os.path.join(ROOT, 'resources', 'wordlists', 'pgp-words.txt')
    table = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            hexbyte, even, odd = line.split()
            table[int(hexbyte, 16)] = (even, odd)
    if sorted(table) != list(range(256)):
        raise SystemExit('unexpected PGP word list in %s' % path)
    return [table[b] for b in range(256)]


def witness_words(data, table=None):
    """Byte i uses the even list when i is even, the odd list when i is odd ("Witness words")."""
    table = table or pgp_words()
    return [table[b][i % 2] for i, b in enumerate(data)]


def fingerprint_words(digest, words=None):
    """Six BIP-39 words: word i is the big-endian 11-bit group at bits 11*i..11*i+10 ("Fingerprint")."""
    words = words or bip39_english()
    n = int.from_bytes(digest, 'big')
    total = len(digest) * 8
    return [words[(n >> (total - 11 * (i + 1))) & 0x7FF] for i in range(6)]
