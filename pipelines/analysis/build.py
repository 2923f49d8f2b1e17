"""`zhengtai build`: ledgers → indicators → composite index → warnings, trends, portraits, in one transaction.

Steps (each a set operation in DuckDB or a matrix operation in numpy, never a loop over units or rows):
  1. calendar and indicator values for every grain (indicators.py, SQL in pipelines/sql/indicators/)
  2. per grain, the units × periods panel through the index engine (scoring.py)
  3. Monte Carlo rank intervals and variance shares for the latest periods; coherence per period
  4. ranks, grades, trends, warnings with their evidence rows, portraits (assemble.sql, portraits.sql)
  5. one transaction replaces the previous build's results; build_runs keeps every build's stamp;
     then the warehouse is published for the dashboard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import duckdb

from pipelines import warehouse
from pipelines.analysis import catalogue as catalogue_mod
from pipelines.analysis import indicators, methods, scoring
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
    timings: dict[str, float]
    published: Path | None


def _sql(name: str, **tokens) -> str:
    text = warehouse.sql_file(f"indicators/{name}")
    for key, value in sorted(tokens.items(), key=lambda kv: -len(kv[0])):  # $a_b before $a
        text = text.replace(f"${key}", str(value))
    return text


def _text_tables(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> None:
    ind = pd.DataFrame([{"ind": i.code, "name_zh": i.name_zh, "unit": i.unit} for i in cat.indicators])
    dims = pd.DataFrame([{"level": d.id, "name_zh": d.name_zh} for d in cat.dimensions]
                        + [{"level": scoring.TOP, "name_zh": "综合指数"}])
    con.register("ind_text_df", ind)
    con.register("dim_text_df", dims)
    con.execute("CREATE OR REPLACE TEMP TABLE ind_text AS SELECT ind::INTEGER AS ind, name_zh, unit FROM ind_text_df")
    con.execute("CREATE OR REPLACE TEMP TABLE dim_text AS SELECT * FROM dim_text_df")
    con.unregister("ind_text_df")
    con.unregister("dim_text_df")


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


def _build(db, catalogue_path, settings_path, publish) -> BuildSummary:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    cat = catalogue_mod.load(catalogue_path)
    settings = methods.load(settings_path)
    stamp = json.dumps({"catalogue_sha256": cat.sha256, "settings": settings}, sort_keys=True, ensure_ascii=False)
    built_at = dt.datetime.now().replace(microsecond=0)
    build_id = f"{built_at:%Y%m%dT%H%M%S}-{hashlib.sha256(stamp.encode()).hexdigest()[:8]}"

    con = warehouse.connect(db)
    # Bounded memory at province scale: DuckDB spills to disk beyond this, and insertion order is not needed.
    con.execute(f"SET memory_limit = '{settings['memory_limit']}'")
    con.execute("SET preserve_insertion_order = false")
    try:
        warehouse.apply_schema(con, ("schema.sql", "results.sql"))
        t = time.perf_counter()
        indicators.compute_all(con, cat, settings)
        t = lap("indicators", t)

        grains = [g for g in settings["grains"]]
        period_names = dict(con.execute("SELECT pid, period FROM periods").fetchall())
        results, mc_parts, sens_rows, coh_rows = [], [], [], []
        extras = {}
        sectors = pd.factorize(con.execute("SELECT sector FROM unit_dim ORDER BY uid").df()["sector"])[0]
        directions = np.array([float(i.direction) for i in cat.indicators])
        for grain in grains:
            pids, n_units, x, v = scoring.load_matrix(con, cat, grain)
            if len(pids) == 0:
                continue
            results.append(scoring.score_grain(grain, pids, n_units, x, cat, settings))
            extras[grain] = (v, *scoring.percentiles(v, directions, len(pids), n_units, sectors))
            del x
        t = lap("index", t)
        for r in results:
            ranks, sens = scoring.uncertainty_rows(r, settings, period_names)
            mc_parts += ranks
            sens_rows += sens
        t = lap("uncertainty", t)
        for r in results:
            coh_rows += scoring.coherence_rows(r, cat, period_names)
        t = lap("coherence", t)

        scoring.register_scores(con, results, cat, extras, int(settings["portraits"]["drivers"]), sectors,
                                settings["trends"])
        del extras
        mc = pd.concat(mc_parts, ignore_index=True) if mc_parts else pd.DataFrame(
            {"pid": pd.Series(dtype="int32"), "uid": pd.Series(dtype="int32"),
             "rank_p05": pd.Series(dtype="float64"), "rank_p95": pd.Series(dtype="float64")})
        con.register("mc_df", mc)
        con.execute("""CREATE OR REPLACE TEMP TABLE mc_ranks AS
                       SELECT pid::INTEGER AS pid, uid::INTEGER AS uid, rank_p05, rank_p95 FROM mc_df""")
        con.unregister("mc_df")
        con.execute("CREATE OR REPLACE TEMP TABLE warn_grains (grain VARCHAR)")
        con.executemany("INSERT INTO warn_grains VALUES (?)", [[g] for g in settings["warnings"]["grains"]])
        _text_tables(con, cat)
        con.execute(_sql("assemble.sql", n_units=int(len(sectors)), n_ind=len(cat.indicators)))
        t = lap("assemble", t)

        limit = int(settings["warnings"]["evidence_limit"])
        ev_parts = [evidence_query(cat, ind, ev, limit) for ind in cat.indicators if ind.threshold
                    for ev in ind.evidence]
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE res_evidence AS\n" + "\nUNION ALL\n".join(ev_parts)
                        if ev_parts else "CREATE OR REPLACE TEMP TABLE res_evidence (warning_id VARCHAR, "
                        "source_table VARCHAR, record_key VARCHAR, record_date DATE, summary VARCHAR)")
        except duckdb.Error:
            catalogue_mod.validate_sql(cat, con)  # names the indicator whose evidence query is broken
            raise
        t = lap("evidence", t)
        por = settings["portraits"]
        con.execute("CREATE OR REPLACE TEMP TABLE portrait_grains (grain VARCHAR)")
        con.executemany("INSERT INTO portrait_grains VALUES (?)", [[g] for g in por["grains"]])
        con.execute(_sql("portraits.sql", themes_min=int(por["themes_min"])))
        t = lap("portraits", t)

        weights = results[0].weights if results else {}
        cat_rows = _catalogue_rows(cat, weights)
        sens = pd.DataFrame(sens_rows, columns=["grain", "period", "factor", "variance_share", "detail"])
        sens["detail"] = sens["detail"].map(lambda d: json.dumps(d, ensure_ascii=False))
        coh = pd.DataFrame(coh_rows, columns=["grain", "period", "dimension", "statistic", "value"])
        record = {"catalogue_version": cat.version, "catalogue_sha256": cat.sha256, "catalogue_path": str(cat.path),
                  **settings, "engine": results[0].settings.to_dict() if results else {},
                  "dropped_constant": {r.grain: r.dropped for r in results}}

        con.register("cat_df", cat_rows)
        con.register("sens_df", sens)
        con.register("coh_df", coh)
        def timed(table: str, sql: str) -> None:
            start = time.perf_counter()
            con.execute(sql)
            timings[f"write:{table}"] = round(time.perf_counter() - start, 3)

        with warehouse.transaction(con):
            for table in RESULT_TABLES:
                con.execute(f"DELETE FROM {table}")
            b = f"'{build_id}'"
            con.execute(f"INSERT INTO indicator_catalogue BY NAME SELECT {b} AS build_id, * FROM cat_df")
            timed("indicator_values", f"""INSERT INTO indicator_values BY NAME
                SELECT {b} AS build_id, grain, period, unit_name, indicator_id, numerator, denominator, value,
                       sample, status, normalised, percentile, sector_percentile, threshold, flagged, index_value,
                       below_min_sample
                FROM res_indicator_values""")
            timed("unit_scores", f"""INSERT INTO unit_scores BY NAME
                SELECT {b} AS build_id, grain, period, unit_name, level, score, rank, rank_p05, rank_p95, grade,
                       sector_rank, change_prev, change_yoy, rising
                FROM res_unit_scores""")
            timed("contributions", f"""INSERT INTO contributions BY NAME
                SELECT {b} AS build_id, grain, period, unit_name, indicator_id, dimension, contribution
                FROM res_contributions""")
            timed("warnings", f"""INSERT INTO warnings BY NAME
                SELECT {b} AS build_id, warning_id, grain, period, unit_name, indicator_id, grade, value, threshold,
                       rule, message, status
                FROM res_warnings""")
            timed("warning_evidence", f"""INSERT INTO warning_evidence BY NAME
                SELECT {b} AS build_id, warning_id, source_table, record_key, record_date, summary FROM res_evidence""")
            con.execute(f"""INSERT INTO sensitivity BY NAME
                SELECT {b} AS build_id, grain, period, factor, variance_share, detail::JSON AS detail FROM sens_df""")
            con.execute(f"INSERT INTO coherence BY NAME SELECT {b} AS build_id, * FROM coh_df")
            timed("portraits", f"""INSERT INTO portraits BY NAME
                SELECT {b} AS build_id, grain, period, unit_name, summary, drivers, peers, themes FROM res_portraits""")
            con.execute("INSERT INTO build_runs VALUES (?, ?, ?, ?, ?, 'complete', ?)",
                        [build_id, built_at, cat.version, cat.sha256,
                         json.dumps(record, ensure_ascii=False, default=str), round(time.perf_counter() - t0, 3)])
        t = lap("write", t)
        n_warn = con.execute("SELECT count(*) FROM warnings").fetchall()[0][0]
        n_units = con.execute("SELECT count(*) FROM unit_dim").fetchall()[0][0]
        periods = dict(con.execute("SELECT grain, count(*) FROM periods GROUP BY grain").fetchall())
    finally:
        con.close()
    published = warehouse.publish(db) if publish else None
    lap("publish", t)
    return BuildSummary(build_id, round(time.perf_counter() - t0, 3), n_units, periods, len(cat.indicators), n_warn,
                        timings, published)
