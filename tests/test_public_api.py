"""Every `from rlvr… import …` line shown in the README and docs/ still imports."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
IMPORT = re.compile(r"^\s*(from rlvr[\w.]* import [\w, ()]+|import rlvr[\w.]*)\s*(#.*)?$")


def documented_imports() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for line in page.read_text().splitlines():
            match = IMPORT.match(line)
            if match:
                found.append((page.name, match.group(1).strip()))
    return sorted(set(found))


def test_the_docs_show_imports():
    assert len(documented_imports()) >= 5


@pytest.mark.parametrize("page, statement", documented_imports())
def test_documented_import_works(page, statement):
    exec(statement, {})
