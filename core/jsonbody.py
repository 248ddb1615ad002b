"""Parsing untrusted JSON: one depth bound for every surface (REST bodies, GraphQL bodies
and variables, WebSocket messages), checked before the parser can recurse.

The standard parser recurses once per nesting level and fails with RecursionError near
1,000 levels; a client must get 400 `malformed_json` instead, whatever the depth. The bound
is counted on the raw text (brackets outside strings, vectorised with numpy: no Python
loop, no regex backtracking), so a 2 MiB body costs ~10-20 ms whatever its shape; no
legitimate request nests more than a dozen levels.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

MAX_DEPTH = 32
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


class JsonProblem(ValueError):
    """The text is not JSON within the bound; the message says which, for a person."""


def nesting_depth(raw: bytes | str) -> int:
    """The deepest bracket nesting of JSON text, ignoring brackets inside strings."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    text = np.frombuffer(data, dtype=np.uint8)
    if not text.size:
        return 0
    steps = _STEP[text]
    quotes = text == ord('"')
    if quotes.any():
        # A quote closes or opens a string unless an odd run of backslashes precedes it.
        index = np.arange(text.size)
        last_plain = np.maximum.accumulate(np.where(text != ord("\\"), index, -1))
        run = np.empty_like(index)
        run[0] = 0
        run[1:] = index[:-1] - last_plain[:-1]
        delimiters = quotes & (run % 2 == 0)
        in_string = np.cumsum(delimiters, dtype=np.int64) % 2 == 1
        steps = np.where(in_string, 0, steps)
    return max(0, int(np.cumsum(steps, dtype=np.int64).max()))


def loads(raw: bytes | str) -> Any:
    """json.loads, refusing nesting deeper than MAX_DEPTH; raises JsonProblem."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    # No text with this few opening brackets can nest deeper: the usual case costs ~1 ms.
    openings = data.count(b"[") + data.count(b"{")
    depth = nesting_depth(data) if openings > MAX_DEPTH else 0
    if depth > MAX_DEPTH:
        raise JsonProblem(f"The JSON nests {depth} levels deep; at most {MAX_DEPTH} are accepted.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JsonProblem("The request body is not valid JSON.") from None
