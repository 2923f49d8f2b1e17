"""The DuckDB warehouse: opening it, creating its schema, and publishing read-only snapshots.

Writers (ingest, build) work on the database file itself, each inside one transaction.
Readers that must never see a half-built state (the dashboard) read the published snapshot,
which `publish` replaces atomically (write a temporary file, then os.replace).
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pipelines import memory
from pipelines.errors import UserError
from pipelines.settings import SQL_DIR

SCHEMA_FILES = ("schema.sql", "results.sql", "learning.sql")  # ledgers and bookkeeping; build results; learned signals


def sql_file(name: str) -> str:
    """Text of a .sql file shipped in pipelines/sql."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def connect(db: str | os.PathLike, *, read_only: bool = False, must_exist: bool = True,
            budget: memory.Budget | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse within the memory budget (default: memory.Budget.resolve()); a missing file or a lock
    held by another process is a user error."""
    path = Path(db)
    if must_exist and not path.exists():
        raise UserError(f"database {path} does not exist: create it with `zhengtai init --db {path}`")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            # DuckDB names the holder's PID; the holder need not be zhengtai (a notebook, the duckdb shell)
            pid = re.search(r"PID (\d+)", str(exc))
            holder = f"process {pid.group(1)}" if pid else "another process"
            raise UserError(f"database {path} is locked by {holder}; wait for it to finish or close it") from None
        raise UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
    memory.apply(con, budget)
    return con


def apply_schema(con: duckdb.DuckDBPyConnection, files: tuple[str, ...] = SCHEMA_FILES) -> None:
    for name in files:
        con.execute(sql_file(name))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends normally, roll back on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def published_path(db: str | os.PathLike) -> Path:
    """Where the read-only snapshot of `db` that the dashboard serves lives."""
    path = Path(db)
    return path.with_name(path.stem + ".published.duckdb")


def publish(db: str | os.PathLike) -> Path:
    """Copy the warehouse to its published snapshot atomically: readers see the old or the new, never half."""
    src = Path(db)
    dst = published_path(src)
    tmp = dst.with_name(dst.name + ".tmp")
    con = connect(src)
    con.execute("CHECKPOINT")  # fold the WAL into the file so the copy is complete
    con.close()
    shutil.copyfile(src, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dst)
    return dst
