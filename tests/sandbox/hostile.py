"""Hostile programs and the harmless check that must follow each of them, shared by the
adversarial tests and by `adversarial_sequence.py` (the same sequence run in a subprocess
inside a pid namespace or a limited cgroup)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hostile:
    """One attack: the program, the statuses that mean it was contained, and an optional
    expected stdout (for attacks that must not disturb the program's own result)."""

    name: str
    code: str
    statuses: tuple[str, ...]
    stdout: str | None = None
    options: dict = field(default_factory=dict)

    def check(self, result) -> str | None:
        """None when contained and classified as expected, else what went wrong."""
        if result.status not in self.statuses:
            return f"{self.name}: status {result.status!r}, expected one of {self.statuses}: {result.stderr[-300:]!r}"
        if self.stdout is not None and result.stdout != self.stdout:
            return f"{self.name}: stdout {result.stdout[:200]!r}, expected {self.stdout!r}"
        return None


HOSTILE = [
    Hostile(
        "thread_bomb",  # the program of issue 14: non-daemon threads keep the process alive
        "import threading, time\nts = []\nwhile True:\n"
        "    t = threading.Thread(target=time.sleep, args=(100,)); t.start(); ts.append(t)\n",
        ("timeout", "runtime_error"),
    ),
    Hostile(
        "fork_bomb",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        ("timeout", "runtime_error", "memory_limit"),
    ),
    Hostile(
        "memory_bomb",
        "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n",
        ("memory_limit",),
        options={"timeout_s": 5.0},  # it ends at the memory limit; no need to race a loaded machine
    ),
    Hostile("infinite_loop", "while True:\n    pass\n", ("timeout",)),
    Hostile(
        "ignores_sigterm",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n",
        ("timeout",),
    ),
    Hostile(
        "cpu_hog_threads",
        "import threading\ndef spin():\n    while True:\n        pass\n"
        "for _ in range(4):\n    threading.Thread(target=spin).start()\n",
        ("timeout",),
    ),
    Hostile(
        "sleeping_child",
        "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nprint('parent done')\n",
        ("ok",),
        stdout="parent done\n",
        options={"timeout_s": 5.0},  # it ends at once; no need to race a loaded machine
    ),
    Hostile(
        "daemons_filling_the_pids_limit",  # exits at once, leaving sleepers that hold pids
        "import os, time\nfor _ in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n"
        "        break\n    if pid == 0:\n        os.setsid()\n        time.sleep(1000)\n        os._exit(0)\n"
        "print('forked')\n",
        ("ok",),
        stdout="forked\n",
        options={"timeout_s": 5.0},
    ),
    Hostile(
        "daemon_holding_the_output_open",
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(1000)\nprint('main done')\n",
        ("ok",),
        stdout="main done\n",
        options={"timeout_s": 5.0},
    ),
    Hostile(
        "output_flood",
        "import sys\nchunk = 'x' * 1024 * 1024\nfor _ in range(100):\n    sys.stdout.write(chunk)\n",
        ("output_limit",),
    ),
    Hostile(
        "kills_its_parent",
        "import os, signal\nfor pid in (os.getppid(), 1, -1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n        pass\nos.killpg(0, signal.SIGKILL)\n",
        ("runtime_error", "ok", "sandbox_error"),
    ),
    Hostile(
        "fills_the_disk",
        "i = 0\nwhile True:\n    with open(f'/work/f{i}', 'wb') as f:\n"
        "        f.write(b'x' * (8 * 1024 * 1024))\n    i += 1\n",
        ("runtime_error", "memory_limit", "timeout"),
    ),
    Hostile(  # a real fault (tuple hashing recurses in C until the stack overflows), not a
        # signal the program sends itself: in the local zygote the program is PID 1 of its pid
        # namespace, and a PID 1 does not receive signals it sends itself without a handler
        "segfault",
        "x = ()\nfor _ in range(1000000):\n    x = (x,)\nprint(hash(x))\n",
        ("runtime_error",),
        options={"timeout_s": 5.0},
    ),
]
BY_NAME = {h.name: h for h in HOSTILE}
# the ones that stress what outlives a run (processes, pids, output pipes): the compact sequence
COMPACT = [
    "thread_bomb",
    "fork_bomb",
    "memory_bomb",
    "infinite_loop",
    "daemons_filling_the_pids_limit",
    "daemon_holding_the_output_open",
    "output_flood",
    "kills_its_parent",
]

HARMLESS = "import sys\nprint(sys.stdin.read()[::-1])\n"


def harmless_check(sandbox) -> str | None:
    """The run after a hostile one: a plain program must come back `ok` with its own output."""
    token = secrets.token_hex(8)
    result = sandbox.run(HARMLESS, stdin=token, timeout_s=10.0)
    if (result.status, result.stdout) != ("ok", token[::-1] + "\n"):
        return f"harmless run after it: {result.status} {result.stdout[:100]!r} {result.stderr[-300:]!r}"
    return None
