"""The memory budget of ingest and build: one stated figure that DuckDB's settings are derived from.

A budget of 4 GiB (the default; `--memory` or ZHENGTAI_MEMORY overrides it) gives DuckDB `memory_limit` = half of
it for its buffers and hash tables; the other half is for what lives outside DuckDB: one ledger file's Arrow table
during ingest, a grain's numpy cubes during build, and Python itself. Beyond its limit DuckDB spills to
`temp_directory`: `<warehouse>.tmp` beside the warehouse unless ZHENGTAI_TEMP_DIR names another folder (a fast local
disk with room for a few times the largest ledger).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.errors import UserError

DEFAULT = "4GiB"
ENV = "ZHENGTAI_MEMORY"
TEMP_ENV = "ZHENGTAI_TEMP_DIR"
DUCKDB_SHARE = 0.5
MIN_BYTES = 256 << 20

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000**2, "mib": 1 << 20,
          "g": 1 << 30, "gb": 1000**3, "gib": 1 << 30, "t": 1 << 40, "tb": 1000**4, "tib": 1 << 40}


def parse_size(text: str) -> int:
    """'4GiB', '4 GB', '3.5g', '512MiB' → bytes (GB = 10^9 as DuckDB reads it, GiB = 2^30)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = m.group(2).lower() if m else None
    if not m or unit not in _UNITS:
        raise UserError(f"memory budget '{text}' is not a size: write it like 4GiB, 6GB or 512MiB")
    size = int(float(m.group(1)) * _UNITS[unit])
    if size < MIN_BYTES:
        raise UserError(f"memory budget '{text}' is too small: give at least 256MiB")
    return size


@dataclass(frozen=True)
class Budget:
    total: int                    # bytes the whole process should stay within
    temp_directory: Path | None   # None: DuckDB's default, <database>.tmp

    @classmethod
    def resolve(cls, memory: str | None = None, temp_directory: str | os.PathLike | None = None) -> "Budget":
        """From the arguments, else the environment (ZHENGTAI_MEMORY, ZHENGTAI_TEMP_DIR), else the defaults."""
        temp = temp_directory or os.environ.get(TEMP_ENV) or None
        return cls(parse_size(memory or os.environ.get(ENV) or DEFAULT), Path(temp).expanduser() if temp else None)

    @property
    def duckdb_bytes(self) -> int:
        return int(self.total * DUCKDB_SHARE)

    def describe(self) -> str:
        return f"{self.total / (1 << 30):.1f} GiB（DuckDB {self.duckdb_bytes / (1 << 30):.1f} GiB）"


def apply(con: duckdb.DuckDBPyConnection, budget: Budget | None = None) -> Budget:
    """Set DuckDB's memory_limit (and temp_directory when one is named) on a connection from the budget."""
    budget = budget or Budget.resolve()
    con.execute(f"SET memory_limit = '{budget.duckdb_bytes // (1 << 20)}MiB'")
    if budget.temp_directory is not None:
        budget.temp_directory.mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = '" + str(budget.temp_directory).replace("'", "''") + "'")
    return budget


def cli_option(f):
    """`--memory SIZE` for the commands that write the warehouse: sets ZHENGTAI_MEMORY for this process, so every
    connection it opens (and every process it starts) keeps to the same budget."""
    import click

    def remember(_ctx, _param, value):
        if value:
            parse_size(value)  # a bad size stops here, with one line
            os.environ[ENV] = value
        return value

    return click.option("--memory", metavar="SIZE", callback=remember, expose_value=False, is_eager=True,
                        help=f"memory budget, e.g. 4GiB (default: ${ENV} or {DEFAULT}); DuckDB gets half of it "
                             f"and spills beyond that to ${TEMP_ENV} or <db>.tmp")(f)
