"""The published snapshot, opened read-only and reopened when a rebuild replaces it.

`zhengtai build` publishes by os.replace of a complete copy, so the snapshot path always names a whole
database; a new file has a new inode. The board notices by stat (inode, mtime, size) and opens the new
file, keeping the previous connection for pages still rendering from it, so a page never mixes two builds
and never sees a half-built one.

Each snapshot is ATTACHed READ_ONLY in its own in-memory DuckDB instance: duckdb.connect(path) would
return a cached instance still bound to the replaced file while any cursor on it lived.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.access.store import Scope
from pipelines.board import queries
from pipelines.errors import UserError
from pipelines.warehouse import sql_file


@dataclass
class _Open:
    identity: str
    con: duckdb.DuckDBPyConnection
    build: dict = field(default_factory=dict)


def snapshot_identity(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


class Board:
    """Read-only access to one published snapshot; thread-safe (a cursor per query)."""

    KEEP = 2  # the current snapshot and the one before, for pages mid-render during a swap

    def __init__(self, path: str | os.PathLike, *, threads: int = 2):
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(
                f"published snapshot {self.path} does not exist: run `zhengtai build --db DB` first"
            )
        self.threads = threads
        self._lock = threading.Lock()
        self._open: list[_Open] = []

    # ---- snapshot identity and connections ------------------------------------------------------

    def identity(self) -> str:
        """Identity of the snapshot now on disk; pages pin it for one render and key caches on it."""
        return snapshot_identity(self.path)

    def _get(self, identity: str | None) -> _Open:
        current = self.identity()
        with self._lock:
            for o in self._open:
                if o.identity == (identity or current):
                    return o
            # Not open yet (or a pinned identity already dropped): open what is on disk now.
            for o in self._open:
                if o.identity == current:
                    return o
            con = duckdb.connect(":memory:", config={"threads": self.threads})
            con.execute(f"ATTACH '{self._sql_path()}' AS snap (READ_ONLY)")
            con.execute("USE snap")
            opened = _Open(current, con)
            row = con.execute(queries.get("latest_build")[0]).fetchone()
            if row is None:
                con.close()
                raise UserError(f"snapshot {self.path} holds no complete build: run `zhengtai build`")
            opened.build = {
                "build_id": row[0],
                "built_at": row[1],
                "catalogue_version": row[2],
                "settings": json.loads(row[3]) if row[3] else {},
            }
            self._open.append(opened)
            while len(self._open) > self.KEEP:
                self._open.pop(0).con.close()
            return opened

    def _sql_path(self) -> str:
        return str(self.path).replace("'", "''")

    def build(self, identity: str | None = None) -> dict:
        """The build shown: id, time, catalogue version and method settings."""
        return self._get(identity).build

    def close(self) -> None:
        with self._lock:
            for o in self._open:
                o.con.close()
            self._open.clear()

    # ---- queries --------------------------------------------------------------------------------

    def q(self, name: str, scope: Scope | None = None, identity: str | None = None, **params) -> pd.DataFrame:
        """Run a named query; $build, $teams and $all_teams are filled in from the snapshot and scope."""
        sql, wanted = queries.get(name)
        opened = self._get(identity)
        if "teams" in wanted or "all_teams" in wanted:
            if scope is None:
                raise ValueError(f"query {name} is scoped: pass the user's scope")
            params["teams"] = scope.team_list()
            params["all_teams"] = scope.all_teams
        params["build"] = opened.build["build_id"]
        for key in ("sectors", "kinds", "warning_ids"):
            if key in wanted:
                params[key] = list(params.get(key) or [])
        args = {k: v for k, v in params.items() if k in wanted}
        missing = wanted - args.keys()
        if missing:
            raise ValueError(f"query {name} needs {sorted(missing)}")
        cur = opened.con.cursor()
        try:
            cur.execute("USE snap")
            if "zt_" in sql:  # the ingest's comparison rules (unit names), temp macros of this cursor
                cur.execute(sql_file("ingest_macros.sql"))
            return cur.execute(sql, args).df()
        finally:
            cur.close()
