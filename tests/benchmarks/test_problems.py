import json

import pytest

from rlvr.benchmarks import content_hash, generate, list_benchmarks, load_problems, render_prompt
from rlvr.errors import ConfigError, InputFileError, UnknownNameError
from rlvr.verifiers import get_verifier

SIZES = {"math500": 500, "aime24": 30, "aime25": 30, "amc23": 40, "gpqa_diamond": 198}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_local_benchmarks_load_completely(shared_data, name):
    problems = load_problems(name, data_dir=shared_data / "benchmarks")
    digest = content_hash(problems)
    assert len(problems) == SIZES[name]
    assert len({p.id for p in problems}) == len(problems)
    assert all(p.question and p.answer not in (None, "") for p in problems)
    assert content_hash(load_problems(name, data_dir=shared_data / "benchmarks")) == digest  # stable hash


def test_math500_keeps_level_and_subject(shared_data):
    problems = load_problems("math500", data_dir=shared_data / "benchmarks", limit=5)
    assert len(problems) == 5 and {"level", "subject"} <= set(problems[0].metadata)


def test_gpqa_options_are_shuffled_with_a_fixed_seed_and_scored_by_letter(shared_data):
    problems = load_problems("gpqa_diamond", data_dir=shared_data / "benchmarks")
    digest = content_hash(problems)
    letters = {p.answer for p in problems}
    assert letters == {"A", "B", "C", "D"}  # the original data has the answer mostly in one place
    p = problems[0]
    assert p.metadata["options"][ord(p.answer) - ord("A")] == p.metadata["correct"]
    assert p.question.count("(A)") == 1 and "A. " not in p.question  # options listed once, shuffled
    assert content_hash(load_problems("gpqa_diamond", data_dir=shared_data / "benchmarks", seed=1)) != digest
    math = get_verifier("math")
    assert math.verify(f"The answer is \\boxed{{{p.answer}}}", p.answer).correct is True
    wrong = "A" if p.answer != "A" else "B"
    assert math.verify(f"\\boxed{{({wrong})}}", p.answer).correct is False


def test_reference_solutions_score_full_marks(shared_data):
    """The loaded answers agree with the math verifier on the datasets' own solutions."""
    rows = [json.loads(x) for x in (shared_data / "benchmarks" / "math_500.jsonl").open()]
    problems = load_problems("math500", data_dir=shared_data / "benchmarks")
    results = get_verifier("math").verify_batch([r["solution"] for r in rows], [p.answer for p in problems])
    assert all(r.correct for r in results)


def test_arith_is_seeded_and_exact():
    a, b = generate("arith", 50, seed=3), generate("arith", 50, seed=3)
    assert a == b and generate("arith", 50, seed=4) != a
    math = get_verifier("math")
    results = math.verify_batch([f"\\boxed{{{p.answer}}}" for p in a], [p.answer for p in a])
    assert all(r.correct for r in results)
    problems = load_problems("arith", limit=20)
    assert len(problems) == 20 and "arith" in list_benchmarks()


def test_templates():
    chat = render_prompt("What is 2+2?")
    assert chat == [
        {
            "role": "user",
            "content": "What is 2+2?\nPlease reason step by step, and put your final answer within \\boxed{}.",
        }
    ]
    assert render_prompt("Q", template="plain").startswith("Question: Q\n")
    with pytest.raises(UnknownNameError):
        render_prompt("Q", template="fancy")


def test_errors_name_the_problem(tmp_path, shared_data):
    with pytest.raises(UnknownNameError, match="unknown name 'nope'"):
        load_problems("nope", data_dir=shared_data / "benchmarks")
    with pytest.raises(InputFileError, match="not a directory"):
        load_problems("aime24", data_dir=tmp_path / "missing")
    with pytest.raises(InputFileError, match="no file for benchmark 'aime24'"):
        load_problems("aime24", data_dir=tmp_path)
    (tmp_path / "aime24.jsonl").write_text(json.dumps({"question": "x", "solution": "y"}) + "\n")
    with pytest.raises(InputFileError, match="no column 'problem'"):
        load_problems("aime24", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="limit"):
        load_problems("aime24", data_dir=shared_data / "benchmarks", limit=0)


def test_generator_splits_never_share_a_question():
    train = load_problems("arith", limit=600, split="train", seed=0)
    test = load_problems("arith", limit=200, split="test", seed=0)
    other_seed = load_problems("arith", limit=200, split="test", seed=1)
    assert len(train) == 600 and len(test) == 200
    assert not {p.question for p in train} & {p.question for p in test}
    assert not {p.question for p in train} & {p.question for p in other_seed}
    assert len({p.question for p in test}) == 200 and {p.split for p in test} == {"test"}
    assert load_problems("arith", limit=50, split="test") == test[:50]  # a prefix, whatever the count


def test_arith_difficulty_levels_and_the_easy_suite():
    import re

    easy = load_problems("arith_easy", limit=300, split="test")
    assert "arith_easy" in list_benchmarks() and {p.split for p in easy} == {"test"}
    for problem in easy:
        a, op, b = re.fullmatch(r"What is (\d+) ([+-]) (\d+)\?", problem.question).groups()
        assert 0 <= int(a) <= 30 and 0 <= int(b) <= 30
        assert problem.answer == str(int(a) + int(b) if op == "+" else int(a) - int(b))
    assert {p.metadata["kind"] for p in easy} == {"add", "sub"}
    train = load_problems("arith_easy", limit=1000, split="train")
    assert not {p.question for p in train} & {p.question for p in easy}
    medium = generate("arith", 40, seed=0, difficulty="medium")
    assert all(re.fullmatch(r"What is \d\d [+-] \d\d\?", p.question) for p in medium)
    assert generate("arith", 20, seed=5) == generate("arith", 20, seed=5, difficulty="mixed")  # the default
    with pytest.raises(ConfigError, match="difficulty.*'impossible' is not one of easy, medium, mixed"):
        generate("arith", 5, difficulty="impossible")


def test_one_loader_for_names_limits_files_and_old_spellings(tmp_path):
    assert len(load_problems("arith:7")) == 7
    rows = [{"question": f"q{i}", "answer": str(i)} for i in range(5)]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = load_problems(str(data), limit=3)
    assert [(p.question, p.answer) for p in problems] == [("q0", "0"), ("q1", "1"), ("q2", "2")]
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(
        "".join(json.dumps({"prompt": r["question"], "gold": r["answer"]}) + "\n" for r in rows)
    )
    assert load_problems(str(renamed), question_field="prompt", answer_field="gold")[4].answer == "4"
    assert load_problems(str(renamed), answer_field="gold")[0].question == "q0"  # `prompt` is found
    with pytest.raises(InputFileError, match="no column 'answer'"):
        load_problems(str(renamed))
    with pytest.warns(DeprecationWarning, match="builtin:arith"):
        assert load_problems("builtin:arith", limit=3) == load_problems("arith", limit=3)
