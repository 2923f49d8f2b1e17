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


def _typed(col: Column, v: str, scale: float) -> tuple[str, str]:
    """(typed SQL expression over the cleaned text v, reason when it cannot be read)."""
    t = col.type
    if t == "date":
        return f"zt_date({v})", "无法识别为日期（如 2024-03-05、2024年3月5日）"
    if t == "int":
        return f"zt_int({v})", "不是整数"
    if t == "number":
        return f"zt_number({v})", "不是数字"
    if t == "amount":
        return f"zt_amount({v}, {scale:g})", "无法识别为金额（如 12345.6、1.5万元）"
    if t == "bool":
        return f"zt_bool({v})", "应为 是/否"
    if t == "period":
        return f"zt_period({v})", "无法识别为半年度（如 2024H1、2024年上半年）"
    if t == "code":
        return f"zt_code({v})", ""
    if t == "list":
        return f"zt_list({v})", ""
    if t == "enum":
        key = f"regexp_replace({v}, '\\s', '', 'g')"
        pairs = [(val, val) for val in col.values] + list(col.value_aliases)
        whens = " ".join(f"WHEN {q(a)} THEN {q(b)}" for a, b in pairs)
        allowed = "、".join(col.values)
        return f"(CASE {key} {whens} END)", f"不在允许值内（{allowed}）"
    if t == "person":
        return f"zt_pid_person({v})", ""
    if t == "id_number":
        return f"CASE WHEN zt_id_valid({v}) THEN zt_pid_id({v}) END", "身份证号格式不正确"
    if t == "phone":
        return f"CASE WHEN zt_phone_valid({v}) THEN zt_pid_phone({v}) END", "电话号码格式不正确"
    return v, ""  # text, unit, freetext (masked below)


def _mask(expr: str, persons: list[Mapping]) -> str:
    """Free text with ID and phone numbers, then every name in the same row, replaced."""
    out = f"zt_mask_numbers({expr})"
    for p in persons:
        out = f"zt_mask_name({out}, zt_blank(c{p.index}))"
    return out


def raw_json(mappings: list[Mapping], raw_headers: list[str]) -> str:
    """The raw row as JSON (header → cell) for rejected rows, with identifiers pseudonymised and text masked."""
    persons = [m for m in mappings if m.column.type == "person"]
    mapped_idx = {m.index: m for m in mappings}
    pairs = []
    for i, header in enumerate(raw_headers):
        key = header or f"第{i + 1}列"
        m = mapped_idx.get(i)
        if m is not None and m.column.is_pii:
            pid = {"person": "zt_pid_person", "id_number": "zt_pid_id", "phone": "zt_pid_phone"}[m.column.type]
            val = f"{pid}(zt_blank(c{i}))"
        elif m is not None and m.column.type != "freetext":
            val = f"c{i}"
        else:
            val = _mask(f"c{i}", persons)  # free text and columns we do not know may hold names or numbers
        pairs.append(f"{q(key)}, {val}")
    return f"json_object({', '.join(pairs)})" if pairs else "json_object()"


def build_select(kind: Kind, mappings: list[Mapping], raw_headers: list[str], source: str) -> str:
    """SELECT over `source` (c0..cN, _row) producing typed columns t_<name>, errors e_<name> and check failures k_<i>."""
    by_name = {m.column.name: m for m in mappings}
    persons = [m for m in mappings if m.column.type == "person"]

    cleaned, typed, errors = [], [], []
    for col in kind.columns:
        m = by_name.get(col.name)
        if m is None:
            cleaned.append(f"NULL::VARCHAR AS v_{col.name}")
            typed.append(f"NULL::{col.sql_type} AS t_{col.name}")
            errors.append(f"CASE WHEN {str(col.required).upper()} THEN {q('缺少必填项')} END AS e_{col.name}")
            continue
        raw = f"c{m.index}"
        v = raw if col.type == "enum" else f"zt_blank({raw})"
        cleaned.append(f"{v} AS v_{col.name}")
        expr, reason = _typed(col, f"v_{col.name}", m.scale)
        if col.type == "freetext":
            expr = _mask(f"v_{col.name}", persons)
        typed.append(f"{expr} AS t_{col.name}")
        missing = f"WHEN v_{col.name} IS NULL THEN {q('缺少必填项')}" if col.required else ""
        bad = f"WHEN t_{col.name} IS NULL THEN {q(reason)} || '：' || zt_mask_numbers(v_{col.name})" if reason else ""
        if col.is_pii and reason:
            bad = f"WHEN t_{col.name} IS NULL THEN {q(reason)}"  # never echo an identifier
        bad = bad.replace("WHEN t_", f"WHEN v_{col.name} IS NOT NULL AND t_", 1)
        errors.append(f"CASE {missing} {bad} END AS e_{col.name}" if (missing or bad) else f"NULL::VARCHAR AS e_{col.name}")

    checks = [
        f"CASE WHEN NOT coalesce(({ch.sql}), true) THEN {q(ch.message)} END AS k_{i}"
        for i, ch in enumerate(kind.checks)
    ]
    # Typed names for check expressions: the dictionary writes them as plain column names.
    plain = ", ".join(f"t_{c.name} AS {ident(c.name)}" for c in kind.columns)

    return f"""
WITH cleaned AS (
    SELECT _row, {', '.join(f'c{i}' for i in range(len(raw_headers)))}{',' if raw_headers else ''} {', '.join(cleaned)}
    FROM {source}
), typed AS (
    SELECT *, {', '.join(typed)} FROM cleaned
), checked AS (
    SELECT *, {', '.join(errors)} FROM typed
)
SELECT _row, {', '.join(f't_{c.name}' for c in kind.columns)},
       {', '.join(f'e_{c.name}' for c in kind.columns)},
       {', '.join(checks) if checks else 'NULL AS k_none'}
FROM (SELECT *, {plain} FROM checked)
"""


def error_columns(kind: Kind) -> list[tuple[str, str]]:
    """(SQL column holding an error, the Chinese header it is reported under)."""
    out = [(f"e_{c.name}", c.zh) for c in kind.columns]
    out += [(f"k_{i}", "、".join(kind.column(n).zh for n in ch.columns)) for i, ch in enumerate(kind.checks)]
    return out
