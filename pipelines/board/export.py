"""Excel export that cannot run formulas: text cells beginning with = + - @ (or tab / CR, which some
spreadsheet programs strip before parsing) get a leading apostrophe, and xlsxwriter is told never to
turn strings into formulas or links. Numbers stay numeric cells."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        for name, frame in sheets.items():
            safe = neutralise_frame(frame)
            for col in safe.columns:  # Excel has no time zones and no NaT
                if pd.api.types.is_datetime64_any_dtype(safe[col]):
                    safe[col] = safe[col].dt.tz_localize(None) if getattr(safe[col].dt, "tz", None) else safe[col]
            safe = safe.replace({np.nan: None})
            safe.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, col in enumerate(safe.columns):
                width = max([len(str(col))] + [len(str(v)) for v in safe[col].head(200)]) + 2
                sheet.set_column(i, i, min(max(width * 1.6, 8), 60))  # CJK glyphs are about double width
            sheet.freeze_panes(1, 0)
    return buf.getvalue()
