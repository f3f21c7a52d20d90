"""keyceremony.recipes.backup, the recipes API, against real SoftHSM2 tokens (``root``, ``recovery``).

Backup in one token, recovery into another, the canary decrypted inside the HSM, the software
back end unwrapping the HSM's blob, drills that leave nothing behind, and the refusals.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from keyceremony.errors import (
    AmbiguousShareSets,
    CanaryMismatch,
    HSMError,
    KeyCheckMismatch,
    PackageMismatch,
    PackageMissing,
    PackageSignatureError,
    ThresholdNotMet,
)
from keyceremony.keys.backup_package import BackupPackage
from keyceremony.keys.model import KeyAlgorithm
from keyceremony.keys.soft import SoftBackend
from keyceremony.recipes.anchors import Anchors
from keyceremony.recipes.backup import (
    Backup,
    gather_recovery_inputs,
    generate_and_back_up,
    make_backup,
    recover_backup,
    reveal_key,
    write_backup,
)
from keyceremony.recipes.sources import read_shares

RECOVERY = "recovery"


def count_all(softhsm, token: str) -> int:
    """Every object in the token (a logged-in back end of this process makes private ones visible)."""
    with softhsm.raw_session(token) as session:
        return sum(1 for _ in session.get_objects())


def write(backup: Backup, folder: Path, **kwargs) -> list[str]:
    write_backup(backup, folder, cards=False, **kwargs)
    return [str(folder / f"share-{s.x}.txt") for s in backup.shares]


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.AES256, KeyAlgorithm.EC_P256], ids=lambda a: a.value)
def test_hsm_backup_recovers_into_a_second_token(softhsm, root, recovery, label, algorithm, tmp_path):
    backup = generate_and_back_up(root, label, algorithm, 3, 5)
    package = backup.package
    assert package.key_check_value == root.key_check_value(root.find(label))
    shares = write(backup, tmp_path)

    with gather_recovery_inputs([shares[4], shares[0], shares[2]]) as inputs:  # no --package
        assert inputs.package == package and inputs.package_source == shares[4]
        report = recover_backup(recovery, inputs, target=f"token '{RECOVERY}'")
    assert inputs.wrapping_key == bytearray(32)  # wiped on leaving the with block
    key = recovery.find(label, algorithm=algorithm)
    assert recovery.key_check_value(key) == package.key_check_value  # computed in the HSM
    recovery.check_canary(key, package.canary, package.public_key)  # AES: decrypted in the HSM
    attrs = recovery.key_attributes(key)
    assert attrs["SENSITIVE"] and not attrs["EXTRACTABLE"] and attrs["TOKEN"]
    assert report.shares_used == (f"{shares[4]} (share 5)", f"{shares[0]} (share 1)", f"{shares[2]} (share 3)")
    assert "inside token 'recovery'" in report.canary and report.canary.endswith(": OK")
    assert not report.drill
    assert "kept as a token object, not extractable" in report.outcome

    # The software back end opens the HSM's blob too (cross-check of RFC 5649 and the canary).
    with gather_recovery_inputs(shares[1:4]) as inputs, SoftBackend() as soft:
        soft_report = recover_backup(soft, inputs, drill=True)
    assert soft_report.key_check_value == package.key_check_value and soft_report.drill


def test_a_drill_into_the_token_leaves_nothing(softhsm, root, recovery, label, tmp_path):
    backup = generate_and_back_up(root, label, KeyAlgorithm.AES256, 2, 3)
    shares = write(backup, tmp_path)
    before = count_all(softhsm, RECOVERY)
    with gather_recovery_inputs(shares[:2]) as inputs:
        report = recover_backup(recovery, inputs, drill=True, target=f"token '{RECOVERY}'")
    assert count_all(softhsm, RECOVERY) == before
    assert report.drill and report.label == label and "nothing was kept" in report.outcome
    text = report.to_text()
    assert text.startswith("Recovery drill: PASSED") and backup.package.key_check_value.upper() in text
    # a drill into the very token that holds the key works too: it uses a scratch label
    before = count_all(softhsm, "root")
    with gather_recovery_inputs(shares[1:]) as inputs:
        recover_backup(root, inputs, drill=True)
    assert count_all(softhsm, "root") == before


def test_existing_key_and_software_keys(root, label, tmp_path):
    key = root.generate(label, KeyAlgorithm.EC_P256)
    backup = make_backup(root, key, 2, 2)
    assert backup.package.public_key == key.public_key
    for algorithm in (KeyAlgorithm.ED25519, KeyAlgorithm.EC_P256, KeyAlgorithm.AES128):
        with SoftBackend() as soft:
            soft_backup = generate_and_back_up(soft, f"{label}-{algorithm.value}", algorithm, 2, 3)
        folder = tmp_path / algorithm.value
        shares = write(soft_backup, folder)
        with gather_recovery_inputs(shares[1:]) as inputs, SoftBackend() as scratch:
            assert recover_backup(scratch, inputs, drill=True).algorithm == algorithm.value
        with gather_recovery_inputs(shares[:2]) as inputs:
            revealed = reveal_key(inputs)
        if algorithm.is_symmetric:
            assert len(revealed) == 16
        else:
            assert revealed.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_ed25519_in_softhsm_is_refused_and_the_new_key_deleted(softhsm, root, label):
    if softhsm.library_version > (2, 6):
        pytest.skip("this SoftHSM2 wraps EdDSA keys")
    with pytest.raises(HSMError, match="SoftHSM2 2.6.x cannot wrap or unwrap Ed25519") as caught:
        generate_and_back_up(root, label, KeyAlgorithm.ED25519, 2, 3)
    assert any("was deleted again" in note for note in caught.value.__notes__)
    assert root.count_objects(label) == 0


# --- refusals ------------------------------------------------------------------------------------


@pytest.fixture
def soft_backup(label, tmp_path):
    """A software AES backup written to tmp_path (shares carry the package)."""
    with SoftBackend() as soft:
        backup = generate_and_back_up(soft, label, KeyAlgorithm.AES256, 3, 5)
    return backup, write(backup, tmp_path / "a")


def test_too_few_or_foreign_cards(soft_backup, tmp_path, label):
    backup, shares = soft_backup
    with pytest.raises(ThresholdNotMet, match="2 usable share.*bring 1 more"):
        gather_recovery_inputs(shares[:2])
    with SoftBackend() as soft:
        other = generate_and_back_up(soft, label + "-other", KeyAlgorithm.AES256, 3, 5)
    other_shares = write(other, tmp_path / "b")
    with pytest.raises(AmbiguousShareSets, match="belong to 2 different sets"):  # unanchored: which is ours?
        gather_recovery_inputs(shares[:2] + other_shares[:1])
    ours = Anchors(set_fingerprint=read_shares(shares[0])[0][1].fingerprint())
    with pytest.raises(ThresholdNotMet, match="(?s)Set aside:.*belongs to set"):
        gather_recovery_inputs(shares[:2] + other_shares[:1], anchors=ours)
    # the other backup's cards with this backup's package
    with pytest.raises(PackageMismatch, match="the cards come from another backup"):
        gather_recovery_inputs(other_shares[:3], package_path=str(tmp_path / "a" / "package.kcb"))


def test_a_forged_package_is_refused(soft_backup, tmp_path):
    backup, shares = soft_backup
    forged = replace(backup.package, key_check_value="000000")
    (tmp_path / "forged.kcb").write_bytes(forged.to_bytes())
    with pytest.raises(PackageSignatureError, match="forged.kcb: the backup package's signature does not verify"):
        gather_recovery_inputs(shares[:3], package_path=str(tmp_path / "forged.kcb"))
    # share files whose package blocks were all replaced by the forgery: none usable
    for path in shares[:3]:
        text = Path(path).read_text()
        cut = text.index("keyceremony backup package v1")
        Path(path).write_text(text[:cut] + forged.to_text())
    with pytest.raises(PackageMissing, match="signature does not verify"):
        gather_recovery_inputs(shares[:3])


def test_cards_whose_package_could_not_be_read_say_which_code_to_look_for(soft_backup):
    """Only the shares were read (as from scans that missed the smaller code): the error says
    where the package is on a card and what to do, and the wrapping key is never returned."""
    backup, shares = soft_backup
    for path in shares[:3]:
        text = Path(path).read_text()
        Path(path).write_text(text[: text.index("keyceremony backup package v1")])
    with pytest.raises(PackageMissing,
                       match="no backup package was read .*headed 'Backup package'.*300 dpi.*--package"):
        gather_recovery_inputs(shares[:3])


def _resigned(backup: Backup, set_key, **changes) -> BackupPackage:
    """A package re-signed with the real set key: consistent, but not this key's."""
    package = replace(backup.package, **changes)
    return replace(package, signature=set_key.sign(package.signing_input()))


def test_kcv_or_canary_mismatch_leaves_nothing_in_the_token(softhsm, recovery, label, tmp_path, monkeypatch):
    """Packages signed by the set key but holding another key's check value or canary (only
    the ceremony could make these; the test keeps the set key to do it)."""
    import keyceremony.shares.shareset as shareset

    kept = []
    real = shareset.SetKey

    class KeptSetKey(real):
        def close(self) -> None:
            kept.append(self)  # keep the private key for the test

    monkeypatch.setattr(shareset, "SetKey", KeptSetKey)
    with SoftBackend() as soft:
        backup = generate_and_back_up(soft, label, KeyAlgorithm.AES256, 2, 3)
    set_key = kept[0]
    shares = write(backup, tmp_path)
    canary = bytearray(backup.package.canary_value)
    canary[0] ^= 1
    cases = {
        KeyCheckMismatch: _resigned(backup, set_key, key_check_value="000000"),
        CanaryMismatch: _resigned(backup, set_key, canary_value=bytes(canary)),
    }
    for error, package in cases.items():
        (tmp_path / "p.kcb").write_bytes(package.to_bytes())
        before = recovery.count_objects(label)
        with gather_recovery_inputs(shares[:2], package_path=str(tmp_path / "p.kcb")) as inputs:
            with pytest.raises(error, match="not the key that was backed up"):
                recover_backup(recovery, inputs)
        assert recovery.count_objects(label) == before == 0
