"""The DuckDB warehouse: opening it, creating its schema, and publishing read-only snapshots.

Writers (ingest, build) work on the database file itself, each inside one transaction.
Readers that must never see a half-built state (the dashboard) read the published snapshot,
which `publish` replaces atomically (write a temporary file, then os.replace).

What a killed writer leaves behind is cleared by the next one to open the warehouse for writing: staged
result tables of an unfinished build, the temporary copy of an unfinished publish, and a publication
the build asked for but did not finish (the snapshot is brought up to the warehouse's build). Files are
the owner's alone (0600): the warehouse holds pseudonymised whistle-blower and discipline records.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pipelines import memory
from pipelines.errors import UserError
from pipelines.settings import SQL_DIR

SCHEMA_FILES = ("schema.sql", "results.sql", "learning.sql")  # ledgers and bookkeeping; build results; learned signals
STAGED = "__build"  # suffix of a build's staged result tables (pipelines/analysis/results.py)
OWNER_ONLY = 0o600
_COPY_CHUNK = 16 << 20


def sql_file(name: str) -> str:
    """Text of a .sql file shipped in pipelines/sql."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def connect(db: str | os.PathLike, *, read_only: bool = False, must_exist: bool = True,
            budget: memory.Budget | None = None, clean: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse within the memory budget (default: memory.Budget.resolve()); a missing file or a lock
    held by another process is a user error. A writer first clears what a killed writer left (see the
    module's docstring) unless clean=False."""
    path = Path(db)
    if must_exist and not path.exists():
        raise UserError(f"database {path} does not exist: create it with `zhengtai init --db {path}`")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(lock_holder_message(path, str(exc))) from None
        raise UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
    memory.apply(con, budget)
    if not read_only:
        _owner_only(path, path.with_name(path.name + ".wal"))
    if not read_only and clean:
        try:
            clean_leftovers(con, path)
        except BaseException:
            con.close()
            raise
    return con


def lock_holder_message(path: Path, error: str) -> str:
    """Name the process that holds the warehouse: a zhengtai command, or another program (DuckDB's CLI, a
    notebook, a spreadsheet tool) that the user has to close."""
    m = re.search(r"PID (\d+)", error)
    pid = int(m.group(1)) if m else None
    command = _command_line(pid) if pid else ""
    if pid is None:
        return f"database {path} is locked by another process; close the program using it and retry"
    shown = command[:120] or "unknown program"
    if re.search(r"(^|[/\s])zhengtai(\s|$)|pipelines[./]cli|pipelines\.demo", command):
        return (f"database {path} is in use by another zhengtai process (PID {pid}: {shown}); "
                "wait for it to finish or stop it")
    return (f"database {path} is locked by another program (PID {pid}: {shown}), not by zhengtai; "
            "close that program (or its connection to the file) and retry")


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


def _owner_only(*paths: Path) -> None:
    for p in paths:
        try:
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, OWNER_ONLY)
        except OSError:  # not ours to change: leave it, the owner's umask decided
            pass


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


def _tmp_path(db: Path) -> Path:
    dst = published_path(db)
    return dst.with_name(dst.name + ".tmp")


def publish(db: str | os.PathLike) -> Path:
    """Copy the warehouse to its published snapshot atomically: readers see the old or the new, never half."""
    src = Path(db)
    # The write lock is held for the whole copy: no writer changes the file under it.
    con = connect(src, clean=False)
    try:
        return _publish(con, src)
    finally:
        con.close()


def _publish(con: duckdb.DuckDBPyConnection, src: Path) -> Path:
    dst, tmp = published_path(src), _tmp_path(src)
    con.execute("CHECKPOINT")  # fold the WAL into the file so the copy is complete
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(_COPY_CHUNK):
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        os.chmod(tmp, OWNER_ONLY)  # a leftover .tmp of an older version may have been created 0644
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dst.parent)
    if _has_table(con, "publications"):
        con.execute("UPDATE publications SET published_at = now() WHERE published_at IS NULL")
    return dst


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def request_publish(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    """Inside the build's swap transaction: this build is to be published. If the process dies before the
    snapshot is replaced, the next writer to open the warehouse (or `zhengtai serve`) publishes it."""
    con.execute("INSERT OR REPLACE INTO publications (build_id, requested_at) VALUES (?, now())", [build_id])


def unpublished_build(con: duckdb.DuckDBPyConnection, db: Path) -> str | None:
    """The warehouse's latest build when it was meant to be published and the snapshot does not show it."""
    if not _has_table(con, "publications") or not _has_table(con, "build_runs"):
        return None
    row = con.execute("""SELECT b.build_id FROM build_runs b JOIN publications p USING (build_id)
                         WHERE b.status = 'complete'
                           AND b.built_at = (SELECT max(built_at) FROM build_runs WHERE status = 'complete')""").fetchone()
    if row is None:
        return None
    return None if snapshot_build(published_path(db)) == row[0] else row[0]


def snapshot_build(snapshot: Path) -> str | None:
    """The latest complete build in a published snapshot (None when there is none or it is unreadable)."""
    if not snapshot.exists():
        return None
    try:
        snap = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = snap.execute("SELECT build_id FROM build_runs WHERE status = 'complete' "
                           "ORDER BY built_at DESC LIMIT 1").fetchone()
        return None if row is None else row[0]
    except duckdb.Error:
        return None
    finally:
        snap.close()


def clean_leftovers(con: duckdb.DuckDBPyConnection, db: Path) -> list[str]:
    """Clear what a killed build or publish left behind; returns what was done (for the caller's log)."""
    done = []
    staged = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND ends_with(table_name, ?)", [STAGED]).fetchall()]
    for table in staged:
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        done.append(f"dropped {table}")
    tmp = _tmp_path(db)
    if tmp.exists():
        tmp.unlink()
        done.append(f"removed {tmp.name}")
    build = unpublished_build(con, db)
    if build is not None:
        _publish(con, db)
        done.append(f"published build {build}")
    return done


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = 'main' AND table_name = ?", [name]).fetchone()[0] > 0
