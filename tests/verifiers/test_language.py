import pytest

from rlvr.verifiers import get_verifier
from rlvr.verifiers.language import detect_language

EN = (
    "<think>First we add the two numbers together. Then we divide the total by three to get the mean.</think>"
)
ZH = "<think>首先我们把两个数相加，然后把总和除以三得到平均值。</think>"
MIXED = "<think>首先我们把两个数相加。 Then we divide the total by three to get the mean value.</think>"
FR = "<think>Nous additionnons d'abord les deux nombres. Ensuite nous divisons le total par trois.</think>"


def test_pure_languages():
    assert get_verifier("language", language="en").verify(EN).score == 1.0
    assert get_verifier("language", language="zh").verify(ZH).score == 1.0
    assert get_verifier("language", language="en").verify(ZH).score == 0.0


def test_mixed_reasoning_gets_a_proportion():
    r = get_verifier("language", language="zh").verify(MIXED)
    assert 0.3 < r.score < 0.8 and r.reason == "mixed_language"
    assert r.details["target_words"] < r.details["words"]


def test_same_script_languages_are_told_apart():
    assert get_verifier("language", language="en").verify(FR).score < 0.2
    assert get_verifier("language", language="fr").verify(FR).score == 1.0


def test_math_and_code_are_not_counted():
    text = "<think>We compute $\\frac{\\alpha}{\\beta} + x_1$ and ```python\nprint('x')\n``` then we stop here.</think>"
    r = get_verifier("language", language="en").verify(text)
    assert r.score == 1.0
    assert r.details["words"] == 7  # We compute and then we stop here: nothing from the math or the code


def test_target_from_the_prompt():
    v = get_verifier("language")
    assert v.verify(ZH, {"prompt": "请计算两个数的平均值。"}).score == 1.0
    assert v.verify(EN, {"prompt": "Compute the mean of the two numbers."}).score == 1.0
    assert v.verify(EN, "zh").score == 0.0
    assert detect_language("Wie viele Äpfel hat Anna am Ende des Tages?") == "de"


def test_no_words_scores_zero():
    assert get_verifier("language", language="en").verify("<think>$x^2$ 12 34</think>").reason == "no_words"


def test_unknown_language_names_the_field():
    with pytest.raises(ValueError, match="language"):
        get_verifier("language", language="xx")
