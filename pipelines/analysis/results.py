"""Writing a grain's results into the tables of results.sql, straight from numpy through Arrow.

Every table is written with one INSERT … SELECT over an Arrow table registered on the connection: numbers
travel as arrays, names (period, unit, indicator, level, status, grade) as dictionary-encoded columns whose
indices are the integer codes the build works with, so no Python object is made per row and DuckDB never
joins millions of rows to look names up. The big tables go in chunks of periods to bound memory.

A build writes into staged copies of the result tables (`<table>__build`, same columns) with plain
autocommitted inserts, then `swap` replaces the published tables by them in one short transaction: readers
see the previous build or the new one, never half, and DuckDB does not hold millions of uncommitted rows
in memory (a transaction around the writes themselves kept ~2.5 times the written data resident).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

import duckdb

from pipelines.analysis.grading import BASIS
from pipelines.analysis.indicators import STATUS, Values
from pipelines.analysis.scoring import GRADE_LABELS, GrainScores
from pipelines.warehouse import STAGED  # suffix of the staged result tables; a killed build's are dropped there

CHUNK_ROWS = 2_000_000  # rows per INSERT: ~200 MB of Arrow buffers for indicator_values


INSERT = {
    "indicator_values": f"""INSERT INTO indicator_values{STAGED} BY NAME
        SELECT $build AS build_id, $grain AS grain, period, unit_name, indicator_id, numerator, denominator, value,
               sample, status, normalised, percentile, sector_percentile, threshold, flagged, index_value,
               below_min_sample
        FROM chunk""",
    "unit_scores": f"""INSERT INTO unit_scores{STAGED} BY NAME
        SELECT $build AS build_id, $grain AS grain, period, unit_name, level, score, rank::INTEGER AS rank,
               rank_p05, rank_p95, grade, sector_rank::INTEGER AS sector_rank, change_prev, change_yoy, rising,
               grade_basis, warning_level, evidence, records, provisional, imputed_share
        FROM chunk""",
    "contributions": f"""INSERT INTO contributions{STAGED} BY NAME
        SELECT $build AS build_id, $grain AS grain, period, unit_name, indicator_id, dimension, contribution
        FROM chunk""",
}


class Writer:
    """Runs the writes of one grain in a background thread while the caller computes the next grain: DuckDB
    releases the GIL while it inserts, and so does numpy in its array operations, so the two overlap on a
    multi-core machine. One job at a time and one waiting at most (`submit` waits for the previous job to
    finish), so memory holds two grains, not all of them. The caller must not use the connection until
    `close` has returned. An error in a job is raised by the next `submit` or by `close`."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.timings: dict[str, float] = {}
        self.thread = threading.Thread(target=self._run, name="zhengtai-results-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    for name, fn, args in job:
                        start = time.perf_counter()
                        fn(*args)
                        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.error = exc
            finally:
                self.jobs.task_done()

    def submit(self, *steps: tuple) -> None:
        """Queue (name, function, args) steps to run in order, once the previous job is done."""
        self.jobs.join()
        if self.error is not None:
            raise self.error
        self.jobs.put(list(steps))

    def close(self) -> None:
        """Wait for the last job; raise its error if it failed."""
        if self.thread.is_alive():
            self.jobs.join()
            self.jobs.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


def stage(con: duckdb.DuckDBPyConnection, tables) -> None:
    """Empty staged copies of the result tables: same columns, types and NOT NULL constraints."""
    discard(con, tables)
    for table in tables:
        cols = con.execute(
            """SELECT column_name, data_type, is_nullable FROM duckdb_columns()
               WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
               ORDER BY column_index""", [table]).fetchall()
        ddl = ", ".join(f'"{c}" {t}{"" if nullable else " NOT NULL"}' for c, t, nullable in cols)
        con.execute(f"CREATE TABLE {table}{STAGED} ({ddl})")


def discard(con: duckdb.DuckDBPyConnection, tables) -> None:
    for table in tables:
        con.execute(f"DROP TABLE IF EXISTS {table}{STAGED}")


def swap(con: duckdb.DuckDBPyConnection, tables) -> None:
    """Inside the caller's transaction: the staged tables take the place of the published ones."""
    for table in tables:
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}{STAGED} RENAME TO {table}")


@dataclass
class Names:
    """The labels behind the integer codes, as Arrow string arrays (dictionaries of the written columns)."""
    units: pa.Array
    indicators: pa.Array
    dimensions: pa.Array          # dimension id of every indicator (same order)
    levels: pa.Array              # dimension ids then the index

    @classmethod
    def make(cls, units: list[str], cat, levels: list[str]) -> "Names":
        return cls(pa.array(units, pa.string()), pa.array([i.id for i in cat.indicators], pa.string()),
                   pa.array([i.dimension for i in cat.indicators], pa.string()), pa.array(levels, pa.string()))


def _f(a: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(a, dtype=float).ravel(), from_pandas=True)  # NaN → NULL


def _dict(indices: np.ndarray, labels: pa.Array, mask: np.ndarray | None = None) -> pa.DictionaryArray:
    idx = pa.array(indices.astype(np.int32, copy=False).ravel(), mask=None if mask is None else mask.ravel())
    return pa.DictionaryArray.from_arrays(idx, labels)


def batches(tbl: pa.Table) -> pa.Table:
    """The same table cut into record batches of one DuckDB row group: DuckDB scans an Arrow table batch by
    batch, so one big batch would be read (and inserted) by a single thread."""
    return pa.Table.from_batches(tbl.to_batches(max_chunksize=122_880), tbl.schema)


def _insert(con: duckdb.DuckDBPyConnection, table: str, chunk: pa.Table, build_id: str, grain: str) -> None:
    con.register("chunk", batches(chunk))
    try:
        con.execute(INSERT[table], {"build": build_id, "grain": grain})
    finally:
        con.unregister("chunk")


def _period_chunks(n_periods: int, rows_per_period: int):
    step = max(1, CHUNK_ROWS // max(1, rows_per_period))
    for a in range(0, n_periods, step):
        yield a, min(n_periods, a + step)


def _cols(x: np.ndarray) -> np.ndarray:
    """periods × units × k → rows in (period, k, unit) order: a unit's neighbours are the other units' values of
    the same indicator (or level) and period, which DuckDB compresses far better (RLE, ALP) than a row of
    unrelated indicators; and a period's rows stay together for the readers that filter by period."""
    return x.transpose(0, 2, 1).ravel()


def indicator_values(con, build_id: str, grain: str, periods: pa.Array, names: Names, v: Values,
                     normalised: np.ndarray, pct: np.ndarray, spct: np.ndarray) -> None:
    """Every unit × period × indicator of the grain. normalised, pct, spct: periods × units × indicators."""
    n_p, n_u, n_i = v.value.shape
    for a, b in _period_chunks(n_p, n_u * n_i):
        k = b - a
        sl = slice(a, b)
        smp = _cols(v.sample[sl])
        _insert(con, "indicator_values", pa.table({
            "period": _dict(np.repeat(np.arange(a, b), n_u * n_i), periods),
            "unit_name": _dict(np.tile(np.arange(n_u), k * n_i), names.units),
            "indicator_id": _dict(np.tile(np.repeat(np.arange(n_i), n_u), k), names.indicators),
            "numerator": _f(_cols(v.numerator[sl])), "denominator": _f(_cols(v.denominator[sl])),
            "value": _f(_cols(v.value[sl])),
            "sample": pa.array(np.nan_to_num(smp).astype(np.int32), mask=np.isnan(smp)),
            "status": _dict(_cols(v.status[sl]), pa.array(STATUS.astype(str))),
            "normalised": _f(_cols(normalised[sl])), "percentile": _f(_cols(pct[sl])),
            "sector_percentile": _f(_cols(spct[sl])),
            # the yellow-level threshold of the indicator in the period, shown next to every value
            "threshold": _f(np.repeat(v.thresholds[sl, 0, :].ravel(), n_u)),
            "flagged": pa.array(_cols(v.level[sl]) > 0),
            "index_value": _f(_cols(v.index_value[sl])),
            "below_min_sample": pa.array(_cols(v.below_min_sample[sl])),
        }), build_id, grain)


def unit_scores(con, build_id: str, grain: str, periods: pa.Array, names: Names, r: GrainScores, rt: dict,
                p05: np.ndarray, p95: np.ndarray, extra: dict) -> None:
    """Every unit × period × level (dimensions, then the index). p05/p95: periods × units, index level only.
    extra: records (per row = unit-period), evidence (rows × levels), provisional (per row)."""
    n_p, n_u, n_l = len(r.pids), r.n_units, len(r.levels)
    code = np.full(r.grades.shape, -1, dtype=np.int32)
    for k, g in enumerate(GRADE_LABELS):
        code[r.grades == g] = k
    top = np.zeros(n_l, dtype=bool)
    top[-1] = True  # rank intervals belong to the index level
    lo = np.where(top[None, None, :], p05[:, :, None], np.nan)
    hi = np.where(top[None, None, :], p95[:, :, None], np.nan)
    cube = lambda x: x.reshape(n_p, n_u, n_l)  # noqa: E731
    per_row = lambda x: np.repeat(np.asarray(x).reshape(-1, 1), n_l, axis=1)  # noqa: E731 - same for every level
    records, provisional = per_row(extra["records"]), per_row(extra["provisional"])
    for a, b in _period_chunks(n_p, n_u * n_l):
        k = b - a
        grade = _cols(cube(code)[a:b])
        _insert(con, "unit_scores", pa.table({
            "period": _dict(np.repeat(np.arange(a, b), n_u * n_l), periods),
            "unit_name": _dict(np.tile(np.arange(n_u), k * n_l), names.units),
            "level": _dict(np.tile(np.repeat(np.arange(n_l), n_u), k), names.levels),
            "score": _f(_cols(cube(r.scores)[a:b])), "rank": _f(_cols(cube(rt["rank"])[a:b])),
            "rank_p05": _f(_cols(lo[a:b])), "rank_p95": _f(_cols(hi[a:b])),
            "grade": _dict(np.maximum(grade, 0), pa.array(GRADE_LABELS.astype(str)), mask=grade < 0),
            "sector_rank": _f(_cols(cube(rt["sector_rank"])[a:b])),
            "change_prev": _f(_cols(cube(rt["change_prev"])[a:b])),
            "change_yoy": _f(_cols(cube(rt["change_yoy"])[a:b])), "rising": pa.array(_cols(cube(rt["rising"])[a:b])),
            "grade_basis": _dict(_cols(cube(r.basis)[a:b]), pa.array(BASIS)),
            "warning_level": pa.array(_cols(cube(r.warning)[a:b]).astype(np.int8)),
            "evidence": pa.array(_cols(cube(extra["evidence"])[a:b]).astype(np.int32)),
            "records": pa.array(_cols(cube(records)[a:b]).astype(np.int32)),
            "provisional": pa.array(_cols(cube(provisional)[a:b]).astype(bool)),
            "imputed_share": _f(_cols(cube(r.imputed_share)[a:b])),
        }), build_id, grain)


def contributions(con, build_id: str, grain: str, periods: pa.Array, names: Names, r: GrainScores,
                  cols: np.ndarray) -> None:
    """The non-missing contributions of every unit × period × scored indicator (cols: their catalogue codes)."""
    n_p, n_u = len(r.pids), r.n_units
    c3 = r.contributions.reshape(n_p, n_u, -1).transpose(0, 2, 1)  # (period, indicator, unit) order, see _cols
    for a, b in _period_chunks(n_p, n_u * len(cols)):
        p, j, u = np.nonzero(~np.isnan(c3[a:b]))
        ind = cols[j]
        _insert(con, "contributions", pa.table({
            "period": _dict(p + a, periods), "unit_name": _dict(u, names.units),
            "indicator_id": _dict(ind, names.indicators), "dimension": _dict(ind, names.dimensions),
            "contribution": c3[a:b][p, j, u],
        }), build_id, grain)
