"""数据质量: ingest runs, rejected rows with reasons, coverage by unit and month, stale sources.

File paths and rejected rows' raw values can name any unit (a row is often rejected precisely because its
unit did not resolve), so they go only to county-wide users; team-scoped users get the same facts as
counts per ledger kind and reason. Coverage is per unit and therefore scoped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import User
from pipelines.board.snapshot import Board

STALE_DAYS = 120  # a ledger whose newest record is this much older than the newest of any ledger is stale


@dataclass
class Quality:
    runs: pd.DataFrame  # full ingest_runs (county-wide users) or a per-kind summary
    runs_detailed: bool
    reasons: pd.DataFrame
    rejected: pd.DataFrame | None  # raw rejected rows: county-wide analysts/admins only
    coverage: pd.DataFrame  # unit × month record counts (wide)
    gaps: pd.DataFrame  # visible units with months without any record, within the data's span
    freshness: pd.DataFrame


def quality(board: Board, user: User, audit: Callable[[str, str | None, dict], None],
            identity: str | None = None, rejected_limit: int = 500) -> Quality:
    county = user.scope.all_teams
    runs = _words(board.q("ingest_runs" if county else "ingest_summary", identity=identity))
    reasons = _words(board.q("rejected_reasons", identity=identity))
    rejected = None
    if county and user.can_see_records:
        rejected = _words(board.q("rejected_rows", identity=identity, limit=rejected_limit))
        audit("view_records", "rejected_rows", {"what": "rejected_rows", "rows": int(len(rejected))})
    cov = board.q("coverage", user.scope, identity=identity)
    units = board.q("visible_units", user.scope, identity=identity).unit_name
    if len(cov):
        months = pd.period_range(cov.month.min(), cov.month.max(), freq="M").strftime("%Y-%m")
        wide = (cov.pivot_table(index="unit_name", columns="month", values="records", aggfunc="sum", fill_value=0)
                .reindex(index=units, columns=months, fill_value=0))
    else:
        wide = pd.DataFrame(index=units)
    wide.index.name = "unit_name"
    empty_months = (wide == 0).sum(axis=1) if wide.shape[1] else pd.Series(0, index=wide.index)
    gaps = pd.DataFrame({"unit_name": wide.index, "months": wide.shape[1], "empty_months": empty_months.to_numpy()})
    gaps = gaps[gaps.empty_months > 0].sort_values("empty_months", ascending=False).reset_index(drop=True)
    fresh = board.q("source_freshness", identity=identity)
    fresh["kind_zh"] = fresh.kind.map(lambda k: vocabulary.word("ledger", k))
    newest = pd.to_datetime(fresh.last_record).max()
    lag = (newest - pd.to_datetime(fresh.last_record)).dt.days
    fresh["lag_days"] = lag
    fresh["stale"] = (fresh.records == 0) | ((lag > STALE_DAYS) & fresh.last_record.notna())
    return Quality(runs=runs, runs_detailed=county, reasons=reasons, rejected=rejected,
                   coverage=wide, gaps=gaps, freshness=fresh)


def _words(frame: pd.DataFrame) -> pd.DataFrame:
    """Ledger kinds and run statuses in words."""
    if "kind" in frame:
        frame["kind"] = frame.kind.map(lambda k: vocabulary.word("ledger", k, default=k))
    if "status" in frame:
        frame["status"] = frame.status.map(lambda s: vocabulary.word("ingest_status", s))
    return frame
