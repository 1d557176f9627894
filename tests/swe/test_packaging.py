"""The shipped environment specs are package data: a wheel (non-editable install) holds them, and
setuptools builds it without the warning that a data folder looks like an unlisted package."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel (~15 s)
ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_the_env_specs(tmp_path):
    pytest.importorskip("setuptools")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    src = tmp_path / "src"
    for name in listed.stdout.splitlines():
        if (ROOT / name).is_file() and not name.startswith("models"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-v",
            ".",
        ],
        cwd=src,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    assert "absent from the `packages` configuration" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("rlvr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("rlvr/benchmarks/swe/env-specs/")}
    assert {Path(p).name for p in (ROOT / "benchmarks/swe/env-specs").glob("*.yaml")} <= shipped
    assert "rlvr/benchmarks/swe/rlvr_swe_result.py" in names
