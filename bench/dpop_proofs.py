#!/usr/bin/env python3
"""DPoP proofs (RFC 9449) for bench/run.sh: COUNT proofs, one per line, each with its
own jti, for METHOD URL (and, given ACCESS_TOKEN, its ath), signed ES256 by the P-256
key in KEY_FILE (made there first if missing). A load generator cannot sign, so the
proofs are made before a row runs; each is good for 300 s and once.

    bench/dpop_proofs.py KEY_FILE METHOD URL COUNT [ACCESS_TOKEN]

Needs Python's `cryptography` package (pip install cryptography)."""

import base64
import hashlib
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    key_file, method, url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    token = sys.argv[5] if len(sys.argv) == 6 else None
    if not os.path.exists(key_file):
        key = ec.generate_private_key(ec.SECP256R1())
        with open(key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(key_file, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, separators=(",", ":")).encode())
    claims = {"htm": method, "htu": url, "iat": int(time.time())}
    if token:
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    prefix = os.urandom(8).hex()
    out = sys.stdout
    for n in range(count):
        claims["jti"] = f"{prefix}-{n}"
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        out.write(f"{header}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}\n")


if __name__ == "__main__":
    main()
