"""Removing a directory a sandboxed program wrote: host side.

A run may leave a tree thousands of levels deep (shutil.rmtree recurses and dies of
RecursionError), paths longer than PATH_MAX, and directories it made read-only.  This
walks iteratively, relative to open directory fds, and makes directories writable as it
goes.  (The zygote, which runs inside the sandbox and imports nothing of ours, has its own
copy of the walk: `empty_dir` in _zygote.py.)
"""

from __future__ import annotations

import os

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def remove_tree(path: str | os.PathLike) -> bool:
    """Remove `path` and everything under it; True when it is gone."""
    path = os.fspath(path)
    try:
        if not empty_tree(path):
            return False
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return not os.path.lexists(path)


def empty_tree(top: str) -> bool:
    """Remove everything under the directory `top`; True when it is empty afterwards."""
    try:
        fd = os.open(top, _DIR_FLAGS)
    except OSError:
        return not os.path.isdir(top)
    # one entry per open level: its fd, its name in the level above, the names left in it
    stack: list[tuple[int, str, list[str]]] = [(fd, "", [])]
    try:
        _make_writable(fd)
        stack[0][2].extend(os.listdir(fd))
        while stack:
            fd, name, left = stack[-1]
            if left:
                entry = left.pop()
                try:
                    os.unlink(entry, dir_fd=fd)
                    continue
                except OSError:
                    pass
                child = os.open(entry, _DIR_FLAGS, dir_fd=fd)  # a directory, or the removal fails
                stack.append((child, entry, []))
                _make_writable(child)
                stack[-1][2].extend(os.listdir(child))
                continue
            stack.pop()
            os.close(fd)
            if stack:
                os.rmdir(name, dir_fd=stack[-1][0])
        return True
    except OSError:
        return False
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def _make_writable(fd: int) -> None:
    try:
        os.fchmod(fd, 0o700)
    except OSError:
        pass
