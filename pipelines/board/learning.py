"""What the dashboard shows of the learned signals (pipelines/ml): 异常模式, typologies, indicators checked
against outcomes, person clues and predicted petition categories.

Aggregates (a unit's anomaly score and type, the county's typology, the validation table, counts of predicted
categories) go to every role within its scope. Record-level rows — person clues with the records behind them,
single petitions' predicted categories — go only to roles that may see pseudonymised records, and every
hand-out is audited first, as for warning evidence. A snapshot built before the learned signals existed shows
none (empty frames), never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import AccessDenied, User
from pipelines.board.portrait import Audit, require_unit
from pipelines.board.snapshot import Board


def _q(board: Board, name: str, *args, **kw) -> pd.DataFrame:
    try:
        return board.q(name, *args, **kw)
    except duckdb.CatalogException:  # a snapshot from before the learned signals
        return pd.DataFrame()


@dataclass
class UnitSignals:
    anomaly: dict | None          # score, percentile, flagged, drivers (list), message
    typology: dict | None         # type_name, margin, k, criterion, silhouette, stability
    type_history: pd.DataFrame    # period, type_name


def unit_signals(board: Board, user: User, unit: str, grain: str, period: str,
                 identity: str | None = None) -> UnitSignals:
    require_unit(board, user, unit, identity)
    kw = dict(scope=user.scope, identity=identity, unit=unit, grain=grain)
    an = _q(board, "unit_anomaly", period=period, **kw)
    anomaly = None
    if len(an):
        anomaly = an.iloc[0].to_dict()
        anomaly["drivers"] = json.loads(anomaly["drivers"] or "[]")
    ty = _q(board, "unit_typology", period=period, **kw)
    return UnitSignals(anomaly, ty.iloc[0].to_dict() if len(ty) else None, _q(board, "unit_typology_history", **kw))


def period_anomalies(board: Board, user: User, grain: str, period: str, identity: str | None = None) -> pd.DataFrame:
    """The period's 异常模式 signals for the user's units, most unusual first, with the indicators named."""
    df = _q(board, "period_anomalies", user.scope, identity=identity, grain=grain, period=period)
    if len(df):
        df["indicators"] = df.drivers.map(lambda s: "、".join(
            f"{d['name_zh']}{'偏高' if d['z'] > 0 else '偏低'}" for d in json.loads(s or "[]")))
    return df


def period_typologies(board: Board, user: User, grain: str, period: str, identity: str | None = None) -> pd.DataFrame:
    return _q(board, "period_typologies", user.scope, identity=identity, grain=grain, period=period)


def typology_model(board: Board, grain: str, identity: str | None = None) -> dict | None:
    df = _q(board, "typology_model", identity=identity, grain=grain)
    if df.empty:
        return None
    row = df.iloc[0].to_dict()
    row["candidates"] = json.loads(row["candidates"])
    row["centres"] = json.loads(row["centres"])
    return row


def validation(board: Board, identity: str | None = None) -> pd.DataFrame:
    """Indicators and composites against next-period outcomes (aggregates: every role), verdicts in words."""
    df = _q(board, "indicator_validation", identity=identity)
    if len(df):
        df["verdict"] = df.verdict.map(lambda c: vocabulary.word("validation_verdict", c))
        df["kind"] = df.kind.map(lambda c: vocabulary.word("validation_kind", c))
    return df


def typology_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Units per type (the frame of period_typologies), largest first."""
    if frame.empty:
        return pd.DataFrame(columns=["type_name", "units", "examples"])
    g = frame.groupby("type_name", sort=False)
    return (pd.DataFrame({"units": g.size(), "examples": g.unit_name.agg(lambda u: "、".join(list(u)[:5]))})
            .reset_index().sort_values("units", ascending=False, kind="stable"))


def models(board: Board, identity: str | None = None) -> dict[str, list[dict]]:
    """model → the details of its runs in this build (one per grain for anomalies and validation)."""
    out: dict[str, list[dict]] = {}
    for m, d in _q(board, "learning_models", identity=identity).itertuples(index=False):
        out.setdefault(m, []).append(json.loads(d))
    return out


def predicted_summary(board: Board, user: User, identity: str | None = None) -> pd.DataFrame:
    return _q(board, "predicted_categories_summary", user.scope, identity=identity)


def predicted_categories(board: Board, user: User, audit: Audit, identity: str | None = None) -> pd.DataFrame:
    """Single petitions' predicted categories (low-confidence first): analysts and admins; audited."""
    if not user.can_see_records:
        raise AccessDenied("当前角色无权查看记录级数据")
    df = _q(board, "predicted_categories", user.scope, identity=identity)
    audit("view_records", None, {"what": "predicted_categories", "rows": int(len(df))})
    return df


def person_clues(board: Board, user: User, identity: str | None = None) -> pd.DataFrame:
    """Person-level clues touching the user's units (pseudonyms only): analysts and admins, never leaders."""
    if not user.can_see_records:
        raise AccessDenied("当前角色无权查看人员线索")
    return _q(board, "person_clues", user.scope, identity=identity)


def clue_records(board: Board, user: User, clue_id: str, audit: Audit, identity: str | None = None) -> pd.DataFrame:
    """The records behind one person clue, of the user's units only; audited before they are handed out."""
    if not user.can_see_records:
        raise AccessDenied("当前角色无权查看记录级数据")
    df = _q(board, "person_clue_records", user.scope, identity=identity, clue=clue_id)
    if len(df):
        df["source_table"] = df.source_table.map(lambda t: vocabulary.word("ledger", t))
    audit("view_records", clue_id, {"what": "person_clue_records", "rows": int(len(df))})
    return df
