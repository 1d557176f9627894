"""Pair runs (`Sandbox.run(..., peer=...)`): a main program and a peer wired by two pipes, on
every backend.  The peer reaches the main only through those pipes: not its stdin, its
result, its memory or its import path.  Hostile peers are in test_adversarial.py."""

import secrets

import pytest

from rlvr.errors import ConfigError
from rlvr.sandbox import get_sandbox

ECHO_PEER = (
    "import os, sys\n"
    "print('peer stderr noise', file=sys.stderr)\n"
    "for line in sys.stdin:\n"
    "    print(int(line) * 2, os.listdir('/work') if line == '0\\n' else '', flush=True)\n"
)
ASKING_MAIN = (
    "import os, sys\n"
    "calls, replies = os.fdopen(3, 'w'), os.fdopen(4)\n"
    "for i in range(3):\n"
    "    calls.write(f'{i}\\n'); calls.flush()\n"
    "    print('got', replies.readline().strip())\n"
    "print('stdin', sys.stdin.read())\n"
    "print('cwd', os.getcwd(), '/work' in sys.path)\n"
)


def test_main_and_peer_talk_over_fds_3_and_4(sandbox):
    r = sandbox.run(ASKING_MAIN, stdin="hello", peer={"code": ECHO_PEER, "files": {"data.txt": b"x"}})
    assert r.status == "ok", r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("got 0 ") and "data.txt" in lines[0] and "main.py" in lines[0]
    assert lines[1:] == ["got 2", "got 4", "stdin hello", "cwd / False"]
    assert "noise" not in r.stdout + r.stderr  # the peer's stderr is dropped


def test_a_pair_is_validated_before_it_runs(sandbox):
    with pytest.raises(ConfigError, match="files"):
        sandbox.run("print(1)", files={"a.txt": b"x"}, peer={"code": ECHO_PEER})
    with pytest.raises(ConfigError, match="language"):
        sandbox.run("echo 1", language="bash", peer={"code": ECHO_PEER})
    with pytest.raises(ConfigError, match="peer"):
        sandbox.run("print(1)", peer={"code": "int main(){}", "language": "cpp"})
    with pytest.raises(ConfigError, match="files"):
        sandbox.run("print(1)", peer={"code": ECHO_PEER, "files": {"../x": b""}})


# The peer looks everywhere for the secret the main program got on its stdin and tries to
# write into the main's result, then reports to the main, which prints what it heard.
SNOOPING_PEER = r"""
import os, re, sys
secret = re.compile(rb'SECRET-[0-9a-f]{32}')
found = set()
me = os.readlink('/proc/self')  # this process as /proc numbers it (its pid namespace may differ)
for pid in os.listdir('/proc'):
    if not pid.isdigit() or pid == me:
        continue
    for name in ('cmdline', 'environ', 'fd/0', 'fd/1', 'fd/3', 'fd/4'):
        try:  # non-blocking: another process's stdin pipe may never deliver anything
            fd = os.open(f'/proc/{pid}/{name}', os.O_RDONLY | os.O_NONBLOCK)
            try:
                found.update(secret.findall(os.read(fd, 1 << 16)))
            finally:
                os.close(fd)
        except OSError:
            pass
    try:
        regions = [line.split()[0].split('-') for line in open(f'/proc/{pid}/maps')]
        with open(f'/proc/{pid}/mem', 'rb') as mem:
            for start, end in regions:
                try:
                    mem.seek(int(start, 16))
                    found.update(secret.findall(mem.read(min(int(end, 16) - int(start, 16), 1 << 24))))
                except (OSError, ValueError, OverflowError):
                    pass
    except OSError:
        pass
    for fd in ('1', '2'):
        try:
            out = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(out, b'FORGED by the peer\n')
            finally:
                os.close(out)
        except OSError:
            pass
for fd in range(3, 40):
    try:
        os.write(fd, b'FORGED by the peer\n')
    except OSError:
        pass
print('found' if found else 'nothing', flush=True)
"""
LISTENING_MAIN = (
    "import os, sys\n"
    "secret = sys.stdin.read()\n"
    "replies = os.fdopen(4)\n"
    "print('peer says', replies.readline().strip())\n"
)


def test_the_peer_cannot_read_the_mains_input_or_write_its_result(sandbox):
    token = "SECRET-" + secrets.token_hex(16)
    r = sandbox.run(LISTENING_MAIN, stdin=token, timeout_s=20, peer={"code": SNOOPING_PEER})
    assert (r.status, r.stdout) == ("ok", "peer says nothing\n"), r
    assert "FORGED" not in r.stderr


PLANTING_PEER = r"""
import os
evil = "import sys\nprint('PLANTED', file=sys.__stderr__)\nraise SystemExit('PLANTED')\n"
for d in ('/work', '/tmp', '/dev/shm', '.'):
    for name in ('base64', 'datetime', 'calendar', 'fnmatch', 'sitecustomize', 'main'):
        try:
            with open(os.path.join(d, name + '.py'), 'w') as f:
                f.write(evil)
        except OSError:
            pass
print('planted', flush=True)
"""
IMPORTING_MAIN = (
    "import os, sys\n"
    "replies = os.fdopen(4)\n"
    "assert replies.readline() == 'planted\\n'\n"
    "import base64, datetime, calendar, fnmatch\n"
    "print('imported', all(m.__file__.startswith('/usr/') for m in (base64, datetime, calendar, fnmatch)))\n"
)


def test_files_the_peer_writes_are_not_on_the_mains_import_path(sandbox):
    r = sandbox.run(IMPORTING_MAIN, timeout_s=10, peer={"code": PLANTING_PEER})
    assert (r.status, r.stdout) == ("ok", "imported True\n"), r
    assert "PLANTED" not in r.stderr


def test_the_main_sees_the_end_of_a_peer_that_exits(sandbox):
    main = "import os\nprint(repr(os.fdopen(4).read()))\n"
    r = sandbox.run(main, timeout_s=5, peer={"code": "print('bye', flush=True)\nimport os\nos._exit(3)\n"})
    assert (r.status, r.stdout) == ("ok", "'bye\\n'\n"), r


def test_a_pair_that_never_ends_times_out(sandbox):
    main = "import os\nos.fdopen(4).readline()\n"
    r = sandbox.run(main, timeout_s=1.0, peer={"code": "import time\ntime.sleep(60)\n"})
    assert r.status == "timeout" and r.duration_s < 3.0


def test_pairs_on_the_fork_fallback_path():
    """fork + unshare + fork: the namespace holders must not keep a pipe end of the pair
    open, or the main would never see its peer end."""
    import shutil

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    sb = get_sandbox("local", use_clone=False, pool_size=1)
    try:
        assert sb.run(ASKING_MAIN, stdin="x", peer={"code": ECHO_PEER}).stdout.endswith("cwd / False\n")
        main = "import os\nprint(repr(os.fdopen(4).read()))\n"
        r = sb.run(main, timeout_s=5, peer={"code": "print('bye')\n"})
        assert (r.status, r.stdout) == ("ok", "'bye\\n'\n"), r
    finally:
        sb.close()


def test_a_worker_serving_many_pairs_holds_no_more_files_than_after_its_first():
    from sandbox_conftest import worker_open_files

    sandbox = get_sandbox("local", pool_size=1)
    try:
        assert sandbox.run(ASKING_MAIN, peer={"code": ECHO_PEER}).status == "ok"
        before = worker_open_files(sandbox)
        results = [sandbox.run(ASKING_MAIN, stdin=str(i), peer={"code": ECHO_PEER}) for i in range(100)]
        assert all(r.stdout.endswith(f"stdin {i}\ncwd / False\n") for i, r in enumerate(results))
        assert worker_open_files(sandbox) <= before
    finally:
        sandbox.close()
