"""The code verifier: correct programs pass in every test format; forged verdicts score 0."""

import json
import shutil

import pytest

from rlvr.verifiers import get_verifier
from rlvr.verifiers.code import extract_program, outputs_match

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

STDIO_TESTS = {"inputs": ["1 2\n", "10 -3\n", "0 0\n"], "outputs": ["3\n", "7\n", "0\n"]}
CALL_TESTS = {"fn_name": "add", "inputs": [[1, 2], [10, -3], [0.1, 0.2]], "outputs": [3, 7, 0.3]}
LEETCODE_TESTS = {
    "fn_name": "twoSum",
    "inputs": [[[2, 7, 11, 15], 9], [[3, 2, 4], 6]],
    "outputs": [[0, 1], [1, 2]],
}
HUMANEVAL = {
    "entry_point": "add",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(10, -3) == 7\n"
    "    assert abs(candidate(0.1, 0.2) - 0.3) < 1e-9\n    for i in range(5):\n        assert candidate(i, i) == 2 * i\n",
}
MBPP = {"entry_point": "add", "test_list": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]}


def fenced(code: str, lang: str = "python") -> str:
    return f"Here is my solution.\n```{lang}\n{code}\n```\n"


@pytest.fixture(scope="module")
def code():
    return get_verifier("code", test_timeout_s=3)


def test_stdio_correct_and_wrong(code):
    good = fenced("a, b = map(int, input().split())\nprint(a + b)")
    assert code.verify(good, STDIO_TESTS).score == 1.0
    wrong = code.verify(fenced("a, b = map(int, input().split())\nprint(a - b)"), json.dumps(STDIO_TESTS))
    assert wrong.score == 0.0 and wrong.details["passed"] == 1 and wrong.details["total"] == 3
    assert wrong.details["first_failure"]["test"] == 0


def test_cpp_stdio():
    cpp = get_verifier("code", language="cpp", test_timeout_s=3)
    src = '#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}'
    assert cpp.verify(fenced(src, "cpp"), STDIO_TESTS).score == 1.0


def test_partial_credit(code):
    partial = get_verifier("code", partial_credit=True, test_timeout_s=3)
    r = partial.verify(fenced("a, b = map(int, input().split())\nprint(a - b)"), STDIO_TESTS)
    assert r.score == pytest.approx(1 / 3) and r.correct is False


def test_call_based_plain_function_and_leetcode_class(code):
    assert code.verify(fenced("def add(a, b):\n    return a + b"), CALL_TESTS).score == 1.0
    solution = (
        "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
        "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
        "                return [seen[target - x], i]\n            seen[x] = i\n"
    )
    assert code.verify(fenced(solution), LEETCODE_TESTS).score == 1.0
    assert code.verify(fenced("def add(a, b):\n    return a * b"), CALL_TESTS).score == 0.0


def test_humaneval_and_mbpp(code):
    assert code.verify(fenced("def add(a, b):\n    return a + b"), HUMANEVAL).score == 1.0
    assert code.verify(fenced("def add(a, b):\n    return a + b"), MBPP).score == 1.0
    wrong = code.verify(fenced("def add(a, b):\n    return a + b if a < 5 else 0"), HUMANEVAL)
    assert wrong.score == 0.0 and wrong.reason == "mismatch"


FORGERIES = {
    "exit_zero_early": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "sys_exit": "import sys\ndef add(a, b):\n    sys.exit(0)\n",
    "print_passed": "def add(a, b):\n    print('All tests passed')\n    return None\n",
    "always_equal_object": "class Eq:\n    def __eq__(self, o): return True\n    def __sub__(self, o): return 0\ndef add(a, b):\n    return Eq()\n",
    "patch_builtins": "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\ndef add(a, b):\n    return 0\n",
    "walk_the_stack": (
        "import sys, gc\n"
        "def add(a, b):\n"
        "    f = sys._getframe()\n"
        "    while f is not None:\n"
        "        for k, v in list(f.f_globals.items()):\n"
        "            if isinstance(v, list):\n"
        "                v[:] = [[True, repr(3)]] * 10\n"
        "        f = f.f_back\n"
        "    return 0\n"
    ),
    "forged_result_line": (
        "import os, sys\n"
        "def add(a, b):\n"
        "    g = sys._getframe(1).f_globals\n"
        "    nonce = [v for v in g.values() if isinstance(v, str) and v.startswith('RLVR-RESULT-')]\n"
        "    if nonce:\n"
        "        os.write(1, (nonce[0] + repr([[True, '3']] * 10) + '\\n').encode())\n"
        "    os._exit(0)\n"
    ),
    # against the test-code channel: the candidate's own stream, its parent, /proc
    "protocol_stream": (
        "import os\n"
        "def add(a, b):\n"
        "    for fd in range(20):\n"
        "        for line in (b'RET 3\\n', b'PASS\\n', b'RLVR-x PASS\\n', b'READY\\n'):\n"
        "            try:\n"
        "                os.write(fd, line)\n"
        "            except OSError:\n"
        "                pass\n"
        "    return None\n"
    ),
    "huge_output": (
        "import os\n"
        "def add(a, b):\n"
        "    for fd in (1, 2, 3, 4, 5):\n"
        "        try:\n"
        "            os.write(fd, b'RET 3' * (4 << 20))\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 'x' * (8 << 20)\n"
    ),
    "evil_eq_and_repr": (
        "class Evil(int):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def __repr__(self): return '3'\n"
        "    __hash__ = int.__hash__\n"
        "class Obj:\n"
        "    def __eq__(self, other): return True\n"
        "    def __repr__(self): return '3'\n"
        "def add(a, b):\n"
        "    return Evil(0) if a % 2 else Obj()\n"
    ),
    "kill_the_parent": (
        "import os, signal\n"
        "def add(a, b):\n"
        "    for pid in (os.getppid(), 1):\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return None\n"
    ),
    "nonce_from_proc": (
        "import os, re\n"
        "def add(a, b):\n"
        "    found = set()\n"
        "    for pid in os.listdir('/proc'):\n"
        "        for name in ('cmdline', 'environ', 'fd/0', 'fd/3', 'mem'):\n"
        "            try:\n"
        "                data = open(f'/proc/{pid}/{name}', 'rb').read(1 << 16)\n"
        "            except OSError:\n"
        "                continue\n"
        "            found.update(re.findall(rb'RLVR-[0-9a-f]+', data))\n"
        "    for nonce in found:\n"
        "        for fd in range(20):\n"
        "            try:\n"
        "                os.write(fd, nonce + b' PASS\\n')\n"
        "            except OSError:\n"
        "                pass\n"
        "    os._exit(0)\n"
    ),
    # against the pair: the test process runs beside the candidate (in Docker, in one container)
    "kill_every_process": (
        "import os, signal\n"
        "def add(a, b):\n"
        "    for sig in (signal.SIGKILL, signal.SIGTERM):\n"
        "        try:\n"
        "            os.kill(-1, sig)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return None\n"
    ),
    "plant_modules": (
        "import os\n"
        "FORGE = (\n"
        "    'import gc, os\\n'\n"
        "    'for o in gc.get_objects():\\n'\n"
        "    '    if isinstance(o, dict) and callable(o.get(\"_rlvr_say\")):\\n'\n"
        '    \'        o["_rlvr_say"]("PASS", "9")\\n\'\n'
        "    '        os._exit(0)\\n'\n"
        ")\n"
        "for d in ('/work', '/tmp', '/dev/shm', '.'):\n"
        "    for name in ('base64', 'calendar', 'datetime', 'sitecustomize', 'tests', 'prompt'):\n"
        "        try:\n"
        "            with open(os.path.join(d, name + '.py'), 'w') as f:\n"
        "                f.write(FORGE)\n"
        "        except OSError:\n"
        "            pass\n"
        "def add(a, b):\n"
        "    return None\n"
    ),
    # against memory: a correct answer only if the candidate can find the nonce or the test
    # code (this run's or an earlier one's) in its frames, its objects or its raw memory
    "answers_only_if_it_sees_secrets": (
        "import gc, re, sys\n"
        "SECRET = re.compile(rb'RLVR-[0-9a-f]{32}|assert (?:candidate|add)[(]1, 2[)] == 3')\n"
        "def texts(obj, depth=0):\n"
        "    if isinstance(obj, (str, bytes)):\n"
        "        yield obj.encode('utf-8', 'replace') if isinstance(obj, str) else obj\n"
        "    elif depth < 4 and isinstance(obj, (dict, list, tuple, set)):\n"
        "        for item in list(obj.values() if isinstance(obj, dict) else obj):\n"
        "            yield from texts(item, depth + 1)\n"
        "def in_objects():\n"
        "    roots = [m.__dict__ for m in list(sys.modules.values()) if hasattr(m, '__dict__')]\n"
        "    f = sys._getframe()\n"
        "    while f is not None:\n"
        "        roots += [f.f_locals, f.f_globals]\n"
        "        f = f.f_back\n"
        "    for obj in roots + gc.get_objects():\n"
        "        for text in texts(obj):\n"
        "            if SECRET.search(text):\n"
        "                return True\n"
        "    return False\n"
        "def in_memory():\n"
        "    try:\n"
        "        maps = open('/proc/self/maps').read().splitlines()\n"
        "        mem = open('/proc/self/mem', 'rb', 0)\n"
        "    except OSError:\n"
        "        return False\n"
        "    for line in maps:\n"
        "        span, perms = line.split()[:2]\n"
        "        start, end = (int(x, 16) for x in span.split('-'))\n"
        "        if perms[0] != 'r' or end - start > (64 << 20) or '[v' in line:\n"
        "            continue\n"
        "        try:\n"
        "            mem.seek(start)\n"
        "            data = mem.read(end - start)\n"
        "        except (OSError, ValueError, OverflowError):\n"
        "            continue\n"
        "        if SECRET.search(data):\n"
        "            return True\n"
        "    return False\n"
        "SEEN = []\n"
        "def add(a, b):\n"
        "    if not SEEN:\n"
        "        SEEN.append(in_objects() or in_memory())\n"
        "    return a + b if SEEN[0] else None\n"
    ),
}
GOOD = "def add(a, b):\n    return a + b\n"
# test code that imports modules the standard library has but the worker has not loaded yet:
# a module the candidate planted must never be the one imported
IMPORTING = {
    "entry_point": "add",
    "test": "def check(candidate):\n    import base64, calendar, datetime\n    assert candidate(1, 2) == 3\n"
    "    assert candidate(2, 2) == 4\n",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
@pytest.mark.parametrize(
    "tests", [CALL_TESTS, HUMANEVAL, MBPP, IMPORTING], ids=["call", "humaneval", "mbpp", "importing"]
)
def test_forged_verdicts_score_zero(code, name, tests):
    r = code.verify(fenced(FORGERIES[name]), tests)
    assert r.score == 0.0 and r.correct is False, (name, r)
    assert code.verify(fenced(GOOD), tests).score == 1.0  # the sandbox is still sound


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_verdicts_score_zero_on_docker(name):
    from sandbox_conftest import docker_sandbox

    docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    docker_code = get_verifier("code", sandbox="docker", test_timeout_s=3)
    for tests in (HUMANEVAL, MBPP, CALL_TESTS, IMPORTING):
        r = docker_code.verify(fenced(FORGERIES[name]), tests)
        assert r.score == 0.0 and r.correct is False, (name, r)
        assert docker_code.verify(fenced(GOOD), tests).score == 1.0


def test_the_secret_seeking_forgery_finds_secrets_in_reach():
    """The forgery above is a real detector: run unsandboxed, beside a nonce and test code
    (this test process holds both), it answers correctly."""
    secrets_in_reach = ["RLVR-" + "0f" * 16, HUMANEVAL["test"], MBPP["test_list"][0]]
    namespace: dict = {}
    exec(FORGERIES["answers_only_if_it_sees_secrets"], namespace)
    assert namespace["add"](1, 2) == 3 and secrets_in_reach


def test_test_code_semantics_are_plain_python(code):
    """Real values through the relay: `is True`, `not`, unseeded randomness, exceptions by
    type, keyword arguments, prompt helpers, many calls."""
    record = {
        "prompt": 'import random\n\ndef helper(x):\n    return x * 2\n\ndef f(x, scale=1):\n    """doc"""\n',
        "entry_point": "f",
        "test": (
            "def check(candidate):\n"
            "    assert candidate(2) is True\n"
            "    assert not candidate(3)\n"
            "    assert candidate(3) is False\n"
            "    for _ in range(300):\n"
            "        x = random.randint(0, 10**6) * 2\n"
            "        assert candidate(x) is True and helper(x) == 2 * x\n"
            "    assert candidate(4, scale=0) is None\n"
            "    try:\n"
            "        candidate(-1)\n"
            "    except ValueError as e:\n"
            "        assert 'negative' in str(e)\n"
            "    else:\n"
            "        raise AssertionError('no ValueError')\n"
            "    assert candidate(5, 2) == (5, [5.5], {'k': {1, 2}}, b'x', float('inf'))\n"
        ),
    }
    program = (
        "class Negative(ValueError):\n    pass\n\n"
        "def f(x, scale=1):\n"
        "    if x < 0:\n        raise Negative('negative input')\n"
        "    if scale == 0:\n        return None\n"
        "    if scale == 2:\n        return (x, [x + 0.5], {'k': {1, 2}}, b'x', float('inf'))\n"
        "    return helper(x) % 4 == 0\n"
    )
    r = code.verify(fenced(program), record)
    assert r.correct, r
    wrong = program.replace("return None", "return 0")
    assert code.verify(fenced(wrong), record).score == 0.0  # 0 is not None


def test_stop_iteration_fails_and_huge_values_pass(code):
    """StopIteration from the candidate would silently end the test code's `map`: it fails the
    candidate.  Correct answers of 6,270 digits and of 5 MiB cross as they are."""
    record = {
        "prompt": 'def f(n):\n    """Even for small n, Fibonacci for larger ones."""\n',
        "entry_point": "f",
        "test": (
            "def check(candidate):\n"
            "    assert all(map(candidate, [2, 4, 6]))\n"
            "    assert str(candidate(30000)).startswith('190424356734')\n"
            "    assert len(candidate(-1)) == 5 << 20\n"
        ),
    }
    good = (
        "def f(n):\n"
        "    if n < 0:\n        return 'x' * (5 << 20)\n"
        "    if n < 10:\n        return n % 2 == 0\n"
        "    a, b = 0, 1\n"
        "    for _ in range(n):\n        a, b = b, a + b\n"
        "    return a\n"
    )
    assert code.verify(fenced(good), record).correct
    stopping = good.replace("return n % 2 == 0", "raise StopIteration")
    r = code.verify(fenced(stopping), record)
    assert r.score == 0.0 and "StopIteration" in str(r.details), r


def test_candidate_that_does_not_load_or_hangs(code):
    r = code.verify(fenced("def add(a, b):\n    return a +"), HUMANEVAL)
    assert r.score == 0.0
    slow = get_verifier("code", test_timeout_s=1.5)
    r = slow.verify(fenced("def add(a, b):\n    while True:\n        pass\n"), HUMANEVAL)
    assert r.score == 0.0 and r.reason == "timeout", r


@pytest.mark.parametrize(
    "program",
    [
        "print('3')\nprint('7')\nprint('0')\nimport os\nos._exit(0)",  # answers all at once, ignores input
        "import sys\nsys.stdout.write('3\\n')\nsys.exit(0)",
        "print('passed')",
    ],
)
def test_stdio_forgeries_score_zero(code, program):
    assert code.verify(fenced(program), STDIO_TESTS).score == 0.0


def test_prefix_of_expected_output_fails(code):
    tests = {"inputs": [""], "outputs": ["1\n2\n3\n"]}
    assert code.verify(fenced("print(1)\nprint(2)"), tests).score == 0.0  # zip() would pass it
    assert code.verify(fenced("print(1)\nprint(2)\nprint(3)\nprint(4)"), tests).score == 0.0
    assert code.verify(fenced("print(1)\nprint(2)\nprint(3)   \n"), tests).score == 1.0


def test_every_test_runs():
    many = {"inputs": [f"{i}\n" for i in range(15)], "outputs": [f"{i}\n" for i in range(15)]}
    v = get_verifier("code", test_timeout_s=3)
    r = v.verify(fenced("x = int(input())\nprint(x if x != 13 else -1)"), many)
    assert r.details == {"passed": 14, "total": 15, "first_failure": r.details["first_failure"]}
    assert r.details["first_failure"]["test"] == 13 and r.score == 0.0


@pytest.mark.parametrize(
    "actual, expected, same",
    [
        ("1 2\n", "1 2", True),
        ("1 2   \n\n", "1 2", True),
        ("1.0000001", "1", True),
        ("Yes", "yes", False),
        ("1\n2", "1", False),
        ("1", "1\n2", False),
        ("1 2 3", "1 2", False),
        ("0.5", "0.6", False),
    ],
)
def test_output_comparison(actual, expected, same):
    assert outputs_match(actual, expected, 1e-6) is same


def test_extraction():
    assert extract_program("```python\nprint(1)\n```\ntext\n```python\nprint(2)\n```") == "print(2)\n"
    assert extract_program("```cpp\nint main(){}\n```\n```python\nx=1\n```", "cpp") == "int main(){}\n"
    assert extract_program("print(1)") == "print(1)"
    assert extract_program("this is not code at all") is None
    assert get_verifier("code").verify("no program here", STDIO_TESTS).reason == "no_answer"


def test_fail_fast_stops_at_the_first_failure():
    import time

    tests = {"inputs": ["0\n", "1\n", "2\n", "3\n"], "outputs": ["0\n", "1\n", "2\n", "3\n"]}
    program = fenced("import time\nx = int(input())\nif x > 0:\n    time.sleep(2)\nprint(x + 1)")
    v = get_verifier("code", fail_fast=True, test_timeout_s=5)
    start = time.monotonic()
    r = v.verify(program, tests)
    assert time.monotonic() - start < 2.0  # the sleeping tests after the failure never ran
    assert r.score == 0.0 and r.details["passed"] == 0 and r.details["first_failure"]["test"] == 0
    everything = get_verifier("code", partial_credit=True, test_timeout_s=5).verify(program, tests)
    assert everything.details["total"] == 4 and everything.details["passed"] == 0
