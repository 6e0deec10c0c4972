#!/usr/bin/env python3
"""Every object on one PKCS#11 token, with its attributes, read without Keyrite.

Usage: token_objects.py MODULE TOKEN_LABEL < pin

Calls the module's C_* functions directly through ctypes (no pkcs11js, no Keyrite code) and
prints one JSON array: per object its class, key type, label, CKA_ID (hex), the boolean
attributes an attribute audit checks (those pkcs11-tool 0.23's --list-objects does not print
too: CKA_MODIFIABLE, CKA_COPYABLE, CKA_WRAP_WITH_TRUSTED, CKA_SIGN_RECOVER, ...), and for a public
key its SubjectPublicKeyInfo (DER, hex) built by Python `cryptography` from the token's
CKA_EC_PARAMS/CKA_EC_POINT or CKA_MODULUS/CKA_PUBLIC_EXPONENT. An attribute the token does not
have is null. The PIN is read from stdin so it never appears in a process listing.
"""
import ctypes as C
import json
import sys

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ULONG = C.c_ulong


class Attribute(C.Structure):
    _fields_ = [("type", ULONG), ("pValue", C.c_void_p), ("ulValueLen", ULONG)]


class Version(C.Structure):
    _fields_ = [("major", C.c_ubyte), ("minor", C.c_ubyte)]


class TokenInfo(C.Structure):
    _fields_ = [
        ("label", C.c_char * 32), ("manufacturerID", C.c_char * 32), ("model", C.c_char * 16),
        ("serialNumber", C.c_char * 16), ("flags", ULONG), ("ulMaxSessionCount", ULONG),
        ("ulSessionCount", ULONG), ("ulMaxRwSessionCount", ULONG), ("ulRwSessionCount", ULONG),
        ("ulMaxPinLen", ULONG), ("ulMinPinLen", ULONG), ("ulTotalPublicMemory", ULONG),
        ("ulFreePublicMemory", ULONG), ("ulTotalPrivateMemory", ULONG), ("ulFreePrivateMemory", ULONG),
        ("hardwareVersion", Version), ("firmwareVersion", Version), ("utcTime", C.c_char * 16),
    ]


CKA = {
    "class": 0x000, "token": 0x001, "private": 0x002, "label": 0x003, "id": 0x102, "keyType": 0x100,
    "sensitive": 0x103, "encrypt": 0x104, "decrypt": 0x105, "wrap": 0x106, "unwrap": 0x107,
    "sign": 0x108, "signRecover": 0x109, "verify": 0x10A, "verifyRecover": 0x10B, "derive": 0x10C,
    "extractable": 0x162, "local": 0x163, "neverExtractable": 0x164, "alwaysSensitive": 0x165,
    "modifiable": 0x170, "copyable": 0x171, "destroyable": 0x172, "trusted": 0x086,
    "wrapWithTrusted": 0x210, "modulus": 0x120, "publicExponent": 0x122, "ecParams": 0x180, "ecPoint": 0x181,
}
BOOLS = ["token", "private", "sensitive", "alwaysSensitive", "extractable", "neverExtractable", "local",
         "wrapWithTrusted", "trusted", "sign", "signRecover", "verify", "verifyRecover", "encrypt", "decrypt",
         "wrap", "unwrap", "derive", "modifiable", "copyable", "destroyable"]
CLASSES = {0: "data", 1: "certificate", 2: "public", 3: "private", 4: "secret"}
KEY_TYPES = {0: "rsa", 3: "ec", 0x1F: "aes"}
CURVES = {"06082a8648ce3d030107": ec.SECP256R1(), "06052b81040022": ec.SECP384R1(), "06052b81040023": ec.SECP521R1()}
UNAVAILABLE = ULONG(-1).value


def check(rv, what):
    if rv != 0:
        raise SystemExit(f"FAIL {what}: CKR 0x{rv:x}")


def main():
    module, label = sys.argv[1], sys.argv[2]
    pin = sys.stdin.read().strip().encode()
    lib = C.CDLL(module)
    check(lib.C_Initialize(None), "C_Initialize")
    count = ULONG(0)
    check(lib.C_GetSlotList(C.c_ubyte(1), None, C.byref(count)), "C_GetSlotList")
    slots = (ULONG * count.value)()
    check(lib.C_GetSlotList(C.c_ubyte(1), slots, C.byref(count)), "C_GetSlotList")
    slot = None
    for s in slots[: count.value]:
        info = TokenInfo()
        check(lib.C_GetTokenInfo(ULONG(s), C.byref(info)), "C_GetTokenInfo")
        if info.label.decode().rstrip(" \0") == label:
            slot = s
    if slot is None:
        raise SystemExit(f"FAIL no token labelled {label!r}")
    session = ULONG(0)
    check(lib.C_OpenSession(ULONG(slot), ULONG(0x6), None, None, C.byref(session)), "C_OpenSession")  # RW | serial
    check(lib.C_Login(session, ULONG(1), C.c_char_p(pin), ULONG(len(pin))), "C_Login")

    # An empty template: every object this (logged-in) session can see.
    check(lib.C_FindObjectsInit(session, None, ULONG(0)), "C_FindObjectsInit")
    handles = []
    buf, n = (ULONG * 64)(), ULONG(0)
    while True:
        check(lib.C_FindObjects(session, buf, ULONG(64), C.byref(n)), "C_FindObjects")
        if n.value == 0:
            break
        handles += list(buf[: n.value])
    check(lib.C_FindObjectsFinal(session), "C_FindObjectsFinal")

    def read(handle, name):
        attr = Attribute(CKA[name], None, 0)
        if lib.C_GetAttributeValue(session, ULONG(handle), C.byref(attr), ULONG(1)) != 0 or attr.ulValueLen == UNAVAILABLE:
            return None
        value = C.create_string_buffer(attr.ulValueLen)
        attr.pValue = C.cast(value, C.c_void_p)
        check(lib.C_GetAttributeValue(session, ULONG(handle), C.byref(attr), ULONG(1)), f"C_GetAttributeValue({name})")
        return value.raw[: attr.ulValueLen]

    def ulong(raw):
        return None if raw is None else int.from_bytes(raw, sys.byteorder)

    objects = []
    for h in handles:
        cls = CLASSES.get(ulong(read(h, "class")), "other")
        o = {"class": cls, "keyType": KEY_TYPES.get(ulong(read(h, "keyType"))) if cls in ("public", "private", "secret") else None}
        label_raw, id_raw = read(h, "label"), read(h, "id")
        o["label"] = None if label_raw is None else label_raw.decode()
        o["id"] = None if id_raw is None else id_raw.hex()
        for name in BOOLS:
            raw = read(h, name)
            o[name] = None if raw is None or len(raw) != 1 else raw != b"\0"
        o["spki"] = spki(read, h, o["keyType"]) if cls == "public" else None
        objects.append(o)
    lib.C_Logout(session)
    lib.C_CloseSession(session)
    lib.C_Finalize(None)
    print(json.dumps(objects))


def spki(read, handle, key_type):
    if key_type == "ec":
        params, point = read(handle, "ecParams"), read(handle, "ecPoint")
        # CKA_EC_POINT is the DER OCTET STRING around the point (PKCS#11 2.40): unwrap it.
        body = point[2:] if point[1] < 0x80 else point[2 + (point[1] & 0x7F):]
        key = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[params.hex()], body)
    elif key_type == "rsa":
        n, e = read(handle, "modulus"), read(handle, "publicExponent")
        key = rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
    else:
        return None
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo).hex()


if __name__ == "__main__":
    main()
