import sys
from typing import ClassVar

import pytest

from rlvr.errors import UnknownNameError
from rlvr.registry import Registry
from rlvr.types import VerifyResult
from rlvr.verifiers import Verifier, get_verifier, list_verifiers, register_verifier


class ParityVerifier(Verifier):
    """A custom verifier defined in an importable module, as users write them."""

    name: ClassVar[str] = "parity"

    def check(self, completion: str, answer=None) -> VerifyResult:
        even = completion.strip().isdigit() and int(completion) % 2 == 0
        return VerifyResult(score=float(even), correct=even, extracted=completion.strip())


def test_register_and_use_a_custom_verifier():
    register_verifier("parity", ParityVerifier, overwrite=True)
    assert "parity" in list_verifiers()
    v = get_verifier("parity", timeout_s=1)
    assert [r.score for r in v.verify_batch(["2", "3", "x"])] == [1.0, 0.0, 0.0]  # runs in worker processes
    composed = get_verifier("parity,math=0.5").verify("4", "5")  # even, and not the answer 5
    assert composed.details["scores"] == {"parity": 1.0, "math": 0.0}


def test_duplicate_names_are_refused():
    register_verifier("parity2", ParityVerifier)
    with pytest.raises(ValueError, match="already registered"):
        register_verifier("parity2", Verifier)


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match="known: .*math"):
        get_verifier("nonexistent")


def test_bad_option_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="colour"):
        get_verifier("math", colour="red")
    with pytest.raises(ValueError, match="timeout_s"):
        get_verifier("math", timeout_s=-1)


def test_plugins_load_from_entry_points(tmp_path, monkeypatch):
    dist = tmp_path / "rlvr_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rlvr-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[rlvr.test_plugins]\nparity = test_registry:ParityVerifier\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[Verifier] = Registry("verifier", entry_point_group="rlvr.test_plugins")
    assert registry.names() == ["parity"]
    assert registry.get("parity").check("8").correct is True
    assert "test_registry" in sys.modules
