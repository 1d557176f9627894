"""pytest plugin loaded into the test run inside the sandbox (Python 3.6+, pytest 4.4+).

It reports every test's outcome as JSON lines on a private duplicate of the original stderr,
each line prefixed by a nonce that it reads from stdin before any conftest or test module is
imported, so printed text (a fake `PASSED x` line, a forged JSON line without the nonce) is
not a result.  It never writes into the repository.
"""

import json
import os
import sys

_NONCE = sys.stdin.readline().strip() if not sys.stdin.closed else ""
_FD = os.dup(2)
os.set_inheritable(_FD, False)
_SEEN = {}
# children (pytester subprocesses) must not load this plugin or wait on stdin
os.environ.pop("PYTEST_PLUGINS", None)


def _emit(record):
    data = (_NONCE + " " + json.dumps(record) + "\n").encode("utf-8", "replace")
    while data:
        written = os.write(_FD, data)
        data = data[written:]


def pytest_collectreport(report):
    if report.failed:
        _emit({"event": "collect_error", "nodeid": report.nodeid})


def pytest_runtest_logreport(report):
    wasxfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            status = "XPASS" if wasxfail else "PASSED"
        elif report.skipped:
            status = "XFAIL" if wasxfail else "SKIPPED"
        else:
            status = "FAILED"
    elif report.failed:
        status = "ERROR"
    elif report.skipped and report.when == "setup":
        status = "XFAIL" if wasxfail else "SKIPPED"
    else:
        return
    previous = _SEEN.get(report.nodeid)
    if previous in ("FAILED", "ERROR"):
        return  # a failed call stays failed whatever teardown says
    _SEEN[report.nodeid] = status
    _emit({"event": "test", "nodeid": report.nodeid, "status": status})


def pytest_sessionfinish(session, exitstatus):
    _emit({"event": "finish", "exitstatus": int(exitstatus)})
