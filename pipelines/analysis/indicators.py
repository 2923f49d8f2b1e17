"""Indicator values for every unit and period of every grain, computed in DuckDB in one pass.

Temp tables built on the connection (all keyed by integer codes: pid = period, uid = unit, ind = indicator):
  build_grains, data_span, period_months, periods, unit_dim, grid   calendar and units (periods.sql)
  ind_dim, ind_levels                                              the catalogue as tables
  raw_values                                                       numerator, denominator, sample
  ivals, thresholds, flags, percentiles                            values.sql
"""

from __future__ import annotations

import pandas as pd

import duckdb

from pipelines.analysis.catalogue import Catalogue
from pipelines.errors import UserError
from pipelines.warehouse import sql_file


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
    """The catalogue as two small temp tables the SQL joins against."""
    rows, levels = [], []
    for ind in cat.indicators:
        th = ind.threshold
        rows.append({
            "ind": ind.code, "indicator_id": ind.id, "dimension": ind.dimension, "direction": ind.direction,
            "min_sample": ind.min_sample, "missing": ind.missing, "scale": ind.scale,
            "rule": th.rule if th else None, "floor": th.floor if th else None,
            "ceiling": th.ceiling if th else None, "context": ind.context,
        })
        if th:
            for k, param in enumerate(th.levels):
                levels.append({"ind": ind.code, "level": k + 1, "param": param,
                               "rule_text": th.describe(ind.direction, k), "rule_zh": th.describe_zh(ind.direction, k)})
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


def compute_raw(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> None:
    """All indicators, all grains, all units: one UNION ALL query DuckDB plans and runs in parallel."""
    parts = [f"SELECT pid, uid, {ind.code}::INTEGER AS ind, numerator, denominator, sample FROM (\n{ind.query}\n)"
             for ind in cat.indicators]
    con.execute("CREATE OR REPLACE TEMP TABLE raw_values AS\n" + "\nUNION ALL\n".join(parts))


def compute_values(con: duckdb.DuckDBPyConnection, impute: str) -> None:
    sql = sql_file("indicators/values.sql").replace("$impute_sector", "true" if impute == "sector_median" else "false")
    con.execute(sql)


def compute_all(con: duckdb.DuckDBPyConnection, cat: Catalogue, settings: dict) -> None:
    """Calendar, raw values, statuses, thresholds, flags and percentiles (the catalogue is validated first)."""
    from pipelines.analysis.catalogue import validate_sql

    prepare_calendar(con, settings["grains"])
    check_data(con)
    create_dims(con, cat)
    try:
        compute_raw(con, cat)
    except duckdb.Error:
        # Binding every query up front costs about a second per build; do it only to name the culprit.
        validate_sql(cat, con)
        raise
    compute_values(con, settings["missing"]["impute"])
