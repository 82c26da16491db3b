"""`JSONResponse`: Starlette's, encoded by one encoder made once. Every JSON answer that
paced makes itself (the declared endpoints, their errors) is one.

Starlette's `render` calls `json.dumps` with arguments of its own, and `json.dumps` makes
a new `JSONEncoder` for every call with arguments; this encoder has the same settings
(compact, UTF-8, no NaN), so an answer's bytes are the same.
"""

from __future__ import annotations

import json
from typing import Any

from starlette import responses

# No check for circular references: an answer is a tree of plain values.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, separators=(",", ":")
)


class JSONResponse(responses.JSONResponse):
    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode("utf-8")
