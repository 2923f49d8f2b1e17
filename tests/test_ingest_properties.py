"""Property tests of the cell parsers: any date, amount or flag written the ways analysts write them reads back."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.reader import clean_column
from pipelines.warehouse import sql_file


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(sql_file("ingest_macros.sql"))
    return c


FW = {ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789./-"}  # ASCII → full-width


def variants(d: dt.date) -> list[str]:
    return [
        f"{d.year}年{d.month}月{d.day}日", f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month:02d}.{d.day:02d}",
        f"{d.year}{d.month:02d}{d.day:02d}", d.isoformat(), f"{d.isoformat()} 00:00:00", f"{d.year} 年 {d.month} 月 {d.day} 日",
        str((d - dt.date(1899, 12, 30)).days), f"{(d - dt.date(1899, 12, 30)).days}.0",
        f"{d.year}年{d.month}月{d.day}日".translate(FW), "\u3000" + d.isoformat() + " ",
    ]


def read(con, texts: list[str], macro: str) -> list:
    cleaned = clean_column(pa.chunked_array([pa.array(texts, pa.string())]))
    con.register("cells", pa.table({"s": cleaned}))
    out = [r[0] for r in con.execute(f"SELECT {macro} FROM cells").fetchall()]
    con.unregister("cells")
    return out


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_every_date_format_reads_the_same_date(con, d):
    assert read(con, variants(d), "zt_date(s)") == [d] * len(variants(d))


@settings(max_examples=40, deadline=None)
@given(st.integers(1950, 2100), st.integers(1, 12), st.integers(29, 35))
def test_impossible_dates_are_null_not_shifted(con, y, m, day):
    try:
        dt.date(y, m, day)
        return
    except ValueError:
        pass
    assert read(con, [f"{y}年{m}月{day}日", f"{y}-{m:02d}-{day:02d}", f"{y}{m:02d}{day:02d}"], "zt_date(s)") == [None] * 3


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_amounts_in_yuan_and_wan(con, amount):
    a = float(amount)
    texts = [f"{a:.2f}", f"{a:,.2f}", f"{a:.2f}元", f"{a / 10000:.6f}万元", f"{a / 10000:.6f}万"]
    got = read(con, texts, "zt_amount(s, 1)")  # thousands separators in groups of three, 万元, 元
    assert got == pytest.approx([a] * 5, rel=1e-9, abs=1e-2)
    assert read(con, [f"{a / 10000:.6f}"], "zt_amount(s, 10000)") == pytest.approx([a], abs=1e-2)


@given(st.sampled_from(["是", "Y", "√", "1", "有", "署名", "实名"]), st.sampled_from(["否", "N", "×", "0", "无", "匿名"]))
def test_flags(con, yes, no):
    assert read(con, [yes, no, "也许"], "zt_bool(s)") == [True, False, None]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))
def test_cleaning_is_idempotent_and_trims(text):
    once = clean_column(pa.chunked_array([pa.array([text])]))
    twice = clean_column(once)
    assert once.to_pylist() == twice.to_pylist()
    value = once.to_pylist()[0]
    assert value is None or (value == value.strip(" ") and value != "" and "  " not in value and "\u3000" not in value)


def test_full_width_digits_and_letters_fold():
    got = clean_column(pa.chunked_array([pa.array(["ＸＦ－２０２４－００１", "３８人", "　城关镇　", "", None])])).to_pylist()
    assert got == ["XF-2024-001", "38人", "城关镇", None, None]
