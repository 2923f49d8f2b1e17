"""`zhengtai build`: ledgers → indicators → composite index → warnings, trends, portraits, in one transaction.

Steps (each a set operation in DuckDB or a matrix operation in numpy, never a loop over units or rows):
  1. calendar, and numerators/denominators of every indicator for every period of every grain, in DuckDB
     (indicators.compute_raw; SQL compiled from the catalogue and in pipelines/sql/indicators/)
  2. then one grain at a time, on dense period × unit × indicator arrays:
     values, statuses, missing policy, thresholds, flags (indicators.compute_values); the units × periods
     panel through the index engine, percentiles, ranks, grades, trends (scoring.py); Monte Carlo rank
     intervals for the latest periods; coherence per period; and the grain's rows of indicator_values,
     unit_scores and contributions written through Arrow (results.py), before the next grain is computed,
     so memory holds one grain at a time
  3. warnings with their evidence rows, portraits, from small tables the grains left behind
     (warnings.sql, catalogue.evidence_query, portraits.sql)
  4. all of it inside one transaction that first empties the result tables, so readers of the warehouse see
     the previous build or this one, never half; build_runs keeps every build's stamp; then the warehouse is
     published for the dashboard.
What each grain stores is set in data/index_settings.yaml and documented in results.sql.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import duckdb

from pipelines import warehouse
from pipelines.analysis import catalogue as catalogue_mod
from pipelines.analysis import indicators, methods, results, scoring
from pipelines.analysis.catalogue import Catalogue, evidence_query

RESULT_TABLES = ("indicator_catalogue", "indicator_values", "unit_scores", "contributions", "warnings",
                 "warning_evidence", "sensitivity", "coherence", "portraits")


@dataclass
class BuildSummary:
    build_id: str
    seconds: float
    units: int
    periods: dict[str, int]
    indicators: int
    warnings: int
    timings: dict[str, float]     # wall seconds per step
    published: Path | None
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds per step


def _sql(name: str, **tokens) -> str:
    text = warehouse.sql_file(f"indicators/{name}")
    for key, value in sorted(tokens.items(), key=lambda kv: -len(kv[0])):  # $a_b before $a
        text = text.replace(f"${key}", str(value))
    return text


def _text_tables(con: duckdb.DuckDBPyConnection, cat: Catalogue, levels: list[str]) -> None:
    """Names behind the integer codes, for the SQL that writes sentences: indicators, dimensions, levels, grades."""
    ind = pd.DataFrame([{"ind": i.code, "name_zh": i.name_zh, "unit": i.unit} for i in cat.indicators])
    dims = pd.DataFrame([{"level": d.id, "name_zh": d.name_zh} for d in cat.dimensions]
                        + [{"level": scoring.TOP, "name_zh": "综合指数"}])
    lv = pd.DataFrame({"code": np.arange(len(levels), dtype=np.int8), "level": levels})
    gr = pd.DataFrame({"code": np.arange(len(scoring.GRADE_LABELS), dtype=np.int8),
                       "grade": scoring.GRADE_LABELS.astype(str)})
    for name, df, cast in (("ind_text", ind, "ind::INTEGER AS ind, name_zh, unit"), ("dim_text", dims, "*"),
                           ("level_dim", lv, "code::TINYINT AS code, level"),
                           ("grade_dim", gr, "code::TINYINT AS code, grade")):
        con.register(f"{name}_df", df)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cast} FROM {name}_df")
        con.unregister(f"{name}_df")


def _catalogue_rows(cat: Catalogue, weights: dict[str, float]) -> pd.DataFrame:
    dims = {d.id: d for d in cat.dimensions}
    rows = []
    for i in cat.indicators:
        th = i.threshold
        rows.append({
            "indicator_id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "dimension": i.dimension,
            "dimension_zh": dims[i.dimension].name_zh, "duty": i.duty, "direction": i.direction,
            "weight": 0.0 if i.context else float(weights.get(i.id, i.weight)), "definition": i.definition,
            "rationale": i.rationale, "false_positives": i.false_positives, "unit": i.unit,
            "min_sample": i.min_sample, "missing": i.missing,
            "threshold_rule": th.describe(i.direction, 0) if th else None,
            "dimension_weight": 0.0 if i.context else float(weights.get(i.dimension, dims[i.dimension].weight)),
            "context": i.context,
        })
    return pd.DataFrame(rows)


def build(db: str | Path, *, catalogue_path: str | Path | None = None, settings_path: str | Path | None = None,
          publish: bool = True) -> BuildSummary:
    """Compute everything from the warehouse at `db` and replace the previous build's results."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        return _build(db, catalogue_path, settings_path, publish)
    # The matrices here are small (units × indicators): a multi-threaded BLAS spends far more time
    # synchronising than computing, up to 100x slower on a busy 2-core machine. DuckDB keeps its threads.
    with threadpool_limits(limits=1, user_api="blas"):
        return _build(db, catalogue_path, settings_path, publish)


class _Clock:
    """Wall and CPU seconds per step (CPU: all threads of the process, DuckDB's included), added up over grains.
    On a shared machine the CPU figures are the comparable ones."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.t, self.c = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self.t, 3)
        self.cpu[name] = round(self.cpu.get(name, 0.0) + cpu - self.c, 3)
        self.t, self.c = now, cpu


def _script(con: duckdb.DuckDBPyConnection, text: str, clock: _Clock, name: str) -> None:
    """Run a .sql file statement by statement; ZHENGTAI_TRACE_SQL=1 times each one (name#n) in the timings."""
    trace = os.environ.get("ZHENGTAI_TRACE_SQL") == "1"
    for k, stmt in enumerate(con.extract_statements(text)):
        con.execute(stmt)
        if trace:
            clock.lap(f"{name}#{k}")


def _arrow_temp(con: duckdb.DuckDBPyConnection, name: str, parts: list[pa.Table], schema: pa.Schema) -> None:
    """A temp table from Arrow tables (empty, with the schema's columns, when there are none)."""
    tbl = pa.concat_tables(parts) if parts else schema.empty_table()
    con.register(f"{name}_arrow", results.batches(tbl))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def _f(a) -> pa.Array:
    return pa.array(np.asarray(a, dtype=float).ravel(), from_pandas=True)  # NaN → NULL


FLAGS = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("ind", pa.int32()), ("level", pa.int32()),
                   ("threshold", pa.float64()), ("value", pa.float64())])
PORTRAIT_IDX = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("score", pa.float64()),
                          ("grade_code", pa.int8()), ("rank", pa.float64()), ("rank_p05", pa.float64()),
                          ("rank_p95", pa.float64()), ("sector_rank", pa.float64()), ("change_prev", pa.float64()),
                          ("change_yoy", pa.float64()), ("rising", pa.bool_()), ("n_units", pa.int64()),
                          ("n_sector", pa.int64())])
PORTRAIT_LEVELS = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("level_code", pa.int8()),
                             ("score", pa.float64()), ("sector_avg", pa.float64()), ("all_avg", pa.float64())])
DRIVERS = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("ind", pa.int32()), ("pos", pa.int32()),
                     ("excess", pa.float64()), ("value", pa.float64()), ("contribution", pa.float64()),
                     ("percentile", pa.float64()), ("flagged", pa.bool_())])
CONTEXT = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("clearances", pa.float64())])


def _flags(pids: np.ndarray, v: indicators.Values) -> pa.Table:
    """The values of a grain that reach a warning level (sparse)."""
    p, u, i = np.nonzero(v.level > 0)
    return pa.table({"pid": pids[p], "uid": u.astype(np.int32), "ind": i.astype(np.int32),
                     "level": v.level[p, u, i].astype(np.int32), "threshold": v.flag_threshold()[p, u, i],
                     "value": v.value[p, u, i]}, schema=FLAGS)


def _group_mean_count(x: np.ndarray, sectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def _portrait_inputs(pids, r: scoring.GrainScores, rt: dict, p05, p95, v: indicators.Values, pct: np.ndarray,
                     sectors: np.ndarray, cols: np.ndarray, n_drivers: int, clearances: int | None):
    """Small tables the portraits are written from: the index line, every level against its averages, the
    drivers (indicators whose contribution most exceeds the period's average for that indicator), context."""
    n_p, n_u, n_l = len(pids), r.n_units, len(r.levels)
    rows = n_p * n_u
    pid = np.repeat(pids, n_u)
    uid = np.tile(np.arange(n_u, dtype=np.int32), n_p)
    s3 = r.scores.reshape(n_p, n_u, n_l)
    all_avg, n_all, sec_avg, n_sec = _group_mean_count(s3, sectors)
    gcode = np.full(r.grades.shape, -1, dtype=np.int8)
    for k, g in enumerate(scoring.GRADE_LABELS):
        gcode[r.grades == g] = k
    idx = pa.table({
        "pid": pid, "uid": uid, "score": _f(r.scores[:, -1]),
        "grade_code": pa.array(gcode[:, -1], mask=gcode[:, -1] < 0), "rank": _f(rt["rank"][:, -1]),
        "rank_p05": _f(p05), "rank_p95": _f(p95), "sector_rank": _f(rt["sector_rank"][:, -1]),
        "change_prev": _f(rt["change_prev"][:, -1]), "change_yoy": _f(rt["change_yoy"][:, -1]),
        "rising": rt["rising"][:, -1], "n_units": n_all[:, :, -1].ravel(), "n_sector": n_sec[:, :, -1].ravel(),
    }, schema=PORTRAIT_IDX)
    levels = pa.table({
        "pid": np.repeat(pid, n_l), "uid": np.repeat(uid, n_l),
        "level_code": np.tile(np.arange(n_l, dtype=np.int8), rows), "score": _f(s3),
        "sector_avg": _f(sec_avg), "all_avg": _f(all_avg),
    }, schema=PORTRAIT_LEVELS)
    c3 = r.contributions.reshape(n_p, n_u, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        excess = (c3 - np.nanmean(c3, axis=1, keepdims=True)).reshape(rows, -1)
    excess = np.where(np.isnan(excess), -np.inf, excess)
    n = min(n_drivers, excess.shape[1])
    top = np.argsort(-excess, axis=1, kind="stable")[:, :n]
    top_ex = np.take_along_axis(excess, top, axis=1)
    ok = top_ex > 0
    rr, pos = np.nonzero(ok)
    ind = cols[top[ok]]
    flat = lambda a: a.reshape(rows, -1)  # noqa: E731
    drivers = pa.table({
        "pid": pid[rr], "uid": uid[rr], "ind": ind.astype(np.int32), "pos": (pos + 1).astype(np.int32),
        "excess": top_ex[ok], "value": _f(flat(v.value)[rr, ind]),
        "contribution": _f(r.contributions[rr, top[ok]]), "percentile": _f(flat(pct)[rr, ind]),
        "flagged": flat(v.level)[rr, ind] > 0,
    }, schema=DRIVERS)
    if clearances is None:
        context = CONTEXT.empty_table()
    else:
        num = v.numerator[:, :, clearances].ravel()
        hit = np.flatnonzero(num > 0)
        context = pa.table({"pid": pid[hit], "uid": uid[hit], "clearances": num[hit]}, schema=CONTEXT)
    return idx, levels, drivers, context


def _build(db, catalogue_path, settings_path, publish) -> BuildSummary:
    t0 = time.perf_counter()
    clock = _Clock()

    cat = catalogue_mod.load(catalogue_path)
    settings = methods.load(settings_path)
    stamp = json.dumps({"catalogue_sha256": cat.sha256, "settings": settings}, sort_keys=True, ensure_ascii=False)
    built_at = dt.datetime.now().replace(microsecond=0)
    build_id = f"{built_at:%Y%m%dT%H%M%S}-{hashlib.sha256(stamp.encode()).hexdigest()[:8]}"

    con = warehouse.connect(db)
    # Bounded memory at province scale: DuckDB spills to disk beyond this, and insertion order is not needed.
    con.execute(f"SET memory_limit = '{settings['memory_limit']}'")
    con.execute("SET preserve_insertion_order = false")
    staged = False
    try:
        warehouse.apply_schema(con, ("schema.sql", "results.sql"))
        indicators.prepare_calendar(con, settings["grains"])
        indicators.check_data(con)
        indicators.create_dims(con, cat)
        slices = indicators.grain_slices(con)
        raw = indicators.compute_raw(con, cat, slices)
        clock.lap("indicators")

        sectors = indicators.unit_sectors(con)
        units = [r[0] for r in con.execute("SELECT unit_name FROM unit_dim ORDER BY uid").fetchall()]
        n_u = len(units)
        period_names = dict(con.execute("SELECT pid, period FROM periods").fetchall())
        levels = [d.id for d in cat.scored_dimensions] + [scoring.TOP]
        names = results.Names.make(units, cat, levels)
        _text_tables(con, cat, levels)
        directions = np.array([float(i.direction) for i in cat.indicators])
        cols = np.array([i.code for i in cat.scored])
        ids = [i.id for i in cat.indicators]
        clearances = ids.index("clearances") if "clearances" in ids else None
        por = settings["portraits"]
        grains_of = {key: set(settings[key]["grains"]) for key in ("warnings", "portraits", "contributions")}
        engine, sens_rows, coh_rows = [], [], []
        flag_parts, idx_parts, lvl_parts, drv_parts, ctx_parts = [], [], [], [], []
        results.stage(con, RESULT_TABLES)
        staged = True
        clock.lap("indicators")

        writer = results.Writer()  # DuckDB writes grain g while numpy computes grain g + 1
        try:
            for grain, (pids, _) in slices.items():
                n_p = len(pids)
                rw = raw.pop(grain)  # each grain's raw cubes are freed once used
                v = indicators.compute_values(cat, rw.numerator, rw.denominator, rw.sample, sectors,
                                              settings["missing"]["impute"])
                del rw
                clock.lap("values")
                r = scoring.score_grain(grain, pids, n_u, v.index_value[:, :, cols].reshape(n_p * n_u, -1), cat,
                                        settings)
                pct, spct = scoring.percentiles(v.value.reshape(n_p * n_u, -1), directions, n_p, n_u, sectors)
                rt = scoring.ranks_and_trends(r.scores, n_p, n_u, sectors, grain, settings["trends"])
                # keep the engine's small outputs only (weights, settings, dropped indicators)
                engine.append(dataclasses.replace(r, normalised=None, treated=None, scores=None, grades=None,
                                                  contributions=None))
                clock.lap("index")
                p05, p95, sens = scoring.uncertainty_rows(r, settings, period_names)
                sens_rows += sens
                clock.lap("uncertainty")
                coh_rows += scoring.coherence_rows(r, cat, period_names)
                clock.lap("coherence")

                shape = v.value.shape
                pct, spct = pct.reshape(shape), spct.reshape(shape)
                if grain in grains_of["warnings"]:
                    flag_parts.append(_flags(pids, v))
                if grain in grains_of["portraits"]:
                    parts = _portrait_inputs(pids, r, rt, p05.ravel(), p95.ravel(), v, pct, sectors, cols,
                                             int(por["drivers"]), clearances)
                    for acc, part in zip((idx_parts, lvl_parts, drv_parts, ctx_parts), parts):
                        acc.append(part)
                norm = np.full(shape, np.nan)
                norm[:, :, cols] = r.normalised.reshape(n_p, n_u, -1)
                periods = pa.array([period_names[int(p)] for p in pids], pa.string())
                steps = [("write:indicator_values", results.indicator_values,
                          (con, build_id, grain, periods, names, v, norm, pct, spct)),
                         ("write:unit_scores", results.unit_scores, (con, build_id, grain, periods, names, r, rt, p05, p95))]
                if grain in grains_of["contributions"]:
                    steps.append(("write:contributions", results.contributions,
                                  (con, build_id, grain, periods, names, r, cols)))
                clock.lap("portrait inputs")
                writer.submit(*steps)
                del v, r, rt, pct, spct, norm, steps
                clock.lap("wait for writes")
        finally:
            writer.close()
        clock.lap("wait for writes")
        clock.timings.update({f"{k} (overlapped)": v for k, v in writer.timings.items()})

        tokens = {"build_id": build_id, "staged": results.STAGED}
        _arrow_temp(con, "flags", flag_parts, FLAGS)
        _script(con, _sql("warnings.sql", **tokens), clock, "warnings")
        clock.lap("warnings")

        limit = int(settings["warnings"]["evidence_limit"])
        ev_parts = [evidence_query(cat, ind, ev, limit) for ind in cat.indicators if ind.threshold
                    for ev in ind.evidence]
        if ev_parts:
            con.execute(f"INSERT INTO warning_evidence{results.STAGED} BY NAME SELECT ? AS build_id, * FROM (\n"
                        + "\nUNION ALL\n".join(ev_parts) + "\n)", [build_id])
        clock.lap("evidence")

        for name, parts, schema in (("portrait_idx", idx_parts, PORTRAIT_IDX),
                                    ("portrait_levels", lvl_parts, PORTRAIT_LEVELS),
                                    ("driver_long", drv_parts, DRIVERS), ("portrait_context", ctx_parts, CONTEXT)):
            _arrow_temp(con, name, parts, schema)
        con.execute("CREATE OR REPLACE TEMP TABLE portrait_grains (grain VARCHAR)")
        con.executemany("INSERT INTO portrait_grains VALUES (?)", [[g] for g in por["grains"]])
        _script(con, _sql("portraits.sql", themes_min=int(por["themes_min"]), **tokens), clock, "portraits")
        clock.lap("portraits")

        weights = engine[0].weights if engine else {}
        cat_rows = _catalogue_rows(cat, weights)
        sens = pd.DataFrame(sens_rows, columns=["grain", "period", "factor", "variance_share", "detail"])
        sens["detail"] = sens["detail"].map(lambda d: json.dumps(d, ensure_ascii=False))
        coh = pd.DataFrame(coh_rows, columns=["grain", "period", "dimension", "statistic", "value"])
        record = {"catalogue_version": cat.version, "catalogue_sha256": cat.sha256,
                  "catalogue_path": str(cat.path), **settings,
                  "engine": engine[0].settings.to_dict() if engine else {},
                  "dropped_constant": {r.grain: r.dropped for r in engine}}
        con.register("cat_df", cat_rows)
        con.register("sens_df", sens)
        con.register("coh_df", coh)
        st = results.STAGED
        con.execute(f"INSERT INTO indicator_catalogue{st} BY NAME SELECT ? AS build_id, * FROM cat_df", [build_id])
        con.execute(f"""INSERT INTO sensitivity{st} BY NAME
            SELECT ? AS build_id, grain, period, factor, variance_share, detail::JSON AS detail FROM sens_df""",
                    [build_id])
        con.execute(f"INSERT INTO coherence{st} BY NAME SELECT ? AS build_id, * FROM coh_df", [build_id])
        clock.lap("write")

        # One short transaction: the staged tables replace the previous build's, and the build is recorded.
        with warehouse.transaction(con):
            results.swap(con, RESULT_TABLES)
            con.execute("INSERT INTO build_runs VALUES (?, ?, ?, ?, ?, 'complete', ?)",
                        [build_id, built_at, cat.version, cat.sha256,
                         json.dumps(record, ensure_ascii=False, default=str), round(time.perf_counter() - t0, 3)])
        staged = False
        clock.lap("commit")
        n_warn = con.execute("SELECT count(*) FROM warnings").fetchall()[0][0]
        periods = {g: len(pids) for g, (pids, _) in slices.items()}
    except duckdb.Error:
        # Bind the catalogue's queries one by one to name the indicator whose definition or evidence query is
        # broken (a UserError naming it), else re-raise as is.
        try:
            catalogue_mod.validate_sql(cat, con)
        except duckdb.Error:
            pass
        raise
    finally:
        if staged:  # a failed build leaves the previous results, and no half-written copies
            results.discard(con, RESULT_TABLES)
        con.close()
    published = warehouse.publish(db) if publish else None
    clock.lap("publish")
    return BuildSummary(build_id, round(time.perf_counter() - t0, 3), n_u, periods, len(cat.indicators), n_warn,
                        clock.timings, published, clock.cpu)
