"""A built warehouse opened read-only for one report: the build, the period, the team scope.

The dashboard's data layer (pipelines.board.Board) serves every query it already has; the report's own
queries (pipelines.reports.queries) run on a second read-only attachment of the same file. Nothing is
written. Unknown periods and teams are UserErrors naming the valid ones.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.access.store import Scope
from pipelines.board.snapshot import Board
from pipelines.errors import UserError
from pipelines.reports import queries

REPORT_GRAINS = ("quarter", "half", "year", "rolling12")  # grains with warnings and portraits
LISTED_GRAINS = ("quarter", "half", "year")  # rolling12 has one period a month: named by its pattern

_Q = re.compile(r"^(\d{4})Q([1-4])$")
_H = re.compile(r"^(\d{4})H([12])$")
_Y = re.compile(r"^(\d{4})$")
_M = re.compile(r"^(\d{4})-(\d{2})$")
_R = re.compile(r"^R12-(\d{4})-(\d{2})$")


def grain_of(period: str) -> str | None:
    for grain, pattern in (("quarter", _Q), ("half", _H), ("year", _Y), ("month", _M), ("rolling12", _R)):
        if pattern.match(period):
            return grain
    return None


def window(period: str) -> tuple[dt.date, dt.date]:
    """[start, end) of the record dates a period covers."""
    if m := _Q.match(period):
        y, q = int(m[1]), int(m[2])
        return dt.date(y, 3 * q - 2, 1), _month_add(dt.date(y, 3 * q - 2, 1), 3)
    if m := _H.match(period):
        y, h = int(m[1]), int(m[2])
        return dt.date(y, 6 * h - 5, 1), _month_add(dt.date(y, 6 * h - 5, 1), 6)
    if m := _Y.match(period):
        return dt.date(int(m[1]), 1, 1), dt.date(int(m[1]) + 1, 1, 1)
    if m := _M.match(period):
        start = dt.date(int(m[1]), int(m[2]), 1)
        return start, _month_add(start, 1)
    if m := _R.match(period):
        end = _month_add(dt.date(int(m[1]), int(m[2]), 1), 1)
        return _month_add(end, -12), end
    raise ValueError(f"not a period key: {period}")


def shift(period: str, steps: int) -> str:
    """The period `steps` periods of the same grain later (negative: earlier)."""
    if m := _Q.match(period):
        k = int(m[1]) * 4 + int(m[2]) - 1 + steps
        return f"{k // 4}Q{k % 4 + 1}"
    if m := _H.match(period):
        k = int(m[1]) * 2 + int(m[2]) - 1 + steps
        return f"{k // 2}H{k % 2 + 1}"
    if m := _Y.match(period):
        return str(int(m[1]) + steps)
    if m := _M.match(period):
        d = _month_add(dt.date(int(m[1]), int(m[2]), 1), steps)
        return f"{d.year}-{d.month:02d}"
    if m := _R.match(period):
        d = _month_add(dt.date(int(m[1]), int(m[2]), 1), steps)
        return f"R12-{d.year}-{d.month:02d}"
    raise ValueError(f"not a period key: {period}")


YEAR_STEPS = {"quarter": 4, "half": 2, "year": 1, "month": 12, "rolling12": 12}


def _month_add(d: dt.date, months: int) -> dt.date:
    k = d.year * 12 + d.month - 1 + months
    return dt.date(k // 12, k % 12 + 1, 1)


@dataclass
class Source:
    """One build, one period, one scope; close() when done."""

    db: Path
    board: Board
    con: duckdb.DuckDBPyConnection
    build: dict
    grain: str
    period: str
    prev: str | None  # previous period of the grain, if the build has it
    yoy: str | None  # same period a year before, if the build has it
    periods: list[str]  # every period of the grain, oldest first
    team: str | None
    scope: Scope
    identity: str  # the snapshot identity every board query is pinned to
    start: dt.date = field(init=False)
    end: dt.date = field(init=False)

    def __post_init__(self) -> None:
        self.start, self.end = window(self.period)

    def q(self, name: str, scoped: bool = True, **params) -> pd.DataFrame:
        """A dashboard query (pipelines/sql/board/board.sql), pinned to this report's build."""
        return self.board.q(name, self.scope if scoped else None, identity=self.identity, **params)

    def rq(self, name: str, **params) -> pd.DataFrame:
        """One of the report's own queries, scoped and parameterised like the dashboard's."""
        sql = queries.SQL[name]
        args = {"build": self.build["build_id"], "teams": self.scope.team_list(), "all_teams": self.scope.all_teams,
                "grain": self.grain, "period": self.period, "start": self.start, "end": self.end, **params}
        wanted = set(re.findall(r"\$(\w+)", sql))
        return self.con.execute(sql, {k: v for k, v in args.items() if k in wanted}).df()

    def close(self) -> None:
        self.board.close()
        self.con.close()

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def attach_read_only(db: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse attached READ_ONLY (as schema `snap`, made current) in a private in-memory DuckDB."""
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        con.execute(f"ATTACH '{str(db).replace(chr(39), chr(39) * 2)}' AS snap (READ_ONLY)")
        con.execute("USE snap")
    except duckdb.Error as exc:
        con.close()
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise UserError(f"database {db} is being written by another zhengtai process; wait for it to finish") from None
        raise UserError(f"cannot open database {db}: {first}") from None
    return con


def open_source(db: str | Path, period: str, team: str | None = None) -> Source:
    """Open `db` for a report on `period` (2024Q4, 2024H2, 2024 or R12-2024-12), optionally one team's units."""
    db = Path(db)
    if not db.exists():
        raise UserError(f"database {db} does not exist: build it with `zhengtai build --db {db}`")
    con = attach_read_only(db)
    board = None
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'snap'").fetchall()}
        if "build_runs" not in tables or not con.execute(
                "SELECT count(*) FROM build_runs WHERE status = 'complete'").fetchall()[0][0]:
            raise UserError(f"no build results in {db}: run `zhengtai build --db {db}` first")
        board = Board(db)
        identity = board.identity()
        build = board.build(identity)
        available = board.q("periods", identity=identity)
        by_grain = {g: list(f.period) for g, f in available.groupby("grain", sort=False)}
        p = (period or "").strip().upper()
        grain = grain_of(p)
        if grain is not None and grain not in REPORT_GRAINS:
            raise UserError(f"period {period!r} is a {grain}: reports cover a quarter, half-year, year or rolling "
                            f"12 months; valid periods: " + _valid_periods(by_grain))
        if grain not in REPORT_GRAINS or p not in by_grain.get(grain, []):
            raise UserError(f"period {period!r} is not in build {build['build_id']}; valid periods: "
                            + _valid_periods(by_grain))
        scope, team_name = _scope(con, team)
        src = Source(db=db, board=board, con=con, build=build, grain=grain, period=p,
                     prev=_known(shift(p, -1), by_grain[grain]), yoy=_known(shift(p, -YEAR_STEPS[grain]), by_grain[grain]),
                     periods=sorted(by_grain[grain]), team=team_name, scope=scope, identity=identity)
        return src
    except BaseException:
        if board is not None:
            board.close()
        con.close()
        raise


def _known(period: str, periods: list[str]) -> str | None:
    return period if period in periods else None


def _valid_periods(by_grain: dict[str, list[str]]) -> str:
    parts = [", ".join(sorted(by_grain[g])) for g in LISTED_GRAINS if by_grain.get(g)]
    r12 = sorted(by_grain.get("rolling12", []))
    if r12:
        parts.append(f"R12-YYYY-MM from {r12[0]} to {r12[-1]}")
    return "; ".join(parts) or "none (the build has no quarterly, half-yearly or yearly results)"


def _scope(con: duckdb.DuckDBPyConnection, team: str | None) -> tuple[Scope, str | None]:
    """County-wide without --team; otherwise the team's units. A unique part of a team's name will do."""
    if not team:
        return Scope(None), None
    teams = list(con.execute(queries.SQL["teams"]).df().team)
    wanted = team.strip()
    hits = [t for t in teams if t == wanted] or [t for t in teams if wanted in t]
    if len(hits) != 1:
        why = "matches several teams" if hits else "is not a team of the unit roster"
        raise UserError(f"team {team!r} {why}; teams: {', '.join(teams) or 'none'}")
    return Scope((hits[0],)), hits[0]
