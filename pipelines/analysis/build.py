"""`zhengtai build`: ledgers → indicators → composite index → warnings, trends, portraits; swapped in at once.

Steps (each a set operation in DuckDB or a matrix operation in numpy, never a loop over units or rows):
  1. calendar, and numerators/denominators of every indicator for every period of every grain, in DuckDB
     (indicators.compute_raw: one monthly pass per ledger for structured definitions, the compiled `sql`
     definitions alongside on a second connection)
  2. then one grain at a time, on dense period × unit × indicator arrays: values, statuses, missing policy,
     empirical-Bayes estimates, thresholds, flags (indicators.compute_values); the distinct ledger records behind
     every flag, counted in DuckDB on a third connection, lower each warning to the level they support
     (_evidence, supported_levels); severities (scoring.severity), the units × periods panel through the index
     engine, grades by the evidence rule (grading.py), percentiles, ranks, trends (scoring.py), with the
     records of every unit-period and which periods are provisional (records.sql, _records_and_provisional);
     Monte Carlo rank intervals for the latest periods;
     coherence per period. While numpy computes grain g + 1, two writer threads hand grain g to DuckDB:
     indicator_values, unit_scores and contributions through Arrow (results.py) on the main connection;
     warnings, their evidence rows and portraits on the second (warnings.sql, catalogue.evidence_queries,
     portraits.py, portraits.sql). Memory holds about two grains.
  3. everything is written into staged copies of the result tables; one short transaction then swaps them in
     and records the build in build_runs, so readers see the previous build or this one, never half, and a
     failed build leaves the previous results. Then the warehouse is published for the dashboard.
What each grain stores is set in data/index_settings.yaml and documented in results.sql.
Timings: wall and CPU seconds per step; steps of the writer threads overlap the main thread's and are
reported as 'write:… (overlapped)'. ZHENGTAI_TRACE_SQL=1 times each statement of the main thread's scripts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import duckdb

from pipelines import vocabulary, warehouse
from pipelines.analysis import catalogue as catalogue_mod
from pipelines.analysis import grading, indicators, methods, portraits, results, scoring
from pipelines.analysis.catalogue import Catalogue, evidence_queries
from pipelines.ml import signals

RESULT_TABLES = ("indicator_catalogue", "indicator_values", "unit_scores", "contributions", "warnings",
                 "warning_evidence", "sensitivity", "coherence", "portraits", *signals.TABLES)


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
    basis = pd.DataFrame({"code": np.arange(len(grading.BASIS), dtype=np.int8),
                          "text": [vocabulary.word("grade_basis", b) for b in grading.BASIS]})
    for name, df, cast in (("ind_text", ind, "ind::INTEGER AS ind, name_zh, unit"), ("dim_text", dims, "*"),
                           ("level_dim", lv, "code::TINYINT AS code, level"),
                           ("grade_dim", gr, "code::TINYINT AS code, grade"),
                           ("basis_text", basis, "code::TINYINT AS code, text")):
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
            "definition_zh": i.definition_zh,
            "weight": 0.0 if i.context else float(weights.get(i.id, i.weight)), "definition": i.definition,
            "rationale": i.rationale, "false_positives": i.false_positives, "unit": i.unit,
            "min_sample": i.min_sample, "missing": i.missing,
            "threshold_rule": th.describe_all_zh(i.direction, i.unit) if th else None,
            "dimension_weight": 0.0 if i.context else float(weights.get(i.dimension, dims[i.dimension].weight)),
            "context": i.context,
        })
    return pd.DataFrame(rows)


def build(db: str | Path, *, catalogue_path: str | Path | None = None, settings_path: str | Path | None = None,
          publish: bool = True, progress=None) -> BuildSummary:
    """Compute everything from the warehouse at `db` and replace the previous build's results.

    `progress` (a pipelines.progress.Reporter) hears of every step, with the unit-periods of each grain."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        return _build(db, catalogue_path, settings_path, publish, progress)
    # The matrices here are small (units × indicators): a multi-threaded BLAS spends far more time
    # synchronising than computing, up to 100x slower on a busy 2-core machine. DuckDB keeps its threads.
    with threadpool_limits(limits=1, user_api="blas"):
        return _build(db, catalogue_path, settings_path, publish, progress)


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


def _script(con: duckdb.DuckDBPyConnection, text: str, clock: _Clock | None = None, name: str = "") -> None:
    """Run a .sql file statement by statement; ZHENGTAI_TRACE_SQL=1 times each one (name#n) in the timings."""
    trace = clock is not None and os.environ.get("ZHENGTAI_TRACE_SQL") == "1"
    for k, stmt in enumerate(con.extract_statements(text)):
        con.execute(stmt)
        if trace:
            clock.lap(f"{name}#{k}")


FLAGS = pa.schema([("pid", pa.int32()), ("uid", pa.int32()), ("ind", pa.int32()), ("level", pa.int32()),
                   ("threshold", pa.float64()), ("value", pa.float64()), ("records", pa.int32())])


def _flags(pids: np.ndarray, v: indicators.Values, records: np.ndarray | None = None) -> pa.Table:
    """The values of a grain that reach a warning level (sparse), with the records behind each."""
    p, u, i = np.nonzero(v.level > 0)
    rec = np.zeros(len(p), dtype=np.int32) if records is None else records[p, u, i].astype(np.int32)
    return pa.table({"pid": pids[p], "uid": u.astype(np.int32), "ind": i.astype(np.int32),
                     "level": v.level[p, u, i].astype(np.int32), "threshold": v.flag_threshold()[p, u, i],
                     "value": v.value[p, u, i], "records": rec}, schema=FLAGS)


def _evidence(con: duckdb.DuckDBPyConnection, query: str | None, pids: np.ndarray, v: indicators.Values,
              levels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ledger records behind every flagged value (periods × units × indicators) and behind each
    unit-period's flags per level (rows × levels: each dimension, then the index), from the evidence conditions of
    the catalogue, on the build's evidence connection."""
    n_p, n_u, n_i = v.level.shape
    per_flag = np.zeros((n_p, n_u, n_i), dtype=np.int32)
    per_level = np.zeros((n_p * n_u, len(levels)), dtype=np.int32)
    if query is None or not (v.level > 0).any():
        return per_flag, per_level
    con.register("flags", _flags(pids, v))
    try:
        _script(con, _sql("flagged.sql"))
        got = con.execute(query).fetchnumpy()
    finally:
        con.unregister("flags")
    pos = np.asarray(got["pid"]) - int(pids[0])
    uid = np.asarray(got["uid"])
    ind = got["ind"]
    dim = got["dimension"]
    rec = np.asarray(got["records"], dtype=np.int32)
    ind_null = np.ma.getmaskarray(ind) if isinstance(ind, np.ma.MaskedArray) else np.isnan(ind.astype(float))
    dim_null = np.ma.getmaskarray(dim) if isinstance(dim, np.ma.MaskedArray) else np.array([d is None for d in dim])
    k = ~ind_null
    per_flag[pos[k], uid[k], np.asarray(ind)[k].astype(np.intp)] = rec[k]
    col = {d: j for j, d in enumerate(levels)}
    k = ind_null & ~dim_null
    if k.any():
        j = np.array([col.get(str(d), -1) for d in np.asarray(dim)[k]])
        ok = j >= 0
        per_level[(pos[k] * n_u + uid[k])[ok], j[ok]] = rec[k][ok]
    k = ind_null & dim_null
    per_level[pos[k] * n_u + uid[k], -1] = rec[k]
    return per_flag, per_level


def supported_levels(records: np.ndarray, min_records) -> np.ndarray:
    """The warning level a number of distinct records behind a value can support: 黄, 橙 and 红 need at least
    min_records[0], [1] and [2] of them (a red warning does not rest on one record)."""
    m = [int(x) for x in min_records]
    return ((records >= m[0]).astype(np.int8) + (records >= m[1]) + (records >= m[2])).astype(np.int8)


def _prepare(con: duckdb.DuckDBPyConnection, cat: Catalogue, settings: dict, levels: list[str]) -> None:
    """Session settings and the temp tables every query of the build joins against (calendar, units, catalogue,
    names, text macros): temp objects belong to one connection, so each connection of the build gets its own."""
    # DuckDB's memory_limit comes from the memory budget (warehouse.connect); insertion order is not needed.
    con.execute("SET preserve_insertion_order = false")
    indicators.prepare_calendar(con, settings["grains"])
    indicators.create_dims(con, cat)
    _text_tables(con, cat, levels)
    _script(con, warehouse.sql_file("indicators/text.sql"))
    con.execute("CREATE OR REPLACE TEMP TABLE portrait_grains (grain VARCHAR)")
    con.executemany("INSERT INTO portrait_grains VALUES (?)", [[g] for g in settings["portraits"]["grains"]])


def _bands_record(cat: Catalogue, r: scoring.GrainScores) -> dict:
    b = scoring.grade_bands(cat, r.settings, r.weights)
    return {"index": [round(x, 6) for x in b.index],
            "dimensions": {d: [round(x, 6) for x in v] for d, v in b.dimensions.items()}}


def _records_and_provisional(con: duckdb.DuckDBPyConnection, cat: Catalogue, n_u: int):
    """Ledger records of every unit in every period (all periods × units, by pid − 1), and which periods are
    provisional: not over yet (the ledgers end inside them) or ending less than the history its indicators need
    (catalogue history_months) after the first month of the ledgers."""
    n_p = con.execute("SELECT count(*) FROM periods").fetchall()[0][0]
    got = con.execute(_sql("records.sql")).fetchnumpy()
    records = np.zeros((n_p, n_u), dtype=np.int32)
    records[np.asarray(got["pid"]) - 1, np.asarray(got["uid"])] = np.asarray(got["records"])
    need = max([i.history_months for i in cat.scored if i.weight > 0] or [0])
    rows = con.execute("""SELECT p.pid, p.complete, date_diff('month', s.lo, p.period_end) AS history
                          FROM periods AS p, data_span AS s ORDER BY p.pid""").fetchnumpy()
    provisional = np.zeros(n_p, dtype=bool)
    provisional[np.asarray(rows["pid"]) - 1] = ~np.asarray(rows["complete"], dtype=bool) | \
        (np.asarray(rows["history"]) < need)
    return records, provisional


def _grain_texts(con: duckdb.DuckDBPyConnection, cat: Catalogue, build_id: str, limit: int, flags: pa.Table | None,
                 rows: pa.Table | None, tokens: dict) -> None:
    """One grain's warnings, their evidence rows and its portraits (on the build's second connection)."""
    if flags is not None:
        con.register("flags", flags)
        _script(con, _sql("warnings.sql", **tokens))
        con.unregister("flags")
        ev = evidence_queries(cat, limit)
        if ev:
            con.execute(f"INSERT INTO warning_evidence{results.STAGED} BY NAME SELECT ? AS build_id, * FROM (\n"
                        + "\nUNION ALL\n".join(ev) + "\n)", [build_id])
    if rows is not None:
        # Read straight from Arrow in small batches: every batch is a task, so both cores build the text.
        con.register("portrait_rows", pa.Table.from_batches(rows.to_batches(max_chunksize=8192), rows.schema))
        _script(con, _sql("portraits.sql", **tokens))
        con.unregister("portrait_rows")


def _build(db, catalogue_path, settings_path, publish, progress=None) -> BuildSummary:
    t0 = time.perf_counter()
    clock = _Clock()

    cat = catalogue_mod.load(catalogue_path)
    settings = methods.load(settings_path)
    stamp = json.dumps({"catalogue_sha256": cat.sha256, "settings": settings}, sort_keys=True, ensure_ascii=False)
    built_at = dt.datetime.now().replace(microsecond=0)
    build_id = f"{built_at:%Y%m%dT%H%M%S}-{hashlib.sha256(stamp.encode()).hexdigest()[:8]}"
    levels = [d.id for d in cat.scored_dimensions] + [scoring.TOP]
    por = settings["portraits"]
    tokens = {"build_id": build_id, "staged": results.STAGED, "themes_min": int(por["themes_min"]),
              "interval_periods": int(settings["uncertainty"]["periods"]),
              **portraits.tokens(int(por["drivers"]), len(levels))}

    con = warehouse.connect(db)
    # A second connection for the text-heavy SQL (warnings, evidence, portraits), which runs alongside the writes
    # of the main connection: DuckDB runs queries of different connections at the same time. A third counts the
    # records behind each grain's warnings before it is graded (the main thread waits for it: grades need it).
    aux = con.cursor()
    evc = con.cursor()
    staged = False
    try:
        warehouse.apply_schema(con, ("schema.sql", "results.sql", "learning.sql"))
        _prepare(con, cat, settings, levels)
        indicators.check_data(con)
        _prepare(aux, cat, settings, levels)
        _prepare(evc, cat, settings, levels)
        slices = indicators.grain_slices(con)
        if progress:
            progress.step("从台账计算指标")
        raw = indicators.compute_raw(con, cat, slices, aux)
        clock.lap("indicators")

        sectors = indicators.unit_sectors(con)
        units = [r[0] for r in con.execute("SELECT unit_name FROM unit_dim ORDER BY uid").fetchall()]
        n_u = len(units)
        period_names = dict(con.execute("SELECT pid, period FROM periods").fetchall())
        records_all, provisional_all = _records_and_provisional(con, cat, n_u)
        names = results.Names.make(units, cat, levels)
        directions = np.array([float(i.direction) for i in cat.indicators])
        cols = np.array([i.code for i in cat.scored])
        ids = [i.id for i in cat.indicators]
        clearances = ids.index("clearances") if "clearances" in ids else None
        unfounded = ids.index("unfounded_share") if "unfounded_share" in ids else None
        limit = int(settings["warnings"]["evidence_limit"])
        min_records = settings["warnings"]["min_records"]
        grains_of = {key: set(settings[key]["grains"]) for key in ("warnings", "portraits", "contributions", "grades")}
        count_query = catalogue_mod.evidence_count_query(cat)
        engine, sens_rows, coh_rows = [], [], []
        results.stage(con, RESULT_TABLES)
        staged = True
        clock.lap("indicators")

        # DuckDB writes grain g (values, scores, contributions on `con`; warnings, evidence, portraits on `aux`)
        # while numpy computes grain g + 1.
        writer, texts = results.Writer(), results.Writer()
        texts.submit(("portrait setup", _script, (aux, _sql("portrait_setup.sql", **tokens))))
        try:
            for grain, (pids, _) in slices.items():
                n_p = len(pids)
                if progress:
                    progress.advance(1)
                    progress.step(f"{vocabulary.word('grain', grain)}：{n_p}期 × {n_u:,}个单位")
                rw = raw.pop(grain)  # each grain's raw cubes are freed once used
                v = indicators.compute_values(cat, rw.numerator, rw.denominator, rw.sample, sectors,
                                              settings["missing"]["impute"], int(settings["missing"]["min_peers"]))
                del rw
                clock.lap("values")
                warned = grain in grains_of["warnings"]
                raw_level = v.level.copy()
                if warned:
                    per_flag, evidence = _evidence(evc, count_query, pids, v, levels)
                else:  # no warnings on this grain: the records a value rests on stand in for its evidence
                    per_flag = np.nan_to_num(v.sample).astype(np.int32)
                    evidence = np.zeros((n_p * n_u, len(levels)), dtype=np.int32)
                supported = supported_levels(per_flag, min_records)
                v.level = np.minimum(v.level, supported).astype(np.int8)
                clock.lap("evidence")
                if scoring.severity_mode(settings):
                    x = scoring.severity(v, cols, directions, raw_level, supported)
                else:
                    x = v.index_value[:, :, cols]
                r = scoring.score_grain(grain, pids, n_u, x.reshape(n_p * n_u, -1), cat, settings)
                del x
                records = records_all[pids - 1].ravel()
                provisional = provisional_all[pids - 1]
                scoring.grade_grain(r, scoring.warning_levels(v.level, cols, cat, levels), records,
                                    scoring.grade_bands(cat, r.settings, r.weights), grain in grains_of["grades"])
                r.imputed_share = scoring.imputed_shares(v.status, cols, r, cat)
                pct, spct = scoring.percentiles(v.value.reshape(n_p * n_u, -1), directions, n_p, n_u, sectors)
                rt = scoring.ranks_and_trends(r.scores, n_p, n_u, sectors, grain, settings["trends"], provisional)
                # keep the engine's small outputs only (weights, settings, dropped indicators)
                engine.append(dataclasses.replace(r, normalised=None, treated=None, scores=None, grades=None,
                                                  contributions=None, basis=None, warning=None, imputed_share=None))
                clock.lap("index")
                p05, p95, sens, note = scoring.uncertainty_rows(r, settings, period_names)
                sens_rows += sens
                clock.lap("uncertainty")
                coh_rows += scoring.coherence_rows(r, cat, period_names)
                clock.lap("coherence")

                shape = v.value.shape
                pct, spct = pct.reshape(shape), spct.reshape(shape)
                flags = _flags(pids, v, per_flag) if warned else None
                extra = {"records": records, "evidence": evidence, "provisional": np.repeat(provisional, n_u),
                         "interval_note": note.ravel()}
                rows = (portraits.inputs(pids, r, rt, p05.ravel(), p95.ravel(), v, pct, spct, sectors, cols,
                                         int(por["drivers"]), clearances, warned, extra, unfounded)
                        if grain in grains_of["portraits"] else None)
                norm = np.full(shape, np.nan)
                norm[:, :, cols] = r.normalised.reshape(n_p, n_u, -1)
                periods = pa.array([period_names[int(p)] for p in pids], pa.string())
                steps = [("write:indicator_values", results.indicator_values,
                          (con, build_id, grain, periods, names, v, norm, pct, spct)),
                         ("write:unit_scores", results.unit_scores,
                          (con, build_id, grain, periods, names, r, rt, p05, p95, extra))]
                if grain in grains_of["contributions"]:
                    steps.append(("write:contributions", results.contributions,
                                  (con, build_id, grain, periods, names, r, cols)))
                clock.lap("portrait inputs")
                writer.submit(*steps)
                texts.submit(("warnings, evidence, portraits", _grain_texts,
                              (aux, cat, build_id, limit, flags, rows, tokens)))
                del v, r, rt, pct, spct, norm, steps, flags, rows, raw_level, per_flag, supported, evidence, extra
                clock.lap("wait for writes")
                if progress:
                    progress.advance(0, rows=n_p * n_u)
                    progress.line(f"{vocabulary.word('grain', grain)}：{n_p * n_u:,}个单位期已评分（累计{progress.rate()}）")
        finally:
            try:
                writer.close()
            finally:
                texts.close()
        clock.lap("wait for writes")
        clock.timings.update({f"{k} (overlapped)": v for k, v in {**writer.timings, **texts.timings}.items()})

        weights = engine[0].weights if engine else {}
        cat_rows = _catalogue_rows(cat, weights)
        sens = pd.DataFrame(sens_rows, columns=["grain", "period", "factor", "variance_share", "detail"])
        sens["detail"] = sens["detail"].map(lambda d: json.dumps(d, ensure_ascii=False))
        coh = pd.DataFrame(coh_rows, columns=["grain", "period", "dimension", "statistic", "value"])
        record = {"catalogue_version": cat.version, "catalogue_sha256": cat.sha256,
                  "catalogue_path": str(cat.path), **settings,
                  "engine": engine[0].settings.to_dict() if engine else {},
                  # what the engine aggregated: the severities it was given (indicator_values.normalised), or the
                  # values after the missing policy that it normalised itself (indicator_values.index_value)
                  "engine_input": "normalised" if scoring.severity_mode(settings) else "index_value",
                  "grade_bands": _bands_record(cat, engine[0]) if engine else {},
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
        # Learned signals (anomalies, typologies, person clues, validation, predicted categories) from the staged
        # results, staged themselves: swapped in with everything else.
        learned = signals.run(con, build_id, st)
        clock.timings.update({f"learning:{k}": v for k, v in learned["timings"].items()})
        clock.lap("learning")

        # One short transaction: the staged tables replace the previous build's, and the build is recorded.
        if progress:
            progress.advance(1)
            progress.step("提交")
        with warehouse.transaction(con):
            results.swap(con, RESULT_TABLES)
            con.execute("INSERT INTO build_runs VALUES (?, ?, ?, ?, ?, 'complete', ?)",
                        [build_id, built_at, cat.version, cat.sha256,
                         json.dumps(record, ensure_ascii=False, default=str), round(time.perf_counter() - t0, 3)])
            if publish:
                warehouse.request_publish(con, build_id)
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
        aux.close()
        evc.close()
        if staged:  # a failed build leaves the previous results, and no half-written copies
            results.discard(con, RESULT_TABLES)
        con.close()
    if progress and publish:
        progress.step("发布到仪表盘")
    published = warehouse.publish(db) if publish else None
    clock.lap("publish")
    return BuildSummary(build_id, round(time.perf_counter() - t0, 3), n_u, periods, len(cat.indicators), n_warn,
                        clock.timings, published, clock.cpu)
