"""Read the synthetic ledger files back for the synth tests: a small, independent reader and validator
(the real one is the ingester's). It uses the layout recorded in truth.json only to find the header and
data rows; values are judged against data/dictionary.yaml and header_aliases.yaml."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from pathlib import Path

from functools import lru_cache

import yaml

from pipelines.settings import DATA_DIR

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BRACKET = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_DATE = re.compile(r"^(\d{4})[年/.\-]?(\d{1,2})[月/.\-]?(\d{1,2})日?$")
TRUE = {"是", "√", "Y", "署名", "实名"}
FALSE = {"否", "×", "N", "匿名"}
EXTRA_HEADERS = {"序号", "备注", "备注说明"}


def norm(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip()


def norm_header(h) -> str:
    return _BRACKET.sub("", re.sub(r"\s+", "", norm(h))).strip("*:：")


@lru_cache(maxsize=1)
def dictionary() -> dict:
    d = yaml.load((DATA_DIR / "dictionary.yaml").read_text(encoding="utf-8"), Loader=_LOADER)["kinds"]
    aliases = yaml.load((DATA_DIR / "header_aliases.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    values = yaml.load((DATA_DIR / "value_aliases.yaml").read_text(encoding="utf-8"), Loader=_LOADER) or {}
    for kind, body in d.items():
        for c in body["columns"]:  # written value → canonical (labels that also set another column are not written)
            c["value_aliases"] = {k: v for k, v in (values.get(kind) or {}).get(c["name"], {}).items() if not isinstance(v, dict)}
        lookup = {}
        for c in body["columns"]:
            for h in [c["zh"]] + list((aliases.get(kind) or {}).get(c["name"], []) or []):
                lookup.setdefault(norm_header(h), set()).add(c["name"])
        body["header_lookup"] = lookup
        body["by_name"] = {c["name"]: c for c in body["columns"]}
    return d


def parse_date(v):
    """A date from any spelling the generator uses; None for empty; raises ValueError if impossible."""
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 20000 < v < 80000:
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))
        v = str(int(v))
    m = _DATE.match(norm(v))
    if not m:
        raise ValueError(f"not a date: {v!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def grid(out: Path, info: dict, sheet: dict) -> list[list]:
    path = out / info["file"]
    if info["format"] == "xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet["sheet"]).to_python(skip_empty_area=False)
        return [[None if c == "" else c for c in r] for r in rows]
    text = path.read_bytes().decode(info["encoding"])
    return [[None if c == "" else c for c in r] for r in csv.reader(io.StringIO(text))]


def headers(g: list[list], sheet: dict) -> list[str]:
    h0 = sheet["title_rows"]
    rows = g[h0:h0 + sheet["header_rows"]]
    if len(rows) == 1:
        return [norm(x) for x in rows[0]]
    top, bottom = rows
    return [norm(b) if norm(b) else norm(t) for t, b in zip(top, bottom + [None] * (len(top) - len(bottom)))]


def records(out: Path, info: dict):
    """(sheet, line, {column: raw cell}) for every data row, skipping blank rows and the 合计 row."""
    d = dictionary()[info["kind"]]
    for sheet in info["sheets"]:
        g = grid(out, info, sheet)
        cols, scales = [], {}
        for h in headers(g, sheet):
            names = d["header_lookup"].get(norm_header(h), set())
            cols.append(next(iter(names)) if len(names) == 1 else None)
            if cols[-1] and "万元" in h:
                scales[cols[-1]] = 10000.0
        skip = set(sheet["blank_lines"]) | ({sheet["total_line"]} if sheet["total_line"] else set())
        for i in range(sheet["first_data_line"] - 1, len(g)):
            line = i + 1
            if line in skip:
                continue
            row = g[i]
            yield sheet, line, {c: row[j] if j < len(row) else None for j, c in enumerate(cols) if c}, scales


def unit_names(out: Path, truth: dict) -> dict:
    """Every spelling that resolves to a unit: roster names, aliases and the recorded near-miss variants."""
    info = next(f for f in truth["files"] if f["kind"] == "units")
    names = {}
    for _, _, r, _ in records(out, info):
        name = norm(r["unit_name"])
        names[name] = name
        for a in re.split(r"[、；;]", norm(r.get("aliases"))):
            if a:
                names[a] = name
    for variant, name in truth["unit_name_variants"].items():
        names[variant] = name
    return names


def value(kind: str, col: str, raw):
    """The canonical value of a cell, or raise ValueError if the dictionary would reject it."""
    c = dictionary()[kind]["by_name"][col]
    s = norm(raw)
    if s == "":
        return None
    t = c["type"]
    if t == "date":
        return parse_date(raw if not isinstance(raw, str) else s)
    if t == "bool":
        if s in TRUE:
            return True
        if s in FALSE:
            return False
        raise ValueError(f"bool {s!r}")
    if t == "enum":
        values = [str(v) for v in c["values"]]
        aliases = {str(k): str(v) for k, v in (c.get("value_aliases") or {}).items()}
        if s in values:
            return s
        if s in aliases:
            return aliases[s]
        raise ValueError(f"enum {col} {s!r}")
    if t == "person":  # 王　伟 is 王伟: padding to align a column is not part of the name
        return re.sub(r"\s+", "", s)
    if t == "int":
        return int(float(s))
    if t == "number":
        return float(s)
    if t == "amount":
        scale = 10000 if s.endswith("万元") else 1
        return float(s.replace("万元", "").replace(",", "")) * scale
    return s


def load(out: Path):
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return truth


def validate(out: Path, truth: dict, info: dict, units: dict):
    """Split a file's rows into accepted canonical rows and rejected (sheet, line) pairs."""
    kind = info["kind"]
    d = dictionary()[kind]
    pairs = {"petitions": ("received_date", "closed_date"), "inspection_findings": ("feedback_date", "rectified_date"),
             "audit_findings": ("report_date", "rectified_date"), "cases": ("filed_date", "closed_date"),
             "inquiries": ("start_date", "reply_date"), "major_decisions": ("decision_date", "filing_date")}
    good, bad = [], []
    for sheet, line, raw, scales in records(out, info):
        try:
            row = {c: value(kind, c, v) for c, v in raw.items() if c in d["by_name"]}
            for c, k in scales.items():
                if row.get(c) is not None and not norm(raw[c]).endswith("万元"):
                    row[c] *= k
            for c in d["columns"]:
                if c.get("required") and row.get(c["name"]) in (None, ""):
                    raise ValueError(f"missing {c['name']}")
                if c["type"] == "unit" and row.get(c["name"]) is not None:
                    if row[c["name"]] not in units:
                        raise ValueError(f"unknown unit {row[c['name']]}")
                    row[c["name"]] = units[row[c["name"]]]
            if kind in pairs:
                a, b = pairs[kind]
                if row.get(a) and row.get(b) and row[b] < row[a]:
                    raise ValueError("date order")
            row["_line"] = (sheet["sheet"], line)
            good.append(row)
        except ValueError:
            bad.append((sheet["sheet"], line))
    return good, bad
