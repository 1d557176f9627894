"""Removing a directory a sandboxed program wrote: host side.

A run may leave a tree thousands of levels deep (shutil.rmtree recurses and dies of
RecursionError), paths longer than PATH_MAX, and directories it made read-only.  The walk
that handles all of these is the zygote's own `empty_dir` (iterative, relative to open
directory fds, each directory made writable as it goes): the host imports it from there,
since the zygote, run inside the sandbox, can import nothing of ours.
"""

from __future__ import annotations

import os

from ._zygote import empty_dir


def remove_tree(path: str | os.PathLike) -> bool:
    """Remove `path` and everything under it; True when it is gone."""
    path = os.fspath(path)
    try:
        os.chmod(path, 0o700)  # the run may have made its top directory read-only too
    except OSError:
        pass
    try:
        if not empty_dir(path):
            return False
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return not os.path.lexists(path)
