"""The engine with a real SoftHSM2 token: the key and the ceremony key live in the token.

Uses the ``softhsm`` fixture of tests/keys/conftest.py (tokens ``root`` and ``recovery``). The
key generation runs in ``root``; the DR drill uses ``recovery`` as its scratch token.
"""

from __future__ import annotations

import uuid

import pytest
from ceremony_helpers import EXAMPLES, MODULE, USER_PIN, make_engine

from keyceremony.ceremony.adapters import Pkcs11Keys
from keyceremony.ceremony.template import bundled_directory
from keyceremony.keys.pkcs11_signer import CEREMONY_KEY_LABEL_PREFIX, Pkcs11Signer, ceremony_key_label
from keyceremony.transcript import verify_transcript
from keyceremony.transcript.signer import key_fingerprint, signature_verifies


def labels_in(softhsm, token: str) -> list[str]:  # type: ignore[no-untyped-def]
    with softhsm.backend(token) as backend:
        return sorted(str(o.label) for o in backend._s.get_objects())


def template_with_label(tmp_path, label: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "key-generation-hsm.toml"
    text = (bundled_directory() / "key-generation.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('key_label = "root-kek"', f'key_label = "{label}"'), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def hsm_keygen(softhsm, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("hsm-keygen")
    label = f"kek-{uuid.uuid4().hex[:8]}"
    out = tmp / "ceremony"
    engine = make_engine(template_with_label(tmp, label), EXAMPLES / "key-generation.toml", out,
                         keys=Pkcs11Keys(MODULE, "root", USER_PIN))  # fmt: skip
    result = engine.run()
    return label, out, result


def test_pkcs11_signer_signs_with_eddsa_in_the_token(softhsm):
    with softhsm.backend("root") as backend:
        signer = Pkcs11Signer.generate(backend, ceremony_key_label("unit-test"))
        message = b"keyceremony transcript entry v1\x00{}"
        signature = signer.sign(message)
        assert len(signer.public_key) == 32 and signature_verifies(signer.public_key, message, signature)
        again = Pkcs11Signer.find(backend, ceremony_key_label("unit-test"))
        assert again is not None and again.public_key == signer.public_key
        signer.destroy()
        signer.destroy()  # idempotent
        assert Pkcs11Signer.find(backend, ceremony_key_label("unit-test")) is None
        with pytest.raises(Exception, match="destroyed"):
            signer.sign(message)


def test_key_generation_in_a_token(softhsm, hsm_keygen):
    label, out, result = hsm_keygen
    verified = result.verified
    generated = next(e.data for e in verified.entries if e.event == "key-generated")
    assert generated["store"] == "token 'root'" and generated["persistent"] is True
    host = next(e.data for e in verified.entries if e.event == "host-recorded")
    assert host["store"]["token_label"] == "root" and host["store"]["wrap_mechanism"] == "CKM_AES_KEY_WRAP_PAD"
    assert "SoftHSM" in host["store"]["library"]
    assert verified.resumes == 0 and not result.later_fingerprints
    assert verified.meta["backend"] == "pkcs11" and verified.meta["token_label"] == "root"
    # The key stays in the token with the recorded check value; the ceremony key is gone.
    with softhsm.backend("root") as backend:
        key = backend.find(label)
        assert backend.key_check_value(key) == generated["kcv"]
        assert backend.count_objects(ceremony_key_label(verified.ceremony_id)) == 0
    assert not [n for n in labels_in(softhsm, "root") if n.startswith(CEREMONY_KEY_LABEL_PREFIX)]


def test_dr_drill_in_a_scratch_token_leaves_nothing(softhsm, hsm_keygen, tmp_path, monkeypatch):
    label, keygen_out, keygen_result = hsm_keygen
    monkeypatch.setenv("KEYGEN_DIR", str(keygen_out))
    before = labels_in(softhsm, "recovery")
    out = tmp_path / "drill"
    keys = Pkcs11Keys(MODULE, "recovery", USER_PIN)
    result = make_engine("dr-drill", EXAMPLES / "dr-drill.toml", out, keys=keys).run()
    report = next(e.data for e in result.verified.entries if e.event == "drill-report")
    kcv = next(e.data["kcv"] for e in keygen_result.verified.entries if e.event == "key-generated")
    assert report["outcome"] == "PASSED" and report["kcv"] == kcv and report["key_label"] == label
    assert report["store"] == "token 'recovery'"
    assert labels_in(softhsm, "recovery") == before  # no drill copy, no ceremony key


def test_a_crash_keeps_the_token_key_and_the_ceremony_key(softhsm, tmp_path):
    """After an interruption the token still has both keys: no new segment, no new key."""
    label = f"kek-{uuid.uuid4().hex[:8]}"
    template = template_with_label(tmp_path, label)
    out = tmp_path / "ceremony"
    first = make_engine(template, EXAMPLES / "key-generation.toml", out, keys=Pkcs11Keys(MODULE, "root", USER_PIN))
    first.start()
    for _ in range(3):  # roll call, preflight, generate-key
        first.step()
    first.writer.close()
    first.backend.close()  # logs out; token objects stay, as after a crash
    second = make_engine(template, EXAMPLES / "key-generation.toml", out, keys=Pkcs11Keys(MODULE, "root", USER_PIN))
    result = second.run()
    resumed = next(e for e in result.verified.entries if e.event == "resumed")
    assert resumed.data["key_changed"] is False and resumed.fingerprint == result.fingerprint
    assert not result.later_fingerprints
    events = [e.event for e in result.verified.entries if e.step == "generate-key"]
    assert events == ["generating", "key-generated", "completed"]
    verify_transcript(out / "transcript.jsonl", expected_fingerprint=key_fingerprint(resumed.key))


def test_a_key_made_just_before_a_crash_is_discarded(softhsm, tmp_path):
    """The token made the key, but the program died before recording it: it has no backup and
    is deleted when the step starts over (and the transcript says so)."""
    label = f"kek-{uuid.uuid4().hex[:8]}"
    template = template_with_label(tmp_path, label)
    out = tmp_path / "ceremony"

    class Crash(Exception):
        pass

    def crash_after_generating(step_id, entry):  # type: ignore[no-untyped-def]
        if entry.event == "generating":
            raise Crash

    first = make_engine(template, EXAMPLES / "key-generation.toml", out, keys=Pkcs11Keys(MODULE, "root", USER_PIN),
                        on_entry=crash_after_generating)  # fmt: skip
    first.start()
    first.step()
    first.step()
    with pytest.raises(Crash):
        first.step()
    from keyceremony.keys.model import KeyAlgorithm

    first.backend.generate(label, KeyAlgorithm.AES256)  # what the token did before the "crash"
    first.writer.close()
    first.backend.close()
    keys = Pkcs11Keys(MODULE, "root", USER_PIN)
    result = make_engine(template, EXAMPLES / "key-generation.toml", out, keys=keys).run()
    events = [e.event for e in result.verified.entries if e.step == "generate-key"]
    assert events == ["generating", "restarted", "discarded", "generating", "key-generated", "completed"]


def test_recovery_ceremony_into_a_token_keeps_a_non_extractable_key(softhsm, hsm_keygen, tmp_path, monkeypatch):
    """The recovery template on SoftHSM2: cards 2, 4 and 5 of the token-made key rebuild it in
    token 'recovery', where it stays, non-extractable, with the check value recorded at
    generation, and the canary was decrypted inside the token."""
    from keyceremony.errors import HSMError
    from keyceremony.keys.model import KeyAlgorithm

    label, keygen_out, keygen_result = hsm_keygen
    monkeypatch.setenv("KEYGEN_DIR", str(keygen_out))
    out = tmp_path / "recovery"
    keys = Pkcs11Keys(MODULE, "recovery", USER_PIN)
    result = make_engine("recovery", EXAMPLES / "recovery.toml", out, keys=keys).run()
    recovered = next(e.data for e in result.verified.entries if e.event == "key-recovered")
    generated = next(e.data for e in keygen_result.verified.entries if e.event == "key-generated")
    assert recovered["key_label"] == label and recovered["kcv"] == generated["kcv"]
    assert recovered["persistent"] and not recovered["extractable"]
    assert recovered["store"] == "token 'recovery'"
    tested = next(e.data for e in result.verified.entries if e.event == "key-tested")
    assert "inside token 'recovery'" in tested["canary"]
    try:
        with softhsm.backend("recovery") as backend:
            key = backend.find(label, algorithm=KeyAlgorithm.AES256)
            assert backend.key_check_value(key) == generated["kcv"]
            attrs = backend.key_attributes(key)
            assert attrs["TOKEN"] and attrs["SENSITIVE"] and not attrs["EXTRACTABLE"]
            wrapping = backend.import_wrapping_key(bytearray(32))
            with pytest.raises(HSMError, match="not extractable"):
                backend.wrap(wrapping, key)
            backend.destroy(wrapping)
        assert not [n for n in labels_in(softhsm, "recovery") if n.startswith(CEREMONY_KEY_LABEL_PREFIX)]
    finally:
        with softhsm.backend("recovery") as backend:
            backend.destroy(backend.find(label, algorithm=KeyAlgorithm.AES256))
