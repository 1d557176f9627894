"""Functions the pool tests send to worker processes (they must be importable there)."""

import os
import signal
import time


def square(x: int) -> int:
    return x * x


def python_loop(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def c_level_hang(_: int) -> int:
    """Like C code that never checks for signals: the worker's soft limit cannot stop it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    while True:
        pass


def die(_: int) -> None:
    os._exit(3)


def fail(message: str) -> None:
    raise ValueError(message)


def allocate(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    return len(block)


def my_pid(_: int) -> int:
    return os.getpid()


def square_or_hang(x: int) -> int:
    """Negative numbers hang in C; the others are squared."""
    return c_level_hang(x) if x < 0 else x * x


def length_or_hang(x: int, payload: str) -> int:
    """Negative x hangs in C; otherwise the payload's length."""
    return c_level_hang(x) if x < 0 else len(payload)
