"""A verifier whose items can sleep, hang in C, or kill their worker: failure injection for the
server's fault tests (imported by the pool workers, so it lives in its own module).

Completion grammar: `sleep:S ANSWER`, `hang`, `die`, `die-once:PATH ANSWER`, or just `ANSWER`;
the reward is 1.0 when ANSWER equals the reference answer.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, ClassVar

from rlvr.types import VerifyResult
from rlvr.verifiers import Verifier, register_verifier


class FaultyVerifier(Verifier):
    name: ClassVar[str] = "faulty"
    timeout_s: float = 3.0

    def check(self, completion: str, answer: Any) -> VerifyResult:
        head, _, rest = completion.partition(" ")
        if head == "hang":
            signal.pthread_sigmask(
                signal.SIG_BLOCK, [signal.SIGALRM]
            )  # like C code: the soft limit cannot stop it
            while True:
                pass
        if head == "die":
            os._exit(3)
        if head.startswith("die-once:"):
            marker = Path(head.split(":", 1)[1])
            if not marker.exists():
                marker.write_text("died")
                os._exit(3)
            completion = rest
        elif head.startswith("sleep:"):
            import time

            time.sleep(float(head.split(":", 1)[1]))
            completion = rest
        correct = completion.strip() == str(answer)
        return VerifyResult(score=1.0 if correct else 0.0, correct=correct, extracted=completion.strip())


def register() -> None:
    register_verifier("faulty", FaultyVerifier, overwrite=True)
