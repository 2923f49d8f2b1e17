"""Ledger files the way analysts really keep them: xlsx or csv (UTF-8, UTF-8 with BOM, GBK, GB18030), a
title row, sometimes a two-row merged header, header wording drawn from the dictionary and its aliases,
mixed date spellings, booleans as 是/否 √/× Y/N, enum aliases, unit short names and near-miss spellings,
full-width characters, amounts in 元 or 万元, blank rows and a 合计 row — plus a small, counted share of
deliberately bad rows. Every choice is drawn from a per-file random stream, so files are reproducible.

Cells are rendered column by column (vectorised); only the xlsx writer visits cells one at a time,
and xlsx is used only where a file stays small."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipelines.settings import DATA_DIR
from pipelines.synth.streams import stream

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FULLWIDTH = str.maketrans("0123456789.-/", "０１２３４５６７８９．－／")
EXCEL_EPOCH = np.datetime64("1899-12-30")
YEARS = np.array([str(y) for y in range(1900, 2101)], dtype=object)
PAD2 = np.array([f"{i:02d}" for i in range(32)], dtype=object)
NOPAD = np.array([str(i) for i in range(32)], dtype=object)
DATE_STYLES = ["cn", "slash", "dot", "compact", "iso", "excel_date", "excel_serial"]
BOOL_STYLES = [("是", "否"), ("√", "×"), ("Y", "N"), ("是", "否")]
SIGNED_STYLES = [("署名", "匿名"), ("实名", "匿名")]
INVALID_ENUM = {"form": ["5", "第五种形态"], "_": ["待定", "见附件", "不详", "？？"]}
UNKNOWN_UNITS = ["机关事务服务中心", "供销合作社联合社", "残疾人联合会", "地方志编纂委员会办公室", "科学技术协会",
                 "住房公积金管理中心办事处"]
# Two-row headers: a group caption over some columns, as analysts draw them.
GROUPS = {
    "petitions": [("被反映人情况", ["reported_pid", "reported_post", "reported_rank", "is_leader"]),
                  ("办理情况", ["disposition", "outcome", "cleared", "closed_date"])],
    "inspection_findings": [("整改情况", ["status", "rectified_date"])],
    "audit_findings": [("整改落实", ["rectification", "rectified_date"])],
    "cases": [("处理情况", ["form", "party_sanction", "gov_sanction"])],
    "inquiries": [("回复及核实情况", ["reply_date", "spot_checked", "truthful"])],
}
DATE_ORDER = {  # (earlier, later) pairs whose order the dictionary's checks enforce
    "petitions": ("received_date", "closed_date"), "inspection_findings": ("feedback_date", "rectified_date"),
    "audit_findings": ("report_date", "rectified_date"), "cases": ("filed_date", "closed_date"),
    "inquiries": ("start_date", "reply_date"), "major_decisions": ("decision_date", "filing_date"),
}


@lru_cache(maxsize=1)
def ledger_spec() -> dict:
    """Columns of each kind from data/dictionary.yaml, with their header aliases and enum value aliases."""
    dictionary = yaml.load((DATA_DIR / "dictionary.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    aliases = yaml.load((DATA_DIR / "header_aliases.yaml").read_text(encoding="utf-8"), Loader=_LOADER) or {}
    value_aliases = yaml.load((DATA_DIR / "value_aliases.yaml").read_text(encoding="utf-8"), Loader=_LOADER) or {}
    spec = {}
    for kind, body in dictionary["kinds"].items():
        cols = []
        known: dict[str, set[str]] = {}
        for c in body["columns"]:
            heads = [c["zh"]] + list((aliases.get(kind) or {}).get(c["name"], []) or [])
            for h in heads:
                known.setdefault(h, set()).add(c["name"])
        for c in body["columns"]:
            heads = [c["zh"]] + list((aliases.get(kind) or {}).get(c["name"], []) or [])
            # a header that another column of the same kind also claims would be ambiguous: never write it
            heads = [h for h in dict.fromkeys(heads) if known[h] == {c["name"]}]
            inv: dict[str, list[str]] = {}
            for alias, value in value_aliases.get(kind, {}).get(c["name"], {}).items():
                if not isinstance(value, dict):  # labels that also set another column are not written
                    inv.setdefault(str(value), []).append(str(alias))
            cols.append({"name": c["name"], "zh": c["zh"], "type": c["type"], "required": bool(c.get("required")),
                         "values": [str(v) for v in c.get("values", [])], "value_aliases": inv, "headers": heads})
        spec[kind] = {"zh": body["zh"], "columns": cols, "natural_key": body.get("natural_key", []),
                      "all_headers": set(known)}
    return spec


@dataclass
class Style:
    """Every formatting choice of one file."""

    fmt: str
    encoding: str
    newline: str
    title: str | None
    subtitle: str | None
    merged_title: bool
    two_row_header: bool
    serial_col: bool
    remark_col: bool
    headers: dict[str, str]
    date_style: str
    date_mix: float
    bool_style: tuple[str, str]
    signed_style: tuple[str, str] | None
    enum_alias_share: float
    unit_alias_share: float
    unit_fuzzy_share: float
    fullwidth_share: float
    wan_header: bool
    thousands: bool
    wan_cell_share: float
    period_style: str
    list_sep: str
    blank_rows: int
    total_row: bool
    bad_rate: float
    pad_names: bool = False


def choose_style(kind: str, fmt: str, title: str | None, team: str | None, seed: int, name: str,
                 big: bool) -> Style:
    rng = stream(seed, "style", name)
    spec = ledger_spec()[kind]
    headers = {}
    for c in spec["columns"]:
        h = c["headers"][0] if rng.random() < 0.55 or len(c["headers"]) == 1 else str(rng.choice(c["headers"][1:]))
        headers[c["name"]] = h
    wan = bool(rng.random() < 0.5)
    for c in spec["columns"]:
        if c["type"] == "amount":
            headers[c["name"]] += "（万元）" if wan else str(rng.choice(["（元）", "(元)", ""]))
    if fmt == "csv":
        encoding = str(rng.choice(["utf-8", "utf-8-sig", "gbk", "gb18030"], p=[0.3, 0.3, 0.25, 0.15]))
    else:
        encoding = "xlsx"
    date_styles = DATE_STYLES if fmt == "xlsx" else DATE_STYLES[:5]
    two_rows = kind in GROUPS and rng.random() < 0.4
    return Style(
        fmt=fmt, encoding=encoding, newline=str(rng.choice(["\r\n", "\n"])), title=title if rng.random() < 0.85 else None,
        subtitle=(f"填报单位：{team or '县纪委监委'}　　填报时间：" if rng.random() < 0.4 else None),
        merged_title=bool(rng.random() < 0.7), two_row_header=two_rows,
        serial_col=kind not in ("inspection_findings", "audit_findings") and rng.random() < 0.7,
        remark_col=bool(rng.random() < 0.4), headers=headers,
        date_style=str(rng.choice(date_styles)), date_mix=float(rng.choice([0.0, 0.02, 0.05])),
        bool_style=BOOL_STYLES[int(rng.integers(0, len(BOOL_STYLES)))],
        signed_style=SIGNED_STYLES[int(rng.integers(0, 2))] if rng.random() < 0.5 else None,
        enum_alias_share=float(rng.choice([0.0, 0.05, 0.15, 0.3])),
        unit_alias_share=float(rng.choice([0.0, 0.05, 0.12])), unit_fuzzy_share=float(rng.choice([0.0, 0.02, 0.05])),
        fullwidth_share=float(rng.choice([0.0, 0.0, 0.01, 0.03])), wan_header=wan, thousands=bool(rng.random() < 0.4),
        wan_cell_share=0.0 if wan else float(rng.choice([0.0, 0.03, 0.08])),
        period_style=str(rng.choice(["H", "cn", "short"])), list_sep=str(rng.choice(["、", "；"])),
        blank_rows=0 if big else int(rng.integers(0, 4)), total_row=bool(rng.random() < 0.5),
        bad_rate=float(rng.uniform(0.005, 0.01)),
        # two-character names padded to three (王　伟), as typed to align a column; never where free text
        # repeats the name (petitions), so masking by row name is not made harder than real life
        pad_names=kind in ("cases", "inquiries") and bool(rng.random() < 0.35),
    )


# ------------------------------------------------------------------------------------------ rendering
def render_dates(d: np.ndarray, styles: np.ndarray, excel: bool) -> np.ndarray:
    """Dates as their cells: strings in several spellings, or (xlsx) date cells and serial numbers."""
    d = np.asarray(d, dtype="datetime64[D]")
    n = len(d)
    out = np.full(n, None, dtype=object)
    ok = ~np.isnat(d)
    if not ok.any():
        return out
    di = d[ok]
    y = di.astype("datetime64[Y]").astype(int) + 1970
    m = di.astype("datetime64[M]").astype(int) % 12 + 1
    dd = (di - di.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    ys, st = YEARS[y - 1900], styles[ok]
    res = np.empty(len(di), dtype=object)
    for style in np.unique(st):
        r = st == style
        if style == "cn":
            res[r] = ys[r] + "年" + NOPAD[m[r]] + "月" + NOPAD[dd[r]] + "日"
        elif style == "slash":
            res[r] = ys[r] + "/" + NOPAD[m[r]] + "/" + NOPAD[dd[r]]
        elif style == "dot":
            res[r] = ys[r] + "." + PAD2[m[r]] + "." + PAD2[dd[r]]
        elif style == "compact":
            res[r] = ys[r] + PAD2[m[r]] + PAD2[dd[r]]
        elif style == "excel_date" and excel:
            res[r] = [dt.date(int(a), int(b), int(c)) for a, b, c in zip(y[r], m[r], dd[r])]
        elif style == "excel_serial" and excel:
            res[r] = (di[r] - EXCEL_EPOCH).astype(int).tolist()
        else:
            res[r] = ys[r] + "-" + PAD2[m[r]] + "-" + PAD2[dd[r]]
    out[ok] = res
    return out


def impossible_date(year: int, style: str) -> str:
    """A date that cannot exist, in the file's own spelling."""
    return {"cn": f"{year}年2月30日", "slash": f"{year}/2/30", "dot": f"{year}.02.30", "compact": f"{year}0230",
            "iso": f"{year}-02-30"}.get(style, f"{year}年2月30日")


def _fmt_numbers(v: np.ndarray, decimals: int, thousands: bool) -> np.ndarray:
    s = pd.Series(v)
    if thousands:
        return s.map(lambda x: f"{x:,.{decimals}f}").to_numpy(dtype=object)
    return s.round(decimals).astype(str).str.replace(r"\.0$", "", regex=True).to_numpy(dtype=object)


def _fullwidth(cells: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Full-width digits and separators in a share of the string cells (numbers stay numbers)."""
    if share <= 0:
        return cells
    pick = np.flatnonzero(rng.random(len(cells)) < share)
    sub = pd.Series(cells[pick], dtype=object)
    is_str = sub.map(type).to_numpy() == str  # a few per cent of one column
    idx = pick[is_str]
    cells[idx] = sub[is_str].str.translate(FULLWIDTH).to_numpy(dtype=object)
    return cells


@dataclass
class Rendered:
    columns: list[str]          # dictionary column names (None for the serial and remark columns)
    headers: list[str]
    cells: list[np.ndarray]
    bad: list[dict] = field(default_factory=list)


def render(kind: str, df: pd.DataFrame, style: Style, units_ctx: dict, rng: np.random.Generator,
           n_bad: int) -> Rendered:
    """Turn canonical rows into cells, planting `n_bad` bad rows (never in story rows)."""
    spec = ledger_spec()[kind]
    excel = style.fmt == "xlsx"
    n = len(df)
    df = df.copy()
    protect = df["story"].to_numpy() != "" if "story" in df else np.zeros(n, bool)
    # Choose the bad rows and their reasons first: a date-order fault changes the canonical values.
    cand = np.flatnonzero(~protect)
    bad_rows = np.sort(rng.choice(cand, size=min(n_bad, len(cand)), replace=False)) if n_bad else np.array([], int)
    reasons = ["unknown_unit", "impossible_date", "invalid_enum", "missing_required"]
    if kind in DATE_ORDER:
        reasons.append("date_order")
    unit_col = next((c["name"] for c in spec["columns"] if c["type"] == "unit"), None)
    req_dates = [c["name"] for c in spec["columns"] if c["type"] == "date" and c["required"]]
    req_enums = [c["name"] for c in spec["columns"] if c["type"] == "enum" and c["required"]]
    req_other = [c["name"] for c in spec["columns"] if c["required"] and c["name"] not in spec["natural_key"]] or \
        [c["name"] for c in spec["columns"] if c["required"]]
    plan = []
    for i in bad_rows:
        reason = reasons[int(rng.integers(0, len(reasons)))]
        if reason == "date_order":
            a, b = DATE_ORDER[kind]
            if pd.isna(df.at[df.index[i], a]) or pd.isna(df.at[df.index[i], b]):
                reason = "impossible_date"
            else:
                df.at[df.index[i], b] = df.at[df.index[i], a] - pd.Timedelta(days=int(rng.integers(3, 40)))
                plan.append((i, reason, b, None))
                continue
        if reason == "unknown_unit" and unit_col is None:
            reason = "missing_required"
        if reason == "invalid_enum" and not req_enums:
            reason = "missing_required"
        if reason == "impossible_date" and not req_dates:
            reason = "missing_required"
        col = {"unknown_unit": unit_col,
               "impossible_date": req_dates[int(rng.integers(0, len(req_dates)))] if req_dates else None,
               "invalid_enum": req_enums[int(rng.integers(0, len(req_enums)))] if req_enums else None,
               "missing_required": req_other[int(rng.integers(0, len(req_other)))]}[reason]
        plan.append((i, reason, col, None))

    cells, names, headers = [], [], []
    for c in spec["columns"]:
        name, typ = c["name"], c["type"]
        v = df[name].to_numpy() if name in df else np.full(n, None, dtype=object)
        if typ == "date":
            styles = np.full(n, style.date_style, dtype=object)
            if style.date_mix:
                mix = rng.random(n) < style.date_mix
                pool = DATE_STYLES if excel else DATE_STYLES[:5]
                styles[mix] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), mix.sum())]
            col = render_dates(v, styles, excel)
            col = _fullwidth(col, style.fullwidth_share, rng)
        elif typ == "bool":
            yes, no = style.signed_style if (name == "signed" and style.signed_style) else style.bool_style
            col = np.full(n, None, dtype=object)
            mask = pd.notna(pd.Series(v, dtype=object)).to_numpy()
            vb = np.asarray(v, dtype=object)
            col[mask & (vb == True)] = yes  # noqa: E712
            col[mask & (vb == False)] = no  # noqa: E712
        elif typ == "enum":
            col = np.asarray(v, dtype=object).copy()
            if style.enum_alias_share and c["value_aliases"]:
                swap = rng.random(n) < style.enum_alias_share
                for value, al in c["value_aliases"].items():
                    rows = np.flatnonzero(swap & (col == value))
                    if len(rows):
                        col[rows] = np.asarray(al, dtype=object)[rng.integers(0, len(al), len(rows))]
        elif typ == "unit":
            col = np.asarray(v, dtype=object).copy()
            r = rng.random(n)
            col = _swap_names(col, r < style.unit_alias_share, units_ctx["alias"], rng)
            fz = (r >= style.unit_alias_share) & (r < style.unit_alias_share + style.unit_fuzzy_share)
            col = _swap_names(col, fz, units_ctx["fuzzy"], rng)
            if style.fullwidth_share:  # stray spaces around a name, half-width or full-width
                sp = np.flatnonzero(rng.random(n) < style.fullwidth_share)
                sub = pd.Series(col[sp], dtype=object)
                col[sp] = np.where(sub.notna().to_numpy(), sub.fillna("").astype(str).to_numpy(dtype=object)
                                   + np.where(rng.random(len(sp)) < 0.5, "　", " "), None)
        elif typ == "amount":
            val = np.asarray(v, dtype=float)
            col = np.full(n, None, dtype=object)
            ok = ~np.isnan(val)
            if style.wan_header:
                w = np.round(val[ok] / 10000, 4)
                col[ok] = w.tolist() if excel else _fmt_numbers(w, 4, False)
            else:
                col[ok] = np.round(val[ok], 2).tolist() if (excel and not style.thousands) else _fmt_numbers(val[ok], 2, style.thousands)
                if style.wan_cell_share:
                    rows = np.flatnonzero(ok & (rng.random(n) < style.wan_cell_share))
                    col[rows] = _fmt_numbers(np.round(val[rows] / 10000, 4), 4, False) + "万元"
            col = _fullwidth(col, style.fullwidth_share, rng)
        elif typ in ("int", "number"):
            val = np.asarray(v, dtype=float)
            if excel:
                col = (val.astype(np.int64).tolist() if typ == "int" else np.round(val, 1).tolist())
                col = np.asarray(col, dtype=object)
            else:
                col = _fmt_numbers(val, 0 if typ == "int" else 1, False)
            col = _fullwidth(col, style.fullwidth_share, rng)
        elif typ == "period":
            p = pd.Series(v).astype(str)
            if style.period_style == "cn":
                p = p.str.replace("H1", "年上半年").str.replace("H2", "年下半年")
            elif style.period_style == "short":
                p = p.str.replace("H1", "上").str.replace("H2", "下")
            col = p.to_numpy(dtype=object)
        elif typ == "list":
            col = np.asarray([style.list_sep.join(x) if isinstance(x, (list, tuple)) else x for x in v], dtype=object)
        elif typ == "phone":
            col = np.asarray(v, dtype=object).copy()
            has = pd.notna(pd.Series(col)).to_numpy() & (rng.random(n) < 0.05)
            s = pd.Series(col[has], dtype=object).astype(str)
            col[has] = (s.str[:3] + "-" + s.str[3:7] + "-" + s.str[7:]).to_numpy(dtype=object)
        elif typ == "person":
            col = np.asarray(v, dtype=object).copy()
            if style.pad_names:
                sv = pd.Series(col, dtype=object)
                two = (sv.str.len() == 2).fillna(False).to_numpy(dtype=bool)
                col[two] = (sv[two].str[0] + "　" + sv[two].str[1]).to_numpy(dtype=object)
        elif typ == "code" and excel:
            col = np.asarray([x if x is None or (isinstance(x, float) and np.isnan(x)) else str(x) for x in v], dtype=object)
        else:
            col = np.asarray(v, dtype=object).copy()
            if typ == "text" and style.fullwidth_share:  # a trailing full-width space, as typed
                sp = np.flatnonzero(rng.random(n) < style.fullwidth_share)
                sub = pd.Series(col[sp], dtype=object)
                col[sp] = np.where(sub.notna().to_numpy(), sub.fillna("").astype(str).to_numpy(dtype=object) + "　", None)
        col = np.where(pd.isna(pd.Series(col, dtype=object)).to_numpy(), None, col)
        cells.append(col)
        names.append(name)
        headers.append(style.headers[name])

    by_name = dict(zip(names, cells))
    bad = []
    for i, reason, colname, _ in plan:
        col = by_name[colname]
        if reason == "unknown_unit":
            col[i] = units_ctx["prefix"] + UNKNOWN_UNITS[int(rng.integers(0, len(UNKNOWN_UNITS)))]
        elif reason == "impossible_date":
            d = df[colname].iloc[i]
            year = int(pd.Timestamp(d).year) if pd.notna(d) else 2023
            col[i] = impossible_date(year, style.date_style)
        elif reason == "invalid_enum":
            pool = INVALID_ENUM.get(colname, INVALID_ENUM["_"])
            col[i] = pool[int(rng.integers(0, len(pool)))]
        elif reason == "missing_required":
            col[i] = None
        key = {k: _plain(df[k].iloc[i]) for k in spec["natural_key"]}
        bad.append({"row": int(i), "reason": reason, "column": colname, "key": key})

    if style.serial_col:
        names.insert(0, None)
        headers.insert(0, "序号")
        cells.insert(0, np.arange(1, n + 1, dtype=np.int64).astype(object) if excel else
                     np.arange(1, n + 1).astype(str).astype(object))
    if style.remark_col:
        names.append(None)
        headers.append(str(rng.choice(["备注", "备注说明"])))
        rem = np.full(n, None, dtype=object)
        rem[rng.random(n) < 0.04] = str(rng.choice(["已归档", "待核实", "见附件", "重点关注"]))
        cells.append(rem)
    return Rendered(names, headers, cells, bad)


def _swap_names(col: np.ndarray, mask: np.ndarray, table: dict[str, list[str]], rng) -> np.ndarray:
    """Replace the names in masked rows by one of their alternative spellings (vectorised by unit)."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0 or not table:
        return col
    codes, uniques = pd.factorize(pd.Series(col[rows], dtype=object))
    options = [table.get(u) or [u] for u in uniques]  # per unit, not per row
    lens = np.array([len(o) for o in options])
    offsets = np.cumsum(lens) - lens
    flat = np.array([x for o in options for x in o], dtype=object)
    pick = np.floor(rng.random(len(rows)) * lens[codes]).astype(np.int64)
    col[rows] = flat[offsets[codes] + pick]
    return col


def _plain(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64, dt.date)):
        return str(pd.Timestamp(v).date())
    if isinstance(v, np.generic):
        return v.item()
    return v


# ------------------------------------------------------------------------------------------ files
class LedgerFile:
    """One output file (one or several sheets), appended to chunk by chunk."""

    def __init__(self, out: Path, name: str, kind: str, style: Style, seed: int, sheets: list[str]):
        self.path = out / name
        self.name = name
        self.kind = kind
        self.style = style
        self.rng = stream(seed, "file", name)
        self.sheets = {s: {"rows": 0, "line": 0, "bad": [], "blank_lines": [], "started": False, "sums": None}
                       for s in sheets}
        self.layout = None
        self.filled_on = ""  # 填报时间 in the subtitle row, set by the generator
        if style.fmt == "xlsx":
            import xlsxwriter

            self.wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": False, "strings_to_numbers": False,
                                                           "strings_to_formulas": False, "strings_to_urls": False})
            self.wb.set_properties({"created": dt.datetime(2025, 1, 6, 9, 0, 0), "author": "", "title": ""})
            self.ws = {s: self.wb.add_worksheet(s) for s in sheets}
            self.fmt_date = self.wb.add_format({"num_format": ["yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "yyyy/m/d"][
                int(self.rng.integers(0, 3))]})
            self.fmt_title = self.wb.add_format({"bold": True, "font_size": 14, "align": "center"})
            self.fmt_head = self.wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                                                "text_wrap": True})
        else:
            self.fh = open(self.path, "wb")
            self.first_write = True

    # ---- low-level row output
    def _xlsx_row(self, sheet: str, values: list, header: bool = False) -> None:
        st = self.sheets[sheet]
        ws = self.ws[sheet]
        r = st["line"]
        for j, v in enumerate(values):
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(r, j, dt.datetime(v.year, v.month, v.day), self.fmt_date)
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                ws.write_number(r, j, float(v))
            else:
                ws.write_string(r, j, str(v), self.fmt_head if header else None)
        st["line"] += 1

    def _csv_lines(self, sheet: str, rows: list[list]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=self.style.newline)
        for row in rows:
            w.writerow(["" if v is None else v for v in row])
        self._csv_bytes(buf.getvalue())
        self.sheets[sheet]["line"] += len(rows)

    def _csv_bytes(self, text: str) -> None:
        enc = self.style.encoding
        if enc == "utf-8-sig" and not self.first_write:
            enc = "utf-8"
        self.fh.write(text.encode(enc))
        self.first_write = False

    # ---- structure
    def _start(self, sheet: str, rendered: Rendered) -> None:
        st = self.sheets[sheet]
        st["started"] = True
        s = self.style
        ncol = len(rendered.headers)
        self.layout = {"columns": rendered.columns, "headers": rendered.headers}
        title_lines = []
        if s.title:
            title = s.title if len(self.sheets) == 1 else f"{sheet}{s.title}"
            title_lines.append([title] + [None] * (ncol - 1))
        if s.subtitle:
            title_lines.append([s.subtitle + self.filled_on] + [None] * (ncol - 1))
        head_rows = [rendered.headers]
        merges = []
        if s.two_row_header:
            top, bottom = list(rendered.headers), [None] * ncol
            for caption, members in GROUPS[self.kind]:
                idx = [j for j, c in enumerate(rendered.columns) if c in members]
                if len(idx) < 2 or idx != list(range(idx[0], idx[0] + len(idx))):
                    continue
                for j in idx:
                    top[j], bottom[j] = None, rendered.headers[j]
                top[idx[0]] = caption
                merges.append(("h", idx[0], idx[-1], caption))
            if merges:
                head_rows = [top, bottom]
        st["title_rows"] = len(title_lines)
        st["header_rows"] = len(head_rows)
        if s.fmt == "xlsx":
            ws = self.ws[sheet]
            for k, row in enumerate(title_lines):
                if s.merged_title and ncol > 1:
                    ws.merge_range(st["line"], 0, st["line"], ncol - 1, row[0], self.fmt_title if k == 0 else None)
                    st["line"] += 1
                else:
                    self._xlsx_row(sheet, row)
            r0 = st["line"]
            if len(head_rows) == 2:
                top, bottom = head_rows
                grouped = {j for _, a, b, _ in merges for j in range(a, b + 1)}
                for j in range(ncol):  # ungrouped headers span both rows
                    if j not in grouped:
                        ws.merge_range(r0, j, r0 + 1, j, top[j], self.fmt_head)
                for _, a, b, caption in merges:
                    ws.merge_range(r0, a, r0, b, caption, self.fmt_head)
                st["line"] += 1
                for j in sorted(grouped):
                    ws.write_string(st["line"], j, bottom[j], self.fmt_head)
                st["line"] += 1
            else:
                self._xlsx_row(sheet, head_rows[0], header=True)
            ws.set_column(0, ncol - 1, 14)
        else:
            self._csv_lines(sheet, title_lines + head_rows)
        st["first_data_line"] = st["line"] + 1  # 1-based

    def append(self, sheet: str, df: pd.DataFrame, units_ctx: dict, n_bad: int) -> None:
        if len(df) == 0 and self.sheets[sheet]["started"]:
            return
        st = self.sheets[sheet]
        rendered = render(self.kind, df, self.style, units_ctx, self.rng, n_bad)
        if not st["started"]:
            self._start(sheet, rendered)
        n = len(df)
        # blank rows (a few, first chunk only) at random positions
        blanks = sorted(self.rng.choice(np.arange(1, max(n, 2)), size=min(self.style.blank_rows, max(n - 1, 0)),
                                        replace=False).tolist()) if (self.style.blank_rows and st["rows"] == 0 and n > 2) else []
        first_line = st["line"] + 1
        line_of = np.arange(n) + first_line + np.searchsorted(np.array(blanks, dtype=int), np.arange(n), side="right")
        st["blank_lines"] += [int(first_line + b + k) for k, b in enumerate(blanks)]
        for b in rendered.bad:
            b["line"] = int(line_of[b.pop("row")])
        st["bad"] += rendered.bad
        amount_cols = [j for j, c in enumerate(rendered.columns) if c and self._type(c) == "amount"]
        sums = st["sums"] or {j: 0.0 for j in amount_cols}
        for j in amount_cols:
            sums[j] += float(np.nansum(pd.to_numeric(df[rendered.columns[j]], errors="coerce").to_numpy(dtype=float)))
        st["sums"] = sums
        if self.style.fmt == "xlsx":
            bset = set(blanks)
            cols = rendered.cells
            for i in range(n):  # xlsx files stay small (county and city scales)
                if i in bset:
                    st["line"] += 1
                self._xlsx_row(sheet, [c[i] for c in cols])
        else:
            self._csv_data(sheet, rendered, blanks)
        st["rows"] += n

    def _csv_data(self, sheet: str, rendered: Rendered, blanks: list[int]) -> None:
        """Data rows through the csv module: minimal quoting, as Excel and WPS export them."""
        cols = []
        for c in rendered.cells:
            s = pd.Series(c, dtype=object)
            cols.append(np.where(s.isna().to_numpy(), "", s.astype(str).to_numpy(dtype=object)))
        n = len(cols[0]) if cols else 0
        rows = list(zip(*cols))
        empty = ("",) * len(cols)
        for k, b in enumerate(blanks):
            rows.insert(b + k, empty)
        buf = io.StringIO()
        csv.writer(buf, lineterminator=self.style.newline).writerows(rows)
        self._csv_bytes(buf.getvalue())
        self.sheets[sheet]["line"] += n + len(blanks)

    def _type(self, col: str) -> str:
        return next(c["type"] for c in ledger_spec()[self.kind]["columns"] if c["name"] == col)

    def close(self) -> dict:
        info = {"file": self.name, "kind": self.kind, "format": self.style.fmt, "encoding": self.style.encoding,
                "sheets": [], "header_map": {}}
        if self.layout:
            info["header_map"] = {h: c for h, c in zip(self.layout["headers"], self.layout["columns"])}
        for name, st in self.sheets.items():
            if not st["started"]:
                continue
            total_line = None
            if self.style.total_row and st["rows"]:
                ncol = len(self.layout["headers"])
                row = [None] * ncol
                row[0] = "合计"
                row[1] = f"共{st['rows']}条" if ncol > 1 else None
                for j, v in (st["sums"] or {}).items():
                    if j > 1:
                        row[j] = round(v / 10000, 4) if self.style.wan_header else round(v, 2)
                if self.style.fmt == "xlsx":
                    self._xlsx_row(name, row)
                else:
                    self._csv_lines(name, [row])
                total_line = st["line"]
            info["sheets"].append({
                "sheet": name if self.style.fmt == "xlsx" else None, "data_rows": st["rows"],
                "title_rows": st["title_rows"], "header_rows": st["header_rows"],
                "first_data_line": st["first_data_line"], "blank_lines": st["blank_lines"],
                "total_line": total_line, "bad_rows": len(st["bad"]), "bad": st["bad"],
            })
        info["data_rows"] = sum(s["data_rows"] for s in info["sheets"])
        info["bad_rows"] = sum(s["bad_rows"] for s in info["sheets"])
        reasons: dict[str, int] = {}
        for s in info["sheets"]:
            for b in s["bad"]:
                reasons[b["reason"]] = reasons.get(b["reason"], 0) + 1
        info["bad_reasons"] = reasons
        if self.style.fmt == "xlsx":
            self.wb.close()
        else:
            self.fh.close()
        return info
