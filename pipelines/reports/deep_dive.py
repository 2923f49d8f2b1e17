"""What the deep-dive notebooks (notebooks/*.ipynb) share: a warehouse to look at, and the build's index
inputs in the form pipelines.index takes, so a notebook can recompute the index by other recipes.

`county()` opens the warehouse named by ZHENGTAI_DB (with ZHENGTAI_TRUTH, if set, for the planted stories
of a synthetic county); without it, it makes the synthetic demo county the way a user would —
`generate --scale county` → `init` → `ingest` → `build` — once, in a temporary folder reused by the next
notebook, with its own throw-away pseudonymisation key (never the team's).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.access.store import Scope, User
from pipelines.board.snapshot import Board
from pipelines.errors import UserError
from pipelines.reports.source import attach_read_only

TOP = "index"
ANALYST = User("notebook", "analyst", None)  # county-wide, may see pseudonymised records
ALL_UNITS = Scope(None)


@dataclass
class County:
    db: Path
    truth: Path | None  # truth.json of a synthetic county, when known
    built_here: bool  # True when this module generated the demo county
    board: Board

    @property
    def build(self) -> dict:
        return self.board.build()

    def periods(self, grain: str = "quarter") -> list[str]:
        p = self.board.q("periods")
        return sorted(p[p.grain == grain].period)

    def latest(self, grain: str = "quarter") -> str:
        periods = self.periods(grain)
        if not periods:
            raise UserError(f"the build has no {grain} periods")
        return periods[-1]


def county(seed: int = 7) -> County:
    """The warehouse of ZHENGTAI_DB, or the synthetic demo county built once under the temp folder."""
    env = os.environ.get("ZHENGTAI_DB")
    if env:
        db = Path(env).expanduser()
        if not db.exists():
            raise UserError(f"ZHENGTAI_DB={env} does not exist")
        truth = os.environ.get("ZHENGTAI_TRUTH")
        return County(db, Path(truth) if truth else None, False, Board(db))
    root = Path(tempfile.gettempdir()) / f"zhengtai-notebook-county-seed{seed}"
    db = root / "county.duckdb"
    if not (root / "complete").exists():
        _build_demo(root, seed)
    return County(db, root / "ledgers" / "truth.json", True, Board(db))


def _build_demo(root: Path, seed: int) -> None:
    """generate → init → ingest → build in a fresh folder, renamed into place when complete."""
    from pipelines.cli import main

    work = Path(tempfile.mkdtemp(prefix=root.name + "-", dir=root.parent))
    ledgers, db = work / "ledgers", work / "county.duckdb"
    key = ["--key", str(work / "pseudonym.key")]  # a throw-away key, never the team's
    steps = [["generate", "--scale", "county", "--seed", str(seed), "--out", str(ledgers)],
             ["init", "--db", str(db), *key],
             ["ingest", "--db", str(db), "--quiet", *key, str(ledgers)],  # bad rows are rejected, not fatal
             ["build", "--db", str(db), "--no-publish"]]
    for args in steps:
        if main(args) != 0:
            raise UserError(f"building the demo county failed at `zhengtai {args[0]}`")
    (work / "complete").touch()
    try:
        os.replace(work, root)
    except OSError:  # another notebook finished first: use its county
        shutil.rmtree(work, ignore_errors=True)


def show(fig) -> None:
    """Display one of pipelines.reports.charts' figures in a notebook (they are made without pyplot, so
    the inline backend does not pick them up by itself)."""
    from IPython.display import Image, display

    from pipelines.reports.charts import png

    display(Image(data=png(fig)))


def audit_log():
    """An audit callback for the board's record-level functions that keeps the entries for display."""
    entries: list[dict] = []

    def audit(action: str, target: str | None, detail: dict) -> None:
        entries.append({"action": action, "target": target, **detail})

    audit.entries = entries
    return audit


# ---- the build's index, reproducible with pipelines.index ------------------------------------

def _engine_input(board: Board) -> str:
    """The indicator_values column the build's engine aggregated: `normalised` when the build scored severities
    itself (then every indicator already counts upwards), else `index_value`, which the engine normalised."""
    return (board.build().get("settings") or {}).get("engine_input") or "index_value"


def index_meta(board: Board) -> pd.DataFrame:
    """The build's hierarchy in iMeta form: scored indicators → dimensions → index, with the build's weights."""
    cat = board.q("catalogue")
    dims = board.q("dimensions").set_index("dimension")
    scored = cat[~cat.context.astype(bool) & (cat.weight > 0)]
    dim_ids = list(dict.fromkeys(scored.dimension))
    upwards = _engine_input(board) == "normalised"
    return pd.concat([
        pd.DataFrame({"Level": 1, "iCode": scored.indicator_id, "Parent": scored.dimension,
                      "Direction": 1 if upwards else scored.direction.astype(int),
                      "Weight": scored.weight.astype(float), "Type": "Indicator"}),
        pd.DataFrame({"Level": 2, "iCode": dim_ids, "Parent": TOP, "Direction": 1,
                      "Weight": [float(dims.weight[d]) for d in dim_ids], "Type": "Aggregate"}),
        pd.DataFrame({"Level": [3], "iCode": [TOP], "Parent": [None], "Direction": [1], "Weight": [1.0],
                      "Type": ["Aggregate"]}),
    ], ignore_index=True)


def index_inputs(c: County, grain: str = "quarter") -> pd.DataFrame:
    """What entered the build's index for every unit and period of `grain` (after the missing-data policy),
    one row per unit-period: uCode 'period|unit', period, unit_name, then one column per scored indicator.
    The build normalises over the whole panel of the grain, so recomputing the panel reproduces its scores."""
    meta = index_meta(c.board)
    ids = list(meta[meta.Level == 1].iCode)
    con = attach_read_only(c.db)  # a trivial select: the board has no query for the whole panel
    try:
        column = _engine_input(c.board)
        long = con.execute(f"SELECT period, unit_name, indicator_id, {column} AS x FROM indicator_values "
                           "WHERE grain = ? AND build_id = ?", [grain, c.build["build_id"]]).df()
    finally:
        con.close()
    wide = long.pivot_table(index=["period", "unit_name"], columns="indicator_id", values="x",
                            aggfunc="first", dropna=False).reindex(columns=ids)
    if column == "index_value":
        # A constant indicator ranks nobody: the build leaves it out rather than give everyone the midpoint.
        spread = wide.max() - wide.min()
        wide.loc[:, ~(spread > 0)] = np.nan
    wide = wide.reset_index()
    wide.insert(0, "uCode", wide.period + "|" + wide.unit_name)
    wide.columns.name = None
    return wide


def engine_settings(c: County):
    """The build's index recipe as pipelines.index.IndexSettings."""
    from pipelines.index import IndexSettings

    s = (c.build.get("settings") or {})
    engine = s.get("engine") or {}
    if engine:
        return IndexSettings.from_dict(engine)
    idx = s.get("index") or {}
    return IndexSettings(treat=idx.get("treat", "none"), normalise=idx.get("normalise", "minmax"),
                         weights=idx.get("weights", "meta"), aggregate=idx.get("aggregate", "arith"))


def published(c: County, grain: str = "quarter") -> pd.DataFrame:
    """The build's index scores, ranks and grades for every unit-period of the grain (uCode as index_inputs)."""
    frames = [c.board.q("period_scores", ALL_UNITS, grain=grain, period=p).assign(period=p)
              for p in c.periods(grain)]
    f = pd.concat(frames, ignore_index=True)
    f = f[f.level == TOP].copy()
    f["uCode"] = f.period + "|" + f.unit_name
    return f.set_index("uCode")


def truth(c: County) -> dict | None:
    if c.truth is None or not c.truth.exists():
        return None
    return json.loads(c.truth.read_text(encoding="utf-8"))
