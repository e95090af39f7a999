"""A second DSSE signer, for the tests: builds the pre-authentication
encoding itself and signs it with `cryptography`'s ECDSA P-256 / SHA-256,
then wraps the envelope in a Sigstore v0.3 bundle hinted with the key id.

  python dsse_sign.py KEY_OUT.pub STATEMENT.json PAYLOAD_TYPE > BUNDLE.json

signs with a new key, whose public key it writes to KEY_OUT.pub.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def main(pub_path, statement_path, payload_type):
    key = ec.generate_private_key(ec.SECP256R1())
    payload = open(statement_path, "rb").read()
    sig = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with open(pub_path, "wb") as f:
        f.write(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ))
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": hashlib.sha256(spki).hexdigest()}},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        },
    }
    json.dump(bundle, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
