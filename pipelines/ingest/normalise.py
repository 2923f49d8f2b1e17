"""The SQL that turns a raw ledger table (text cells c0..cN) into typed, validated, pseudonymised rows.

This module is where ingestion's per-ledger SQL is assembled, from the data dictionary and the macros
in pipelines/sql/ingest_macros.sql. The SELECT it builds yields, per source row, every dictionary
column typed (NULL when absent), one error column per dictionary column, the cross-field check
failures, the raw row as pseudonymised JSON, and the unit name to resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.dictionary import Column, Kind


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Mapping:
    """Where a dictionary column is found in the raw table."""

    column: Column
    index: int          # raw column c<index>
    header: str         # header text as written in the file
    scale: float = 1.0  # 10,000 for amounts whose header says 万元


def _typed(col: Column, v: str, scale: float) -> tuple[str, str, str]:
    """(typed SQL expression over the cleaned text v, SQL of the reason when it cannot be read, SQL of a note
    when it was read but something is off). Reasons and notes are SQL expressions ('' when there is none)."""
    t = col.type
    neg = str(col.negative).lower()
    if t == "date":
        d = f"zt_date_lenient({v})"
        return (f"CASE WHEN {d} BETWEEN zt_date_floor() AND current_date THEN {d} END",
                f"CASE WHEN {d} IS NULL THEN '无法识别为日期（如 2024-03-05、2024年3月5日、2024年3月）' "
                f"WHEN {d} > current_date THEN '日期晚于导入当天' "
                f"ELSE '日期早于 ' || zt_date_floor() || '（可用 --date-floor 调整）' END",
                f"CASE WHEN zt_date({v}) IS NULL AND {d} IS NOT NULL THEN '日期后有多余文字，已按日期读入：' || {v} END")
    if t == "int":
        return (f"CASE WHEN zt_int({v}) >= 0 OR {neg} THEN zt_int({v}) END",
                f"CASE WHEN zt_int({v}) IS NULL THEN '不是整数' ELSE '不能为负数' END", "")
    if t == "number":
        return (f"CASE WHEN zt_number({v}) >= 0 OR {neg} THEN zt_number({v}) END",
                f"CASE WHEN zt_number({v}) IS NULL THEN '不是数字' ELSE '不能为负数' END", "")
    if t == "amount":
        return f"zt_amount({v}, {scale:g}, negative := {neg})", f"zt_amount_problem({v}, {scale:g}, negative := {neg})", ""
    if t == "bool":
        return f"zt_bool({v})", q("应为 是/否"), ""
    if t == "period":
        return f"zt_period({v})", q("无法识别为半年度（如 2024H1、2024年上半年）"), ""
    if t == "code":
        return f"zt_code({v})", "", ""
    if t == "list":
        return f"zt_list({v})", "", ""
    if t == "enum":
        return (f"(CASE {_enum_key(v)} {_whens([(val, val) for val in col.values] + list(col.value_aliases))} END)",
                q(f"不在允许值内（{'、'.join(col.values)}；同义词可加入取值别名表）"), "")
    if t == "person":
        # an ID or phone number written in the name column is neither a name nor to be hashed as one
        return (f"CASE WHEN NOT zt_has_number({v}) THEN zt_pid_person({v}) END",
                q("姓名栏填写的是证件号或电话号码，未保存"), "")
    if t == "id_number":
        return (f"CASE WHEN zt_id_valid({v}) THEN zt_pid_id({v}) END", q("身份证号格式不正确"),
                f"CASE WHEN zt_id_valid({v}) AND NOT zt_id_checksum({v}) THEN '身份证号校验位不符（已脱敏保存，请核对）' END")
    if t == "phone":
        return f"CASE WHEN zt_phone_valid({v}) THEN zt_pid_phone({v}) END", q("电话号码格式不正确"), ""
    return v, "", ""  # text, unit, freetext: masked before the SQL runs (pipelines/ingest/masking.py)


def _enum_key(v: str) -> str:
    return f"regexp_replace({v}, '\\s', '', 'g')"


def _whens(pairs) -> str:
    return " ".join(f"WHEN {q(a)} THEN {q(b)}" for a, b in pairs)


def raw_json(mappings: list[Mapping], raw_headers: list[str]) -> str:
    """The raw row as JSON (header → cell) for rejected rows. Text cells were masked before the SQL ran;
    identifiers are pseudonymised; typed cells (which were not masked) lose any long run of digits."""
    mapped_idx = {m.index: m for m in mappings}
    pairs = []
    for i, header in enumerate(raw_headers):
        key = header or f"第{i + 1}列"
        m = mapped_idx.get(i)
        if m is not None and m.column.is_pii:
            pid = {"person": "zt_pid_person", "id_number": "zt_pid_id", "phone": "zt_pid_phone"}[m.column.type]
            val = f"{pid}(zt_blank(c{i}))"
        elif m is not None and m.column.type not in ("text", "freetext", "enum"):
            val = f"zt_mask_digits(c{i})"
        else:
            val = f"c{i}"
        pairs.append(f"{q(key)}, {val}")
    return f"json_object({', '.join(pairs)})" if pairs else "json_object()"


def build_select(kind: Kind, mappings: list[Mapping], raw_headers: list[str], source: str) -> str:
    """SELECT over `source` (c0..cN, _row) producing typed columns t_<name>, problems e_<name>, check
    failures k_<i> and date_precision."""
    by_name = {m.column.name: m for m in mappings}

    cleaned, typed, errors, warnings = [], [], [], []
    for col in kind.columns:
        m = by_name.get(col.name)
        if m is None:
            cleaned.append(f"NULL::VARCHAR AS v_{col.name}")
            typed.append(f"NULL::{col.sql_type} AS t_{col.name}")
            errors.append(f"CASE WHEN {str(col.required).upper()} THEN {q('缺少必填项')} END AS e_{col.name}")
            warnings.append(f"NULL::VARCHAR AS w_{col.name}")
            continue
        raw = f"c{m.index}"
        v = raw if col.type == "enum" else f"zt_blank({raw})"
        cleaned.append(f"{v} AS v_{col.name}")
        expr, reason, warn = _typed(col, f"v_{col.name}", m.scale)
        typed.append(f"{expr} AS t_{col.name}")
        missing = f"WHEN v_{col.name} IS NULL THEN {q('缺少必填项')}" if col.required else ""
        echo = "v_{0}" if col.type in ("enum", "text", "freetext") else "zt_mask_digits(v_{0})"
        bad = f"WHEN t_{col.name} IS NULL THEN ({reason}) || '：' || {echo.format(col.name)}" if reason else ""
        if col.is_pii and reason:
            bad = f"WHEN t_{col.name} IS NULL THEN {reason}"  # never echo an identifier
        bad = bad.replace("WHEN t_", f"WHEN v_{col.name} IS NOT NULL AND t_", 1)
        errors.append(f"CASE {missing} {bad} END AS e_{col.name}" if (missing or bad) else f"NULL::VARCHAR AS e_{col.name}")
        warnings.append(f"({warn}) AS w_{col.name}" if warn else f"NULL::VARCHAR AS w_{col.name}")

    # A label that also names another column's value (享乐主义 written as the category): fill that column
    # when the row leaves it empty.
    fills: dict[str, list[str]] = {}
    for col in kind.columns:
        if col.sets and col.name in by_name:
            for written, other, value in col.sets:
                fills.setdefault(other, []).append(f"WHEN {_enum_key(f'v_{col.name}')} = {q(written)} THEN {q(value)}")
    filled = ", ".join(f"coalesce(t_{c}, CASE {' '.join(w)} END) AS t_{c}" for c, w in fills.items())

    dates = [c for c in kind.columns if c.type == "date"]
    month_flags = [f"CASE WHEN zt_date_is_month(v_{c.name}) THEN {q(c.name + '=month')} END" for c in dates]
    precision = f"nullif(concat_ws(';', {', '.join(month_flags)}), '')" if dates else "NULL::VARCHAR"
    checks = [f"CASE WHEN NOT coalesce(({_range_check(ch.sql, dates)}), true) THEN {q(ch.message)} END AS k_{i}"
              for i, ch in enumerate(kind.checks)]
    # Typed names for check expressions: the dictionary writes them as plain column names. A month-only
    # date spans its month: checks pass if any day of it satisfies them (x__hi is the month's last day).
    plain = ", ".join([f"t_{c.name} AS {ident(c.name)}" for c in kind.columns]
                      + [f"CASE WHEN zt_date_is_month(v_{c.name}) THEN last_day(t_{c.name}) ELSE t_{c.name} END AS {c.name}__hi"
                         for c in dates])

    return f"""
WITH cleaned AS (
    SELECT _row, {', '.join(f'c{i}' for i in range(len(raw_headers)))}{',' if raw_headers else ''} {', '.join(cleaned)}
    FROM {source}
), typed AS (
    SELECT *, {', '.join(typed)} FROM cleaned
), filled AS (
    SELECT * {('REPLACE (' + filled + ')') if filled else ''} FROM typed
), checked AS (
    SELECT *, {', '.join(errors)}, {', '.join(warnings)}, {precision} AS date_precision FROM filled
)
SELECT _row, {', '.join(f't_{c.name}' for c in kind.columns)},
       {', '.join(f'e_{c.name}' for c in kind.columns)}, {', '.join(f'w_{c.name}' for c in kind.columns)},
       {', '.join(checks) if checks else 'NULL AS k_none'}, date_precision
FROM (SELECT *, {plain} FROM checked)
"""


def _range_check(sql: str, dates: list[Column]) -> str:
    """The check as it holds for some day of every month-only date it names: each such date is tried at
    its first and its last day (the checks are comparisons, so the corners suffice)."""
    import itertools
    import re

    named = [c.name for c in dates if re.search(rf"\b{c.name}\b", sql)]
    if not named:
        return sql
    variants = []
    for corner in itertools.product((False, True), repeat=len(named)):
        text = sql
        for name, hi in zip(named, corner):
            if hi:
                text = re.sub(rf"\b{name}\b", f"{name}__hi", text)
        variants.append(f"({text})")
    return " OR ".join(variants)


def error_columns(kind: Kind) -> list[tuple[str, str, bool]]:
    """(SQL column holding a problem, the Chinese header it is reported under, whether it rejects the row)."""
    out = [(f"e_{c.name}", c.zh, c.rejects) for c in kind.columns]
    out += [(f"w_{c.name}", c.zh, False) for c in kind.columns]  # read, with a note
    out += [(f"k_{i}", "、".join(kind.column(n).zh for n in ch.columns), ch.rejects) for i, ch in enumerate(kind.checks)]
    return out
