"""Preflight: host facts from /sys and /proc, the checks, and "stop" versus "warn"."""

from __future__ import annotations

import pytest
from ceremony_helpers import EXAMPLES, FakeHost, make_engine

from keyceremony.ceremony.ports import SwapArea
from keyceremony.ceremony.preflight import LinuxHostFacts, evaluate
from keyceremony.errors import PreflightFailed
from keyceremony.transcript import verify_transcript


def fake_tree(tmp_path):  # type: ignore[no-untyped-def]
    sys_root, proc_root = tmp_path / "sys", tmp_path / "proc"
    for name, flags in (("lo", "0x49"), ("eth0", "0x1003"), ("wlan0", "0x1002")):
        (sys_root / "class" / "net" / name).mkdir(parents=True)
        (sys_root / "class" / "net" / name / "flags").write_text(flags + "\n")
    (sys_root / "block" / "dm-1" / "dm").mkdir(parents=True)
    (sys_root / "block" / "dm-1" / "dm" / "uuid").write_text("CRYPT-LUKS2-abcdef-swap\n")
    proc_root.mkdir()
    (proc_root / "swaps").write_text(
        "Filename\tType\tSize\tUsed\tPriority\n"
        "/dev/dm-1 partition 1000 0 -2\n/dev/zram0 partition 1000 0 100\n/swapfile file 1000 0 -3\n"
    )
    return LinuxHostFacts(sys_root=sys_root, proc_root=proc_root)


def test_linux_host_facts_from_sys_and_proc(tmp_path):
    host = fake_tree(tmp_path)
    assert host.network_interfaces_up() == ["eth0"]  # lo is loopback, wlan0 is down
    areas = {a.name: a for a in host.swap_areas()}
    assert areas["/dev/dm-1"].encrypted is True
    assert areas["/dev/zram0"].in_memory
    assert areas["/swapfile"].encrypted is None
    policy = [("network", "stop"), ("swap", "warn"), ("hsm", "stop")]
    results = {r.check: r for r in evaluate(host, policy, (True, "ok"))}
    assert results["network"].outcome == "failed" and "eth0" in results["network"].detail
    assert results["swap"].outcome == "warned" and "/swapfile (file, encryption unknown)" in results["swap"].detail
    assert results["hsm"].outcome == "passed"


def test_the_real_host_reports_something():
    host = LinuxHostFacts()
    assert host.system()["os"] and host.software_versions()["keyceremony"]
    assert isinstance(list(host.network_interfaces_up()), list)


def test_encrypted_or_absent_swap_passes():
    good = FakeHost(swap=[SwapArea("/dev/dm-0", "partition", True), SwapArea("/dev/zram0", "partition", None, True)])
    assert [r.outcome for r in evaluate(good, [("swap", "stop")], (True, ""))] == ["passed"]
    assert [r.outcome for r in evaluate(FakeHost(), [("swap", "stop")], (True, ""))] == ["passed"]


def test_a_stop_check_stops_the_ceremony_and_it_resumes_when_fixed(tmp_path):
    # The bundled template stops on a network; this answers file declares no rehearsal.
    text = (EXAMPLES / "key-generation.toml").read_text(encoding="utf-8")
    answers = tmp_path / "answers.toml"
    answers.write_text(text.replace('warn = ["network", "swap"]\n', ""), encoding="utf-8")
    out = tmp_path / "ceremony"
    engine = make_engine("key-generation", answers, out, host=FakeHost(interfaces=["eth0", "wlan0"])).start()
    engine.step()  # roll call
    with pytest.raises(PreflightFailed, match="network interface\\(s\\) up: eth0, wlan0"):
        engine.step()
    engine.close()  # as the command line does; the soft ceremony key is gone
    events = [(e.step, e.event) for e in verify_transcript(out / "transcript.jsonl", require_sealed=False).entries]
    assert ("preflight", "check-failed") in events and ("preflight", "completed") not in events

    engine = make_engine("key-generation", answers, out, host=FakeHost()).start()  # the cable is out now
    result = engine.run()
    entries = result.verified.entries
    resumed = next(e for e in entries if e.event == "resumed")
    assert resumed.data["resume_at"] == "preflight" and "network interface" in resumed.data["previous_error"]
    assert resumed.data["key_changed"] is True and resumed.data["new_key_fingerprint_read_aloud"] is True
    assert [e.event for e in entries if e.step == "preflight"][-6:] == [
        "restarted", "host-recorded", "check-passed", "check-passed", "check-passed", "completed",
    ]  # fmt: skip
    assert len(result.later_fingerprints) == 1


def test_a_rehearsal_turns_stop_into_warn_and_says_so(tmp_path):
    out = tmp_path / "ceremony"
    engine = make_engine("key-generation", EXAMPLES / "key-generation.toml", out,
                         host=FakeHost(interfaces=["eth0"])).start()  # fmt: skip
    engine.step()
    engine.step()
    entry = next(e for e in engine.writer.entries if e.event == "check-warned")
    assert entry.data == {"check": "network", "policy": "warn", "relaxed_for_rehearsal": True,
                          "detail": entry.data["detail"]}  # fmt: skip
    assert engine.writer.entries[0].data["rehearsal"]["checks_relaxed_to_warn"] == ["network", "swap"]
    engine.close()
