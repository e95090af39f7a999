"""A second implementation of cosign's encrypted key file, for the tests.

The format is go-securesystemslib's `encrypted` package inside PEM
"ENCRYPTED SIGSTORE PRIVATE KEY": scrypt derives a NaCl secretbox key from
the passphrase; the box holds the key's PKCS#8 DER.

  python cosign_key.py write OUT.key PUB.pem   (passphrase on stdin) -> new key
  python cosign_key.py read IN.key             (passphrase on stdin) -> public PEM
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"


def box_key(passphrase, salt, n, r, p):
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)


def write(out_path, pub_path, passphrase):
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, nonce = os.urandom(32), os.urandom(24)
    n, r, p = 65536, 8, 1  # go-securesystemslib's current default strength
    sealed = nacl.secret.SecretBox(box_key(passphrase, salt, n, r, p)).encrypt(der, nonce)
    body = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p},
                "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed.ciphertext).decode(),
    }
    b64 = base64.b64encode(json.dumps(body).encode()).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    with open(out_path, "w") as f:
        f.write(f"-----BEGIN {LABEL}-----\n" + "\n".join(lines) + f"\n-----END {LABEL}-----\n")
    with open(pub_path, "wb") as f:
        f.write(public_pem(key))


def read(in_path, passphrase):
    text = open(in_path).read().strip().splitlines()
    assert text[0] == f"-----BEGIN {LABEL}-----", text[0]
    body = json.loads(base64.b64decode("".join(text[1:-1])))
    assert body["kdf"]["name"] == "scrypt" and body["cipher"]["name"] == "nacl/secretbox"
    params = body["kdf"]["params"]
    key = box_key(passphrase, base64.b64decode(body["kdf"]["salt"]),
                  params["N"], params["r"], params["p"])
    der = nacl.secret.SecretBox(key).decrypt(
        base64.b64decode(body["ciphertext"]), base64.b64decode(body["cipher"]["nonce"])
    )
    sys.stdout.buffer.write(public_pem(serialization.load_der_private_key(der, None)))


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


if __name__ == "__main__":
    passphrase = sys.stdin.buffer.readline().rstrip(b"\r\n")
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], passphrase)
    else:
        read(sys.argv[2], passphrase)
