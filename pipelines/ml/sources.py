"""Where labelled texts come from: a spreadsheet or CSV as the team keeps it, or a ledger table of the warehouse.

Columns are named as the analyst sees them (反映内容, 问题类别) or by their warehouse names (content, category).
Files go through the ingest reader, so title rows above the header, GBK CSVs and every Excel sheet that has
the columns are read as ingest reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import UserError

DATE_HEADERS = ("受理日期", "received_date", "日期", "date", "登记日期", "反映时间", "留言时间", "时间")


@dataclass
class Labelled:
    frame: pd.DataFrame          # text (joined columns), label (or None), date (or NaT), key (row identity)
    text_columns: list[str]
    label_column: str | None
    date_column: str | None
    origin: str                  # file path or db:table

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    @property
    def labels(self) -> list | None:
        return None if self.label_column is None else self.frame["label"].tolist()

    @property
    def dates(self) -> np.ndarray | None:
        if self.date_column is None:
            return None
        return self.frame["date"].to_numpy(dtype="datetime64[D]")


def split_columns(spec: str | None) -> list[str]:
    return [c.strip() for c in (spec or "").replace("，", ",").split(",") if c.strip()]


def _join_text(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    parts = [df[c].fillna("").astype(str).str.strip() for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out.str.cat(p, sep="。")
    return out.str.strip("。")


def from_file(path: Path, text: list[str], label: str | None, date: str | None = None) -> Labelled:
    from pipelines.dictionary import normalise_header
    from pipelines.ingest import reader

    from pipelines import dictionary

    wanted = {normalise_header(c) for c in [*text, *(x for x in [label, date] if x)]}
    # The header row is the one with the most recognised cells: the columns asked for and any ledger header.
    known = wanted | {h for k in dictionary.load().kinds.values() for h in k.header_map()}
    frames = []
    try:
        sheets = list(reader.read_file(Path(path), lambda h: normalise_header(h) in known))
    except UserError as exc:
        if "no header row" not in str(exc):
            raise
        raise UserError(f"{Path(path).name}: no header row holds the columns {'、'.join([*text, *(x for x in [label] if x)])}; "
                        "name the columns with --text / --label as the header reads") from None
    for sheet in sheets:
        headers = [normalise_header(h) for h in sheet.headers]
        df = sheet.table.drop_columns(["_row"]).to_pandas()
        df.columns = headers[:len(df.columns)]
        df["_row"] = sheet.table.column("_row").to_numpy()
        df["_sheet"] = sheet.sheet or ""
        frames.append(df)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    norm = {c: normalise_header(c) for c in [*text, *(x for x in [label, date] if x)]}
    missing = [c for c, n in norm.items() if n not in df.columns]
    if missing:
        have = "、".join(str(c) for c in df.columns if not str(c).startswith("_")) or "无"
        raise UserError(f"{Path(path).name} has no column {'、'.join(missing)} (columns: {have}); "
                        "name the columns with --text / --label as the header reads")
    if date is None:
        date = next((d for d in DATE_HEADERS if normalise_header(d) in df.columns), None)
        norm[date] = normalise_header(date) if date else None
    out = pd.DataFrame({"text": _join_text(df, [norm[c] for c in text]),
                        "label": df[norm[label]].where(df[norm[label]].notna(), None) if label else None,
                        "date": _dates(df[norm[date]]) if date else pd.NaT,
                        "key": df["_sheet"].astype(str) + ":" + df["_row"].astype(str)})
    return Labelled(out, text, label, date, str(path))


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.astype(str).str.replace(r"[年月/.]", "-", regex=True).str.replace("日", ""),
                          errors="coerce").dt.normalize()


def from_db(db: Path, table: str, text: list[str], label: str | None, date: str | None = None) -> Labelled:
    from pipelines import dictionary, warehouse

    d = dictionary.load()
    kind = d.kinds.get(table)
    if kind is None:
        raise UserError(f"unknown ledger table '{table}': use one of {', '.join(d.kinds)}")
    names = kind.header_map()

    def column(c: str) -> str:
        col = names.get(dictionary.normalise_header(c))
        if col is None:
            raise UserError(f"table {table} has no column '{c}': use one of "
                            f"{'、'.join(f'{x.zh}({x.name})' for x in kind.columns if x.type in ('freetext', 'text', 'enum'))}")
        return col

    tcols = [column(c) for c in text]
    lcol = column(label) if label else None
    dcol = column(date) if date else next((c.name for c in kind.columns if c.type == "date"), None)
    key = " || '|' || ".join(f"CAST({k} AS VARCHAR)" for k in kind.natural_key)
    joined = " || '。' || ".join(f"coalesce({c}, '')" for c in tcols)
    con = warehouse.connect(db, read_only=True)
    try:
        df = con.execute(f"SELECT {key} AS key, {joined} AS text, {lcol or 'NULL'} AS label, "
                         f"{dcol or 'NULL'} AS date FROM {table} ORDER BY key").df()
    finally:
        con.close()
    df["text"] = df["text"].str.strip("。")
    df["date"] = pd.to_datetime(df["date"], errors="coerce")
    df["label"] = df["label"].astype(object).where(df["label"].notna(), None)
    return Labelled(df, tcols, lcol, dcol, f"{db}:{table}")


def load(data: Path | None, db: Path | None, table: str, text: str | None, label: str | None,
         date: str | None = None, *, need_label: bool = True) -> Labelled:
    if (data is None) == (db is None):
        raise UserError("give the texts with exactly one of --data FILE or --db DB")
    cols = split_columns(text)
    if not cols:
        if db is None:
            raise UserError("name the text column(s) with --text, e.g. --text 反映内容")
        cols = ["content"]
    if need_label and not label:
        raise UserError("name the label column with --label, e.g. --label 问题类别")
    src = from_file(data, cols, label, date) if data is not None else from_db(db, table, cols, label, date)
    if len(src.frame) == 0:
        raise UserError(f"no rows in {src.origin}: nothing to learn from")
    return src
