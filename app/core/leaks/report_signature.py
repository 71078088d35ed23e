"""The detached signature written beside an evidence report: `case.pdf.sig`.

A small text file, one `name: value` per line:

    sanctum-report-signature: 1
    file: case.pdf
    sha256: <SHA-256 of the PDF's bytes, hex>
    key-sha256: <SHA-256 of the signer's raw Ed25519 public key, hex>
    signature: <Ed25519 signature of the PDF's bytes, base64>

The signature is plain Ed25519 over the exact PDF bytes, so it can be checked without Sanctum
too (OpenSSL 3: `openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in case.pdf -sigfile
sig.bin`, with sig.bin the base64 value decoded). `sha256` and `key-sha256` are there for a
person to compare by eye; only the signature decides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import fingerprint
from .errors import EvidenceError

FORMAT = "sanctum-report-signature"
VERSION = "1"


def sign_report(pdf: bytes, private_raw: bytes, file_name: str) -> bytes:
    """The signature file's bytes for `pdf`, signed with the vault's Ed25519 key."""
    key = Ed25519PrivateKey.from_private_bytes(private_raw)
    public = fingerprint.public_key_of(private_raw)
    lines = {
        FORMAT: VERSION,
        # A name with a line break would add a line of its own: the name is for people only.
        "file": " ".join(file_name.split()),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "key-sha256": hashlib.sha256(public).hexdigest(),
        "signature": base64.b64encode(key.sign(pdf)).decode(),
    }
    return "".join(f"{name}: {value}\n" for name, value in lines.items()).encode()


def read_signature_file(data: bytes) -> dict[str, str]:
    """The fields of a signature file; EvidenceError when it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EvidenceError("That is not a Sanctum report signature file.") from None
    fields = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    if fields.get(FORMAT) != VERSION or "signature" not in fields:
        raise EvidenceError("That is not a Sanctum report signature file (or one of a newer version).")
    return fields


def verify_report(pdf: bytes, signature_file: bytes, public_key: bytes) -> bool:
    """Whether `public_key` (raw Ed25519) signed exactly these PDF bytes. A malformed signature
    file raises EvidenceError; a wrong key, an altered PDF or a damaged signature is False."""
    fields = read_signature_file(signature_file)
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, pdf)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
