"""The JSON depth bound: exact on the text, strings and escapes respected."""

from __future__ import annotations

import json

import pytest

from core.jsonbody import MAX_DEPTH, JsonProblem, loads, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": "[[[["}]}', 3),
        ('["a\\"[[[", [[1]]]', 3),  # an escaped quote does not end the string
        ('["x\\\\", [[1]]]', 3),  # an escaped backslash does not escape the quote
        ('["é", {"a": ["]]]"]}]', 3),
        ("[" * 5000, 5000),
    ],
)
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth
    assert nesting_depth(text.encode()) == depth


def test_loads_accepts_up_to_the_bound_and_refuses_beyond() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonProblem, match=f"at most {MAX_DEPTH}"):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(JsonProblem, match="100000 levels"):
        loads(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)


def test_brackets_in_strings_do_not_count() -> None:
    text = json.dumps({"image": "[" * 10_000, "items": [{"a": "]" * 500}]})
    assert loads(text)["image"] == "[" * 10_000


@pytest.mark.parametrize("text", [b"{nope", b"\xff\xfe", b"", b"[1,]"])
def test_invalid_json_is_a_problem(text: bytes) -> None:
    with pytest.raises(JsonProblem, match="is not valid JSON"):
        loads(text)
