"""Named DuckDB queries of the dashboard, loaded from pipelines/sql/board/*.sql (board.sql; learning.sql for
the learned signals)."""

from __future__ import annotations

import re
from functools import lru_cache

from pipelines.settings import SQL_DIR

_NAME = re.compile(r"^-- name:\s*(\w+)\s*$", re.M)
_PARAM = re.compile(r"\$(\w+)")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, tuple[str, frozenset[str]]]:
    """name → (SQL text, the $parameters it uses)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "board").glob("*.sql")))
    parts = _NAME.split(text)
    out = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        sql = body.strip().rstrip(";")
        out[name] = (sql, frozenset(_PARAM.findall(sql)))
    return out


def get(name: str) -> tuple[str, frozenset[str]]:
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(f"no dashboard query named {name!r} in pipelines/sql/board/*.sql") from None
