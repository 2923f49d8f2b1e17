"""Excel export that reads well and cannot run formulas.

Reads well: dates as dates (never 00:00:00), numbers rounded for reading by a number format and a rounded
value, with the full-precision value kept in a hidden column beside it; an autofilter on the header; the
header frozen; columns as wide as their content. Cannot run formulas: text cells beginning with = + - @ (or
tab / CR, which some spreadsheet programs strip before parsing) get a leading apostrophe, and xlsxwriter is
told never to turn strings into formulas or links. Numbers stay numeric cells.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    """One worksheet: the frame as it is to be read, and how to show it.

    formats  column → Excel number format ('0.00', '0.0%', 'yyyy-mm-dd' …)
    hidden   columns written but hidden (full-precision values, internal keys): unhide to see them
    """

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    autofilter: bool = True


def neutralise(value):
    """A string that a spreadsheet could read as a formula, made inert by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_xlsx(sheets: dict[str, Sheet | pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options},
                        date_format="yyyy-mm-dd", datetime_format="yyyy-mm-dd hh:mm") as writer:
        book = writer.book
        header = book.add_format({"bold": True, "bg_color": "#E8E8E8", "border": 1, "text_wrap": True,
                                  "valign": "top"})
        for name, spec in sheets.items():
            spec = spec if isinstance(spec, Sheet) else Sheet(spec)
            safe = neutralise_frame(spec.frame)
            for col in safe.columns:  # Excel has no time zones and no NaT
                if pd.api.types.is_datetime64_any_dtype(safe[col]):
                    safe[col] = safe[col].dt.tz_localize(None) if getattr(safe[col].dt, "tz", None) else safe[col]
            safe = safe.replace({np.nan: None})
            safe.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, col in enumerate(safe.columns):
                sheet.write(0, i, col, header)
                fmt = book.add_format({"num_format": spec.formats[col]}) if col in spec.formats else None
                shown = [_shown(v, spec.formats.get(col)) for v in safe[col].head(200)]
                width = max([len(str(col))] + [len(s) for s in shown]) + 2
                sheet.set_column(i, i, min(max(width * 1.6, 8), 60), fmt,  # CJK glyphs are about double width
                                 {"hidden": True} if col in spec.hidden else {})
            sheet.freeze_panes(1, 0)
            if spec.autofilter and len(safe.columns):
                sheet.autofilter(0, 0, max(len(safe), 1), len(safe.columns) - 1)
    return buf.getvalue()


def _shown(v, fmt: str | None) -> str:
    """Roughly what a cell shows, for its column width."""
    if v is None:
        return ""
    if isinstance(v, (dt.date, pd.Timestamp)):
        return "0000-00-00"
    if isinstance(v, float) and fmt:
        return f"{v:.2f}"
    return str(v)
