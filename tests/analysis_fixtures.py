"""Tiny hand-made warehouses for the analysis tests: ledger rows inserted straight into the schema."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.warehouse import apply_schema

BOOKKEEPING = {"source_file": "test.csv", "source_sheet": None, "run_id": 1, "row_hash": "h"}


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert rows (dicts of ledger columns); bookkeeping columns are filled in."""
    df = pd.DataFrame([{**BOOKKEEPING, "source_row": i + 2, "loaded_at": dt.datetime(2025, 1, 1), **r}
                       for i, r in enumerate(rows)])
    con.register("rows_df", df)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_df")
    con.unregister("rows_df")


def unit(name: str, headcount: int = 100, sector: str = "教育", **kw) -> dict:
    return {"unit_name": name, "kind": kw.pop("kind", "部门"), "sector": sector, "team": "第一派驻组",
            "headcount": headcount, "budget_yuan": kw.pop("budget_yuan", 1e7),
            "leadership_posts": kw.pop("leadership_posts", 5), "top_leader_pid": kw.pop("top_leader_pid", None), **kw}


_seq = {"n": 0}


def petition(unit_name: str, date: str, **kw) -> dict:
    _seq["n"] += 1
    return {"petition_no": kw.pop("petition_no", f"P{_seq['n']:05d}"), "received_date": dt.date.fromisoformat(date),
            "channel": kw.pop("channel", "来信"), "signed": kw.pop("signed", True), "unit_name": unit_name,
            "category": kw.pop("category", "廉洁纪律"), **kw}


def case(unit_name: str, closed: str, form: str = "1", **kw) -> dict:
    _seq["n"] += 1
    filed = kw.pop("filed", None)
    return {"case_no": kw.pop("case_no", f"C{_seq['n']:05d}"), "unit_name": unit_name,
            "person_pid": kw.pop("person_pid", f"p{_seq['n']}"), "closed_date": dt.date.fromisoformat(closed),
            "filed_date": dt.date.fromisoformat(filed) if filed else None, "violation": kw.pop("violation", "廉洁纪律"),
            "form": form, **kw}


def warehouse(path=None) -> duckdb.DuckDBPyConnection:
    """An empty warehouse (in memory unless a path is given) with the ledger and results schema."""
    con = duckdb.connect(str(path) if path else ":memory:")
    apply_schema(con, ("schema.sql", "results.sql"))
    return con
