from __future__ import annotations

import re

import pytest

from brokercloud.codes import Code, describe

_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("code", list(Code))
def test_describe_when_any_code_then_english_and_chinese_sentence(code: Code) -> None:
    english = describe(code)
    chinese = describe(code, "zh-TW")
    assert english.strip() and english[0].isupper() and english.endswith(".")
    assert english.isascii()
    assert _CJK.search(chinese)
    assert chinese.endswith("。")
    assert chinese != english


def test_describe_when_unknown_language_then_english() -> None:
    assert describe(Code.OK, "fr") == describe(Code.OK, "en") == "Accepted."


def test_codes_when_listed_then_unique_and_in_subsystem_ranges() -> None:
    values = [int(c) for c in Code]
    assert len(values) == len(set(values))
    assert Code.OK == 0
    assert all(c == 0 or 1_000 <= c < 10_000 for c in values)
    english = [describe(c) for c in Code]
    assert len(set(english)) == len(english)
