"""Test environments as data: one YAML file per repository, one entry per version.

A file holds `repo`, optional `defaults`, and `versions: {VERSION: {...}}`; each entry is
`defaults` updated by its own keys.  Users add a repository by dropping a file in a directory
passed as `spec_dirs`; a user's entry replaces the shipped one for the same (repo, version).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rlvr.errors import ConfigError

from .grading import LOG_PARSERS
from .records import SWEInstance

# a folder name that is no Python identifier: setuptools would take `specs/` for a package
SHIPPED = Path(__file__).with_name("env-specs")
BUILD_RECIPE = 3  # bump when envs.build_env changes what a built environment holds


class EnvSpec(BaseModel):
    """How to build, install and test one (repo, version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: str
    version: str
    python: str = Field(pattern=r"^\d+\.\d+$", description="Interpreter major.minor, e.g. 3.9.")
    packages: list[str] = Field(default_factory=list, description="Pinned requirements, installed from PyPI.")
    build_packages: list[str] = Field(
        default_factory=list, description="Build tools for the offline install."
    )
    pre_install: list[str] = Field(default_factory=list, description="Shell lines run in the tree first.")
    install: str = Field("", description="Installs the repository in the sandbox, offline.")
    install_env: dict[str, str] = Field(default_factory=dict)
    test_cmd: str = "pytest -rA"
    log_parser: str = "pytest"
    test_args: Literal["paths", "django_labels"] = Field(
        "paths", description="How test files are named to test_cmd: paths, or django's module labels."
    )
    structured: bool = Field(True, description="The runner is pytest: results come from the rlvr plugin.")
    checked: bool = Field(False, description="Evaluated offline by this project (gold resolves).")

    @property
    def key(self) -> str:
        """Cache key: changes whenever anything that shapes the environment changes."""
        facts = [BUILD_RECIPE, self.python, sorted(self.packages), sorted(self.build_packages)]
        digest = hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:12]
        return f"{self.repo.replace('/', '__')}-{self.version}-py{self.python}-{digest}"

    def test_targets(self, test_files: list[str]) -> list[str]:
        """The arguments naming the tests to run: `tests/a/b.py` is `a.b` for django's runtests.py."""
        if self.test_args == "paths":
            return list(test_files)
        return [
            f.removeprefix("tests/").removesuffix(".py").replace("/", ".")
            for f in test_files
            if f.endswith(".py")
        ]

    def rendered_install_env(self) -> dict[str, str]:
        return {k: v.replace("{version}", self.version) for k, v in self.install_env.items()}


def _load_file(path: Path) -> dict[tuple[str, str], EnvSpec]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "repo" not in data or not isinstance(data.get("versions"), dict):
        raise ConfigError(str(path), "needs `repo` and a `versions` mapping")
    defaults = data.get("defaults") or {}
    specs = {}
    for version, entry in data["versions"].items():
        merged = {**defaults, **(entry or {}), "repo": data["repo"], "version": str(version)}
        try:
            spec = EnvSpec.model_validate(merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: versions.{version}.{field}", first["msg"]) from None
        if spec.log_parser not in LOG_PARSERS:
            raise ConfigError(f"{path}: versions.{version}.log_parser", f"unknown {spec.log_parser!r}")
        specs[(spec.repo, spec.version)] = spec
    return specs


@lru_cache(maxsize=16)
def _load_dirs(dirs: tuple[str, ...]) -> dict[tuple[str, str], EnvSpec]:
    specs: dict[tuple[str, str], EnvSpec] = {}
    for directory in (str(SHIPPED), *dirs):
        root = Path(directory)
        if not root.is_dir():
            raise ConfigError("spec_dirs", f"{root} is not a directory")
        for path in sorted(root.glob("*.y*ml")):
            specs.update(_load_file(path))
    return specs


def all_specs(spec_dirs: tuple[str, ...] = ()) -> dict[tuple[str, str], EnvSpec]:
    return dict(_load_dirs(tuple(str(d) for d in spec_dirs)))


def spec_for(instance: SWEInstance, spec_dirs: tuple[str, ...] = ()) -> EnvSpec:
    specs = _load_dirs(tuple(str(d) for d in spec_dirs))
    spec = specs.get((instance.repo, instance.version))
    if spec is None:
        known = sorted(v for r, v in specs if r == instance.repo)
        hint = f"known versions: {', '.join(known)}" if known else "no spec for this repository"
        raise ConfigError(
            f"{instance.instance_id}.version",
            f"no environment spec for {instance.repo} {instance.version!r} ({hint}); add one in YAML",
        )
    return spec
