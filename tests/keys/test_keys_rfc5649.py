"""RFC 5649 test vectors, checked with cryptography and with SoftHSM2 (tests/vectors/rfc5649)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.soft import SoftBackend

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "rfc5649" / "rfc5649-section6.json").read_text()
)
KEK = bytes.fromhex(VECTORS["kek"])
CASES = [
    (case["name"], bytes.fromhex(case["key"]), bytes.fromhex(case["wrapped"]))
    for case in VECTORS["cases"]
]


@pytest.mark.parametrize(("name", "key", "wrapped"), CASES, ids=[c[0] for c in CASES])
def test_rfc5649_vectors_with_cryptography(name, key, wrapped):
    assert aes_key_wrap_with_padding(KEK, key) == wrapped
    assert aes_key_unwrap_with_padding(KEK, wrapped) == key
    if len(wrapped) > 16:  # RFC 3394 unwrap must reject an RFC 5649 blob (different IV)
        with pytest.raises(InvalidUnwrap):
            aes_key_unwrap(KEK, wrapped)


@pytest.mark.parametrize(("name", "key", "wrapped"), CASES, ids=[c[0] for c in CASES])
def test_rfc5649_vectors_unwrap_in_softhsm(softhsm, root, name, key, wrapped):
    """SoftHSM's C_UnwrapKey(CKM_AES_KEY_WRAP_PAD) honours the RFC 5649 length indicator."""
    from pkcs11 import DEFAULT, Attribute, KeyType, Mechanism, ObjectClass

    caps = (Attribute.ENCRYPT, Attribute.DECRYPT, Attribute.WRAP, Attribute.UNWRAP,
            Attribute.SIGN, Attribute.VERIFY, Attribute.DERIVE)  # fmt: skip
    session = root._session  # the test reaches into the back end's session on purpose
    kek = session.create_object({
        Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
        Attribute.VALUE: KEK, Attribute.TOKEN: False, Attribute.UNWRAP: True,
    })  # fmt: skip
    try:
        secret = kek.unwrap_key(
            ObjectClass.SECRET_KEY, KeyType.GENERIC_SECRET, wrapped,
            mechanism=Mechanism.AES_KEY_WRAP_PAD, store=False,
            template={**{a: DEFAULT for a in caps},
                      Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
        )  # fmt: skip
        assert bytes(secret[Attribute.VALUE]) == key
        secret.destroy()
    finally:
        kek.destroy()


@pytest.mark.parametrize("size", [16, 24, 32])
def test_softhsm_wrap_matches_cryptography_for_aes_keys(root, label, size):
    """RFC 5649 is deterministic: for multiple-of-8 lengths the HSM's blob equals software's."""
    key_bytes = os.urandom(size)
    with SoftBackend() as soft:
        soft_key = soft.import_key("k", KeyAlgorithm.aes(size), key_bytes)
        soft_wrap = soft.import_wrapping_key(bytearray(KEK))
        soft_blob = soft.wrap(soft_wrap, soft_key)
    assert soft_blob.blob == aes_key_wrap_with_padding(KEK, key_bytes)
    hsm_wrap = root.import_wrapping_key(bytearray(KEK))
    in_hsm = root.unwrap(hsm_wrap, soft_blob, label, persistent=False, extractable=True)
    assert root.wrap(hsm_wrap, in_hsm).blob == soft_blob.blob
    root.destroy(in_hsm)
    root.destroy(hsm_wrap)
