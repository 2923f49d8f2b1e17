"""Indicator values for every unit and period of every grain.

DuckDB computes what needs the ledgers: numerators, denominators and samples (`compute_raw`), with one pass
per ledger and date for the structured definitions (rows aggregated per unit and month once, then the months
summed into every period of every grain) and one query per `sql` definition. Everything after that works on
dense period × unit × indicator cubes in numpy, one grain at a time (`compute_values`): values, statuses,
the missing-data policy, thresholds and flags, without a join or a window function over millions of rows.

Temp tables built on the connection (integer codes: pid = period, uid = unit, ind = indicator = position in
the catalogue):
  build_grains, data_span, period_months, periods, unit_dim, grid   calendar and units (periods.sql)
  ind_dim, ind_levels                                              the catalogue as tables
  ivals, thresholds, flags                                         only when `materialise` asks for them
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

import duckdb

from pipelines.analysis.catalogue import Catalogue, base_query, create_macros, decompose, monthly_query
from pipelines.errors import UserError
from pipelines.warehouse import sql_file

STATUS = np.array(["ok", "zero", "imputed", "missing", "small_sample"], dtype=object)
OK, ZERO, IMPUTED, MISSING, SMALL = range(5)


def prepare_calendar(con: duckdb.DuckDBPyConnection, grains) -> None:
    """Create the calendar and unit temp tables for the given grains."""
    con.execute("CREATE OR REPLACE TEMP TABLE build_grains (grain VARCHAR)")
    con.executemany("INSERT INTO build_grains VALUES (?)", [[g] for g in grains])
    con.execute(sql_file("indicators/periods.sql"))


def check_data(con: duckdb.DuckDBPyConnection) -> None:
    """A build needs units and at least one dated ledger row."""
    if con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 0:
        raise UserError("the warehouse has no units: ingest the unit roster (单位名册) first")
    if con.execute("SELECT lo FROM data_span").fetchall()[0][0] is None:
        raise UserError("the warehouse has no ledger rows with dates: ingest petitions, cases or other ledgers first")


def create_dims(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> None:
    """The catalogue as two small temp tables the SQL joins against, and its macros."""
    create_macros(con, cat)
    rows, levels = [], []
    for ind in cat.indicators:
        th = ind.threshold
        rows.append({
            "ind": ind.code, "indicator_id": ind.id, "dimension": ind.dimension, "direction": ind.direction,
            "min_sample": ind.min_sample, "missing": ind.missing, "scale": ind.scale,
            "rule": th.rule if th else None, "floor": th.floor[0] if th and th.floor else None,
            "ceiling": th.ceiling[0] if th and th.ceiling else None, "context": ind.context,
        })
        if th:
            for k, param in enumerate(th.levels):
                levels.append({"ind": ind.code, "level": k + 1, "param": param,
                               "rule_text": th.describe(ind.direction, k), "rule_zh": th.describe_zh(ind.direction, k, ind.unit)})
    dims = pd.DataFrame(rows).astype({"floor": "float64", "ceiling": "float64"})
    lv = pd.DataFrame(levels, columns=["ind", "level", "param", "rule_text", "rule_zh"])
    con.register("ind_dim_df", dims)
    con.register("ind_levels_df", lv)
    con.execute("CREATE OR REPLACE TEMP TABLE ind_dim AS SELECT * FROM ind_dim_df")
    con.execute("""CREATE OR REPLACE TEMP TABLE ind_levels AS
                   SELECT ind::INTEGER AS ind, level::INTEGER AS level, param::DOUBLE AS param, rule_text, rule_zh
                   FROM ind_levels_df""")
    con.unregister("ind_dim_df")
    con.unregister("ind_levels_df")


# ---- numerators, denominators, samples (DuckDB) -------------------------------------------------------


@dataclass
class Raw:
    """Numerator, denominator and sample of one grain: periods (in time order) × units × indicators, NaN = NULL."""
    numerator: np.ndarray
    denominator: np.ndarray
    sample: np.ndarray


def _floats(a) -> np.ndarray:
    """A fetched column as float64 with NaN for NULL (DuckDB hands nullable columns over as masked arrays)."""
    if isinstance(a, np.ma.MaskedArray):
        return a.astype(float).filled(np.nan)
    return np.asarray(a, dtype=float)


class RawCubes:
    """Each grain's Raw arrays, built when asked for (`cubes[grain]` or `cubes.pop(grain)`) from the long results
    of the queries, which are kept instead: at national scale one float64 cube of all grains is 1.3 GB, so the
    build holds one grain's three cubes at a time, never every grain's at once. A grain's periods are
    consecutive pids."""

    def __init__(self, slices: dict[str, tuple[np.ndarray, slice]], n_u: int, n_i: int):
        self.slices = {g: sl for g, (_, sl) in slices.items()}
        self.n_u, self.n_i = n_u, n_i
        self.ops: list[tuple] = []  # fills and scatters, replayed in order for the grain asked for

    def fill(self, code: int, num, den, smp) -> None:
        """Values for every unit-period of indicator `code` (scalars, or pid−1 × uid arrays)."""
        self.ops.append(("fill", code, num, den, smp))

    def scatter(self, p: np.ndarray, u: np.ndarray, columns: list[tuple]) -> None:
        """Set cells (p = pid − 1, u, i) from long results: columns are (i, num, den, smp), i an indicator code or
        an array aligned with p, the values arrays aligned with p (None leaves that cube as it is)."""
        self.ops.append(("scatter", p, u, columns))

    def __contains__(self, grain: str) -> bool:
        return grain in self.slices

    def __iter__(self):
        return iter(self.slices)

    def __getitem__(self, grain: str) -> Raw:
        sl = self.slices[grain]
        a, n_p, n_u, n_i = sl.start, sl.stop - sl.start, self.n_u, self.n_i
        r = Raw(*(np.full((n_p, n_u, n_i), np.nan) for _ in range(3)))
        for op in self.ops:
            if op[0] == "fill":
                _, code, num, den, smp = op
                for cube, x in ((r.numerator, num), (r.denominator, den), (r.sample, smp)):
                    cube[:, :, code] = x if np.isscalar(x) else x[a:a + n_p]
                continue
            _, p, u, columns = op
            m = (p >= a) & (p < a + n_p)
            if not m.any():
                continue
            base = ((p[m] - a).astype(np.int64) * n_u + u[m]) * n_i  # flat positions: one take per column
            for i, num, den, smp in columns:
                flat = base + (i[m] if isinstance(i, np.ndarray) else i)
                for cube, x in ((r.numerator, num), (r.denominator, den), (r.sample, smp)):
                    if x is not None:
                        cube.reshape(-1)[flat] = x[m]
        return r

    def pop(self, grain: str) -> Raw:
        """The grain's cubes; the long results stay for the other grains."""
        return self[grain]


def _monthly_groups(cat: Catalogue) -> dict[tuple[str, str], list]:
    """Structured indicators whose aggregates add up month by month, grouped by ledger and date column."""
    groups: dict[tuple[str, str], list] = {}
    for ind in cat.indicators:
        spec = ind.spec
        if not spec:
            continue
        num = decompose(str(spec["numerator"]))
        den = decompose(str(spec["denominator"])) if "denominator" in spec else None
        smp = decompose(str(spec["sample"])) if "sample" in spec else None
        if num is None or ("denominator" in spec and den is None) or ("sample" in spec and smp is None):
            continue
        groups.setdefault((spec["from"], spec["date"]), []).append((ind, spec.get("where"), num, den, smp))
    return groups


class _Compiled(threading.Thread):
    """The compiled queries of some indicators as one UNION ALL, fetched as numpy (in a thread when started)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, todo: list):
        super().__init__(name="zhengtai-indicators", daemon=True)
        self.con, self.todo = con, list(todo)
        self.got, self.error = None, None

    def run(self) -> None:
        if not self.todo:
            return
        parts = [f"SELECT pid, uid, {ind.code}::INTEGER AS ind, numerator, denominator, sample FROM (\n{ind.query}\n)"
                 for ind in self.todo]
        try:
            self.got = self.con.execute("\nUNION ALL\n".join(parts)).fetchnumpy()
        except duckdb.Error as exc:
            self.error = exc

    def result(self) -> dict:
        if self.got is None and self.error is None:
            self.run()
        if self.error is not None:
            raise self.error
        return self.got


def compute_raw(con: duckdb.DuckDBPyConnection, cat: Catalogue, slices: dict[str, tuple[np.ndarray, slice]],
                aux: duckdb.DuckDBPyConnection | None = None) -> RawCubes:
    """All indicators, all grains, all units. Structured definitions with decomposable aggregates go through
    one monthly pass per ledger; the rest (sql definitions, other aggregates) run as compiled, together in
    one UNION ALL, on `aux` (a second connection with the same calendar) at the same time when given: the
    ledgers are small, so one query rarely keeps more than one core busy. A failing query is bound indicator
    by indicator to name it. Returns the Raw of every grain, each built when asked for (slices: grain_slices)."""
    n_p = con.execute("SELECT count(*) FROM periods").fetchall()[0][0]
    n_u = con.execute("SELECT count(*) FROM unit_dim").fetchall()[0][0]
    cubes = RawCubes(slices, n_u, len(cat.indicators))
    rest = {ind.code for ind in cat.indicators}
    groups = _monthly_groups(cat)
    grouped = {ind.code for parts in groups.values() for ind, *_ in parts}
    todo = [ind for ind in cat.indicators if ind.code not in grouped]
    compiled = _Compiled(aux or con, todo)
    if aux is not None:
        compiled.start()

    bases = [(ind.code, ind.spec["base"]) for ind in cat.indicators if ind.spec and "base" in ind.spec]
    base = {}
    if bases:
        got = con.execute(base_query(bases)).fetchnumpy()
        p, u = np.asarray(got["pid"]) - 1, np.asarray(got["uid"])
        for code, _ in bases:
            b = np.full((n_p, n_u), np.nan)
            b[p, u] = _floats(got[f"b_{code}"])
            base[code] = b

    for (table, date), parts in groups.items():
        try:
            got = con.execute(monthly_query(table, date, [(i.code, *spec) for i, *spec in parts])).fetchnumpy()
        except duckdb.Error:
            continue  # left to the compiled queries below, which name the indicator if it is broken
        p, u = np.asarray(got["pid"]) - 1, np.asarray(got["uid"])
        columns = []
        for ind, *_ in parts:
            c = ind.code
            # Unit-periods without rows: numerator and sample 0, denominator the base or 0 (as the compiled query).
            cubes.fill(c, 0.0, base.get(c, 0.0), 0.0)
            columns.append((c, np.nan_to_num(_floats(got[f"x_{c}"]), nan=0.0),
                            None if c in base else np.nan_to_num(_floats(got[f"y_{c}"]), nan=0.0),
                            np.nan_to_num(_floats(got[f"n_{c}"]), nan=0.0)))
            rest.discard(c)
        cubes.scatter(p, u, columns)

    todo += [ind for ind in cat.indicators if ind.code in rest and ind.code in grouped]  # a monthly pass failed
    if aux is not None:
        compiled.join()
    if compiled.todo != todo:
        compiled = _Compiled(con, todo)
    if todo:
        try:
            got = compiled.result()
        except duckdb.Error:
            from pipelines.analysis.catalogue import validate_sql

            # Binding every query up front costs about a second per build; do it only to name the culprit.
            validate_sql(cat, con)
            raise
        zero = np.zeros(len(cat.indicators), dtype=bool)
        for ind in todo:
            if ind.form == "sql" and ind.absent == "zero":
                zero[ind.code] = True
                cubes.fill(ind.code, 0.0, 1.0, 0.0)
        p, u, i = np.asarray(got["pid"]) - 1, np.asarray(got["uid"]), np.asarray(got["ind"])
        n, d, s = _floats(got["numerator"]), _floats(got["denominator"]), _floats(got["sample"])
        z = zero[i]  # absent: zero also stands for NULLs in the rows the query returns
        cubes.scatter(p, u, [(i, np.where(z & np.isnan(n), 0.0, n), np.where(z & np.isnan(d), 1.0, d),
                              np.where(z & np.isnan(s), 0.0, s))])
    return cubes


# ---- values, statuses, missing policy, thresholds, flags (numpy) ------------------------------------------


@dataclass
class Values:
    """One grain's indicator values (arrays periods × units × indicators unless said otherwise)."""
    numerator: np.ndarray
    denominator: np.ndarray
    sample: np.ndarray
    value: np.ndarray             # NaN unless status ok
    index_value: np.ndarray       # what enters the index after the missing policy
    status: np.ndarray            # int8 codes into STATUS
    thresholds: np.ndarray        # periods × levels (3) × indicators, NaN where none
    level: np.ndarray             # int8, 0 = no warning level reached
    below_min_sample: np.ndarray  # the value was withheld because sample < min_sample (whatever filled it)

    def flag_threshold(self) -> np.ndarray:
        """The threshold of the level each value reaches (NaN where none)."""
        lv = np.maximum(self.level.astype(np.intp) - 1, 0)
        t = np.take_along_axis(self.thresholds[:, None, :, :], lv[:, :, None, :], axis=2)[:, :, 0, :]
        return np.where(self.level > 0, t, np.nan)


def sorted_values(x: np.ndarray, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Values sorted along `axis` (moved last), NaN at the end, and how many are not NaN."""
    xs = np.sort(np.moveaxis(x, axis, -1), axis=-1)
    return xs, np.sum(~np.isnan(xs), axis=-1)


def qtile(xs: np.ndarray, n: np.ndarray, q) -> np.ndarray:
    """q-quantile with linear interpolation (numpy's default, DuckDB's quantile_cont) of sorted rows `xs`
    holding n values each; NaN where n = 0. The arithmetic of the threshold rules written in SQL before."""
    q = np.asarray(q, dtype=float)
    h = q * (n - 1)
    lo = np.floor(h)
    hi = np.ceil(h)
    top = xs.shape[-1] - 1
    a = np.take_along_axis(xs, np.clip(lo, 0, top).astype(np.intp)[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(xs, np.clip(hi, 0, top).astype(np.intp)[..., None], axis=-1)[..., 0]
    with np.errstate(invalid="ignore"):
        out = a + (h - lo) * (b - a)
    return np.where(n > 0, out, np.nan)


def shrink(num: np.ndarray, den: np.ndarray, kind: str) -> np.ndarray:
    """Empirical-Bayes estimates of every unit's rate in each period (periods × units): Marshall's (1991) global
    estimator, the method of disease mapping for small areas (Clayton and Kaldor 1987). `kind` share: num of den
    records (binomial); rate: num events over den exposure (Poisson). The county rate m and the variance A of the
    true rates between units come from the data by the method of moments; each unit's rate is pulled towards m
    by C = A / (A + v / den), v the sampling variance (m(1 - m) or m): a unit with few records sits near m, one
    with many keeps its own rate, and when units differ no more than chance allows (A = 0) all sit at m. NaN where
    den is not positive. No parameter to tune."""
    ok = (den > 0) & np.isfinite(num) & np.isfinite(den)
    x, e = np.where(ok, num, 0.0), np.where(ok, den, 0.0)
    n = ok.sum(axis=1, keepdims=True)
    tot = e.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = x.sum(axis=1, keepdims=True) / tot
        r = np.where(ok, x / np.where(ok, e, 1.0), np.nan)
        s2 = np.nansum(e * (r - m) ** 2, axis=1, keepdims=True) / tot
        v = m * (1 - m) if kind == "share" else m
        a = np.maximum(s2 - v / (tot / n), 0.0)
        c = np.where(a > 0, a / (a + v / np.where(ok, e, np.inf)), 0.0)
        out = m + c * (r - m)
    return np.where(ok, out, np.nan)


def compute_values(cat: Catalogue, num: np.ndarray, den: np.ndarray, smp: np.ndarray, sectors: np.ndarray,
                   impute: str, min_peers: int = 3) -> Values:
    """Values, statuses and index inputs of one grain's cubes, then thresholds of every warning level per
    period (from the values that count, over all units) and the level each value reaches.

    What enters the index (index_value): a `shrink` indicator's empirical-Bayes estimate wherever it has records
    (small samples included: that is what shrinkage is for); otherwise the value when it counts. Missing values
    follow the indicator's policy; `impute` fills the median of the unit's sector peers (or of all units,
    `impute` = median) only where at least `min_peers` units have a value, falling back from the sector to all
    units, and never with a value riskier than the county median: absence of records is not evidence of risk.
    With fewer peers the value is left out and the other indicators re-weighted."""
    n_p, n_u, n_i = num.shape
    inds = cat.indicators
    scale = np.array([i.scale for i in inds])
    min_sample = np.array([i.min_sample for i in inds], dtype=float)
    policy = np.array([i.missing for i in inds], dtype=object)
    direction = np.array([i.direction for i in inds])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw = np.where((den != 0) & ~np.isnan(den) & ~np.isnan(num), num / den * scale, np.nan)
    missing = ~np.isfinite(raw)
    small = ~missing & (smp < min_sample)  # a NULL sample is never below the minimum (NaN < x is false)
    ok = ~missing & ~small
    value = np.where(ok, raw, np.nan)
    del raw

    # Medians of the values that count, per period and indicator: over all units, and over sector peers, each only
    # where enough units have a value.
    xs, n = sorted_values(value)                       # periods × indicators × units
    med_all = qtile(xs, n, 0.5)                        # periods × indicators
    thresholds = _thresholds(cat, xs, n)
    del xs
    county = np.where(n >= min_peers, med_all, np.nan)
    fill = np.broadcast_to(county[:, None, :], value.shape).copy()
    if impute == "sector_median":
        for s in np.unique(sectors):  # a loop over sectors (a few dozen), not units
            idx = np.flatnonzero(sectors == s)
            sx, sn = sorted_values(value[:, idx, :])
            med = np.where(sn >= min_peers, qtile(sx, sn, 0.5), np.nan)
            fill[:, idx, :] = np.where(np.isnan(med), county, med)[:, None, :]
    with np.errstate(invalid="ignore"):
        fill = np.where(direction > 0, np.fmin(fill, county[:, None, :]), np.fmax(fill, county[:, None, :]))

    is_zero = (policy == "zero")[None, None, :]
    is_impute = (policy == "impute")[None, None, :]
    index_value = np.where(ok, value, np.where(is_zero, 0.0, np.where(is_impute, fill, np.nan)))
    status = np.where(missing, MISSING, SMALL).astype(np.int8)
    status[ok] = OK
    status[~ok & is_zero] = ZERO
    status[~ok & is_impute & ~np.isnan(fill)] = IMPUTED
    for ind in inds:
        if ind.shrink:
            c = ind.code
            est = shrink(num[:, :, c], den[:, :, c], ind.shrink) * ind.scale
            has = ~np.isnan(est)
            index_value[:, :, c] = np.where(has, est, index_value[:, :, c])
            # a small sample enters as its own shrunk estimate, not as a filled-in value
            status[:, :, c] = np.where(has & small[:, :, c], SMALL, status[:, :, c])
    del fill

    rule_fixed = np.array([bool(i.threshold) and i.threshold.rule == "fixed" for i in inds])  # ≥, else >
    level = np.zeros(value.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for k in range(thresholds.shape[1]):
            t = thresholds[:, k, :][:, None, :]
            reached = np.where(direction > 0, np.where(rule_fixed, value >= t, value > t),
                               np.where(rule_fixed, value <= t, value < t))
            level[reached] = k + 1
    return Values(num, den, smp, value, index_value, status, thresholds, level, small)


def _thresholds(cat: Catalogue, xs: np.ndarray, n: np.ndarray) -> np.ndarray:
    """periods × 3 levels × indicators: the threshold of each warning level (NaN when the indicator has no such
    level, or no value counts in the period)."""
    n_p, n_i = n.shape
    out = np.full((n_p, 3, n_i), np.nan)
    for ind in cat.indicators:
        th = ind.threshold
        if not th:
            continue
        c, up = ind.code, ind.direction > 0
        x, m = xs[:, c, :], n[:, c]
        for k, param in enumerate(th.levels):
            if th.rule == "fixed":
                t = np.full(n_p, float(param))
            elif th.rule == "iqr":
                q1, q3 = qtile(x, m, 0.25), qtile(x, m, 0.75)
                t = q3 + param * (q3 - q1) if up else q1 - param * (q3 - q1)
            else:
                t = qtile(x, m, param if up else 1 - param)
            if up and th.floor is not None:
                t = np.maximum(t, th.floor[k])
            if not up and th.ceiling is not None:
                t = np.minimum(t, th.ceiling[k])
            out[:, k, c] = np.where(m > 0, t, np.nan)  # no value counts: no threshold, fixed rules included
    return out


# ---- the whole step, for tests and notebooks ----------------------------------------------------------


def unit_sectors(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Integer sector code of every unit, in uid order."""
    return pd.factorize(con.execute("SELECT sector FROM unit_dim ORDER BY uid").df()["sector"])[0]


def grain_slices(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[np.ndarray, slice]]:
    """Per grain: its pids in time order and the slice of the period axis of the raw cubes they occupy."""
    rows = con.execute("SELECT grain, list(pid ORDER BY seq) FROM periods GROUP BY grain").fetchall()
    out = {}
    for grain, pids in sorted(rows, key=lambda r: r[1][0]):
        pids = np.asarray(pids, dtype=np.int32)
        out[grain] = (pids, slice(int(pids[0]) - 1, int(pids[-1])))
    return out


def compute_all(con: duckdb.DuckDBPyConnection, cat: Catalogue, settings: dict, *,
                materialise: bool = True) -> dict[str, tuple[np.ndarray, Values]]:
    """Calendar, raw values and, per grain, values, statuses, thresholds and flags. With `materialise`, also
    the long temp tables ivals, thresholds and flags (for tests and notebooks; the build does not need them)."""
    prepare_calendar(con, settings["grains"])
    check_data(con)
    create_dims(con, cat)
    sectors = unit_sectors(con)
    slices = grain_slices(con)
    raw = compute_raw(con, cat, slices)
    out = {}
    for grain, (pids, _) in slices.items():
        r = raw.pop(grain)
        out[grain] = (pids, compute_values(cat, r.numerator, r.denominator, r.sample, sectors,
                                           settings["missing"]["impute"], int(settings["missing"]["min_peers"])))
    if materialise:
        _materialise(con, cat, out)
    return out


def _materialise(con: duckdb.DuckDBPyConnection, cat: Catalogue, grains: dict) -> None:
    import pyarrow as pa

    f = lambda a: pa.array(np.asarray(a, dtype=float).ravel(), from_pandas=True)  # noqa: E731 - NaN → NULL
    iv, th, fl = [], [], []
    for pids, v in grains.values():
        n_p, n_u, n_i = v.value.shape
        pid = np.repeat(pids, n_u * n_i)
        uid = np.tile(np.repeat(np.arange(n_u, dtype=np.int32), n_i), n_p)
        ind = np.tile(np.arange(n_i, dtype=np.int32), n_p * n_u)
        smp = v.sample.ravel()
        iv.append(pa.table({
            "pid": pid, "uid": uid, "ind": ind, "numerator": f(v.numerator), "denominator": f(v.denominator),
            "sample": pa.array(np.nan_to_num(smp).astype(np.int32), mask=np.isnan(smp)), "value": f(v.value),
            "below_min_sample": v.below_min_sample.ravel(), "index_value": f(v.index_value),
            "status": STATUS[v.status.ravel()].astype(str)}))
        p, k, i = np.nonzero(~np.isnan(v.thresholds))
        th.append(pa.table({"pid": pids[p], "ind": i.astype(np.int32), "level": (k + 1).astype(np.int32),
                            "threshold": v.thresholds[p, k, i]}))
        p, u, i = np.nonzero(v.level > 0)
        fl.append(pa.table({"pid": pids[p], "uid": u.astype(np.int32), "ind": i.astype(np.int32),
                            "level": v.level[p, u, i].astype(np.int32),
                            "threshold": v.flag_threshold()[p, u, i]}))
    for name, parts in (("ivals", iv), ("thresholds", th), ("flags", fl)):
        con.register(f"{name}_arrow", pa.concat_tables(parts))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
    con.execute("""CREATE OR REPLACE TEMP TABLE thresholds AS
                   SELECT t.*, d.direction, d.rule FROM thresholds AS t JOIN ind_dim AS d USING (ind)""")
