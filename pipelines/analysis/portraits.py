"""Unit portraits (画像): what numpy hands to portraits.sql, and the SQL expressions that turn it into JSON text.

Per grain of the portraits, one wide row per unit and period (`inputs`): the index line (score, grade, ranks,
interval, trends, how many units were ranked), the warnings counted by grade, the context indicator
(clearances) and the other protective facts, the grade's basis, records and provisional mark, every level's score
against its sector (none for a unit alone in it) and overall averages, and the drivers: the indicators whose
contribution most exceeds the period's average for that indicator, most first, in fixed slots d0…dn — only the
unit's own observed values, never an imputed one.
One wide row means the SQL writes each portrait with a projection, not with joins and ordered aggregates over
millions of long rows; the JSON is concatenated text around numbers DuckDB formats (`tokens`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa

from pipelines.analysis.indicators import OK, Values
from pipelines.analysis.scoring import GRADE_LABELS, GrainScores


def _f(a) -> pa.Array:
    return pa.array(np.asarray(a, dtype=float).ravel(), from_pandas=True)  # NaN → NULL


def _group_mean_count(x: np.ndarray, sectors: np.ndarray):
    """For periods × units × k: mean and count of the non-missing values over all units of the period, and over
    the unit's sector peers (broadcast back to every unit)."""
    ok = ~np.isnan(x)
    n_all = ok.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_all = np.where(ok, x, 0.0).sum(axis=1, keepdims=True) / n_all
    mean_sec = np.empty_like(x)
    n_sec = np.empty(x.shape, dtype=np.int64)
    for s in np.unique(sectors):  # a loop over sectors (a few dozen), not units
        idx = np.flatnonzero(sectors == s)
        n = ok[:, idx].sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_sec[:, idx] = np.where(ok[:, idx], x[:, idx], 0.0).sum(axis=1, keepdims=True) / n
        n_sec[:, idx] = n
    return np.broadcast_to(mean_all, x.shape), np.broadcast_to(n_all, x.shape), mean_sec, n_sec


def inputs(pids: np.ndarray, r: GrainScores, rt: dict, p05: np.ndarray, p95: np.ndarray, v: Values,
           pct: np.ndarray, spct: np.ndarray, sectors: np.ndarray, cols: np.ndarray, n_drivers: int,
           clearances: int | None, warned: bool, extra: dict, unfounded: int | None = None) -> pa.Table:
    """The grain's portrait rows (see the module docstring). pct, spct: percentiles among all units and among
    sector peers, periods × units × indicators; cols: catalogue codes of the scored indicators; warned: the grain
    has warnings; extra: records, evidence, provisional and interval_note per row (build.py); unfounded: the
    catalogue code of the indicator counting reports found untrue (a protective fact, like clearances).
    Only a unit's own observed values drive it: an imputed, filled-in or small-sample value is never a driver."""
    n_p, n_u, n_l = len(pids), r.n_units, len(r.levels)
    rows = n_p * n_u
    s3 = r.scores.reshape(n_p, n_u, n_l)
    all_avg, n_all, sec_avg, n_sec = _group_mean_count(s3, sectors)
    grade = np.full(rows, -1, dtype=np.int8)
    for k, g in enumerate(GRADE_LABELS):
        grade[r.grades[:, -1] == g] = k
    level = v.level.reshape(rows, -1)
    out = {
        "pid": np.repeat(pids, n_u), "uid": np.tile(np.arange(n_u, dtype=np.int32), n_p),
        "score": _f(r.scores[:, -1]), "grade_code": pa.array(grade, mask=grade < 0),
        "rank": _f(rt["rank"][:, -1]), "rank_p05": _f(p05), "rank_p95": _f(p95),
        "sector_rank": _f(rt["sector_rank"][:, -1]), "change_prev": _f(rt["change_prev"][:, -1]),
        "change_yoy": _f(rt["change_yoy"][:, -1]), "rising": rt["rising"][:, -1],
        "n_units": n_all[:, :, -1].ravel(), "n_sector": n_sec[:, :, -1].ravel(),
        "clearances": _f(v.numerator[:, :, clearances].ravel() if clearances is not None else np.full(rows, np.nan)),
        "unfounded": _f(v.numerator[:, :, unfounded].ravel() if unfounded is not None else np.full(rows, np.nan)),
        "records": pa.array(np.asarray(extra["records"], dtype=np.int32)),
        "evidence": pa.array(np.asarray(extra["evidence"])[:, -1].astype(np.int32)),
        "provisional": pa.array(np.asarray(extra["provisional"], dtype=bool)),
        "interval_note": pa.array(np.asarray(extra["interval_note"], dtype=np.int8)),
        "basis": pa.array(r.basis[:, -1].astype(np.int8)),
        "imputed_share": _f(r.imputed_share[:, -1]),
    }
    for name, lv in (("w_red", 3), ("w_orange", 2), ("w_yellow", 1)):
        out[name] = (level == lv).sum(axis=1) if warned else np.zeros(rows, dtype=np.int64)
    alone = n_sec <= 1  # no sector peer: a sector average would be the unit itself
    for k in range(n_l):
        out[f"s{k}"], out[f"aa{k}"] = _f(s3[:, :, k]), _f(all_avg[:, :, k])
        out[f"sa{k}"] = _f(np.where(alone[:, :, k], np.nan, sec_avg[:, :, k]))

    c3 = r.contributions.reshape(n_p, n_u, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        excess = (c3 - np.nanmean(c3, axis=1, keepdims=True)).reshape(rows, -1)
    own = (v.status[:, :, cols] == OK).reshape(rows, -1)  # the unit's own value: never an imputed one
    excess = np.where(np.isnan(excess) | ~own, -np.inf, excess)
    top = np.argsort(-excess, axis=1, kind="stable")[:, :n_drivers]
    top_ex = np.take_along_axis(excess, top, axis=1)
    value, pcts, spcts = v.value.reshape(rows, -1), pct.reshape(rows, -1), spct.reshape(rows, -1)
    at = np.arange(rows)
    for k in range(n_drivers):
        if k < top.shape[1]:
            j, ex = top[:, k], top_ex[:, k]
            ind = cols[j]
            none = ~(ex > 0)  # only indicators above the period's average contribution drive a unit
        else:
            j = ind = np.zeros(rows, dtype=np.intp)
            ex = np.full(rows, np.nan)
            none = np.ones(rows, dtype=bool)
        out[f"d{k}_ind"] = pa.array(ind.astype(np.int32), mask=none)
        out[f"d{k}_value"] = _f(np.where(none, np.nan, value[at, ind]))
        out[f"d{k}_pct"] = _f(np.where(none, np.nan, pcts[at, ind]))
        out[f"d{k}_spct"] = _f(np.where(none, np.nan, spcts[at, ind]))
        out[f"d{k}_contrib"] = _f(np.where(none, np.nan, r.contributions[at, j]))
        out[f"d{k}_excess"] = _f(np.where(none, np.nan, ex))
        out[f"d{k}_flag"] = pa.array(level[at, ind] > 0, mask=none)
    return pa.table(out)


def tokens(n_drivers: int, n_levels: int) -> dict[str, str]:
    """SQL expressions over one row of `inputs` (alias i) and the one-row constants c (heads, names, units:
    per indicator code + 1; lheads: per level code + 1) for portraits.sql:
      $shown     each driver's value as shown in text (d<k>_shown)
      $top_ok    up to three drivers with a value, as 名称（数值） labels (名称偏低（数值） for protective ones)
      $drivers   the drivers as a JSON array
      $peers     every level's score against its averages as a JSON object"""
    num = lambda x, digits=None: (f"coalesce(round({x}, {digits})::VARCHAR, 'null')" if digits is not None  # noqa: E731
                                  else f"coalesce({x}::VARCHAR, 'null')")
    shown = ", ".join(f"show_value(i.d{k}_value, c.units[i.d{k}_ind + 1]) AS d{k}_shown" for k in range(n_drivers))
    # a protective indicator drives risk by being low: say so (主体责任检查得分偏低（62分）)
    top = ", ".join(f"CASE WHEN i.d{k}_value IS NOT NULL THEN c.names[i.d{k}_ind + 1] "
                    f"|| CASE WHEN c.directions[i.d{k}_ind + 1] < 0 THEN '偏低' ELSE '' END "
                    f"|| '（' || d{k}_shown || '）' END"
                    for k in range(n_drivers))
    drivers = ", ".join(
        f"""CASE WHEN i.d{k}_ind IS NOT NULL THEN concat(c.heads[i.d{k}_ind + 1], {num(f'i.d{k}_value')},
            ',"shown":', to_json(i.d{k}_shown),
            ',"status":"', CASE WHEN i.d{k}_value IS NULL THEN 'imputed' ELSE 'ok' END,
            '","percentile":', {num(f'i.d{k}_pct', 1)}, ',"sector_percentile":', {num(f'i.d{k}_spct', 1)},
            ',"low_is_risk":', CASE WHEN c.directions[i.d{k}_ind + 1] < 0 THEN 'true' ELSE 'false' END,
            ',"contribution":', {num(f'i.d{k}_contrib', 3)},
            ',"excess":', {num(f'i.d{k}_excess', 3)}, ',"flagged":', CASE WHEN i.d{k}_flag THEN 'true' ELSE 'false' END,
            '}}') END""" for k in range(n_drivers))
    peers = ", ".join(
        f"""concat(c.lheads[{k + 1}], {num(f'i.s{k}', 1)}, ',"sector":', {num(f'i.sa{k}', 1)},
            ',"all":', {num(f'i.aa{k}', 1)}, '}}')""" for k in range(n_levels))
    return {
        "shown": shown or "NULL AS no_drivers",
        "top_ok": f"list_filter([{top}], lambda x: x IS NOT NULL)[1:3]" if n_drivers else "[]::VARCHAR[]",
        "drivers": f"'[' || concat_ws(',', {drivers}) || ']'" if n_drivers else "'[]'",
        "peers": f"'{{' || concat_ws(',', {peers}) || '}}'",
    }
