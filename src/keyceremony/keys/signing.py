"""Public-key helpers shared by the back ends: SPKI encoding, signature formats, verification.

Only public values pass through here. Verification always happens in software with
``cryptography`` against the public key from the backup package, whichever back end signed.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from keyceremony.keys.model import KeyAlgorithm

P256_COORD_BYTES = 32
ED25519_KEY_BYTES = 32
# DER of the named-curve OIDs, as PKCS#11 CKA_EC_PARAMS carries them.
EC_PARAMS_P256 = bytes.fromhex("06082a8648ce3d030107")  # 1.2.840.10045.3.1.7 (secp256r1)
EC_PARAMS_ED25519 = bytes.fromhex("06032b6570")  # 1.3.101.112 (id-Ed25519, RFC 8410)


def spki_from_ec_point(algorithm: KeyAlgorithm, point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo from a raw point (P-256: ``04||X||Y``; Ed25519: 32 bytes).

    Raises ``ValueError`` if the point is not a valid public key of that algorithm.
    """
    if algorithm is KeyAlgorithm.EC_P256:
        pub: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey = (
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        )
    elif algorithm is KeyAlgorithm.ED25519:
        pub = ed25519.Ed25519PublicKey.from_public_bytes(point)
    else:
        raise ValueError(f"{algorithm.value} has no public key")
    return pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ec_point_from_spki(algorithm: KeyAlgorithm, spki_der: bytes) -> bytes:
    """The raw point of a SubjectPublicKeyInfo (inverse of :func:`spki_from_ec_point`)."""
    pub = load_public_key(algorithm, spki_der)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(
    algorithm: KeyAlgorithm, spki_der: bytes
) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
    """Parse a DER SubjectPublicKeyInfo and check it is a key of ``algorithm``.

    Raises ``ValueError`` for malformed DER or a key of another type or curve.
    """
    pub = serialization.load_der_public_key(bytes(spki_der))
    if algorithm is KeyAlgorithm.EC_P256:
        if isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, ec.SECP256R1):
            return pub
    elif algorithm is KeyAlgorithm.ED25519:
        if isinstance(pub, ed25519.Ed25519PublicKey):
            return pub
    raise ValueError(f"the public key is not a {algorithm.value} key")


def ecdsa_raw_to_der(raw: bytes) -> bytes:
    """PKCS#11 ``CKM_ECDSA`` returns ``r||s``; convert to the DER ``Ecdsa-Sig-Value``."""
    if len(raw) != 2 * P256_COORD_BYTES:
        raise ValueError(f"a raw P-256 ECDSA signature is 64 bytes, got {len(raw)}")
    r = int.from_bytes(raw[:P256_COORD_BYTES], "big")
    s = int.from_bytes(raw[P256_COORD_BYTES:], "big")
    return encode_dss_signature(r, s)


def signature_verifies(
    algorithm: KeyAlgorithm, spki_der: bytes, message: bytes, signature: bytes
) -> bool:
    """True iff ``signature`` (DER ECDSA-SHA256 or raw Ed25519) verifies under the SPKI key.

    Returns a bool (not raising) because callers turn a failure into a specific domain error
    with context; a malformed public key raises ``ValueError``.
    """
    pub = load_public_key(algorithm, spki_der)
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            pub.verify(signature, message)
    except InvalidSignature:
        return False
    return True
