"""Reading ledgers as analysts keep them: .xlsx/.xls via fastexcel (Rust calamine → Arrow) and .csv in
UTF-8 or GBK/GB18030 via pyarrow, every cell as text, with the row number the analyst sees in Excel or
in the CSV file, so a rejected row can be found again.

Header detection: the header is the row (or pair of rows, for merged two-row headers) among the first
few that matches most known headers; title rows above it are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.errors import UserError

HEADER_SCAN_ROWS = 30
SUPPORTED = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")


@dataclass
class RawSheet:
    """One table read from a file: text cells in columns c0..cN plus `_row`, the analyst-visible row number."""

    path: Path
    sheet: str | None
    headers: list[str]            # original header text per column (merged headers joined with '/')
    table: pa.Table               # c0..cN (string) and _row (int32)
    blank_rows: int = 0
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row number, text) of CSV lines with a wrong cell count

    @property
    def label(self) -> str:
        return f"{self.path.name}" + (f" [{self.sheet}]" if self.sheet else "")


def read_file(path: Path, known_header: Callable[[str], bool], *, peek: bool = False) -> Iterator[RawSheet]:
    """Yield each usable table of a ledger file (Excel: every sheet that has a recognisable header).

    With peek=True only the header is read (tables come back empty): enough to recognise the kind.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if suffix not in SUPPORTED:
        raise UserError(f"{path.name}: unsupported file type '{suffix}'; save it as .xlsx, .xls or .csv")
    if suffix in (".csv", ".txt"):
        yield _read_csv(path, known_header, peek)
    else:
        yield from _read_excel(path, known_header, peek)


# ----------------------------------------------------------------------------------------------- header

def _locate_header(rows: list[list[str | None]], known_header: Callable[[str], bool]) -> tuple[int, int, list[str]]:
    """(first header row, number of header rows 1 or 2, header texts) among the scanned rows."""
    def hits(row: list[str | None]) -> list[bool]:
        return [bool(c) and known_header(str(c)) for c in row]

    best = (0, 0, 1)  # (score, row, height)
    for r, row in enumerate(rows):
        single = sum(hits(row))
        if single > best[0]:
            best = (single, r, 1)
        if r + 1 < len(rows):
            a, b = hits(row), hits(rows[r + 1])
            width = max(len(a), len(b))
            a += [False] * (width - len(a))
            b += [False] * (width - len(b))
            pair = sum(x or y for x, y in zip(a, b))
            # A second header row only counts when it adds headers the first one lacks.
            if pair > best[0] and sum(b) > 0 and pair > sum(a):
                best = (pair, r, 2)
    score, r, height = best
    if score < 2:
        return -1, 0, []
    top = rows[r]
    if height == 1:
        return r, 1, [("" if c is None else str(c)) for c in top]
    bottom = rows[r + 1]
    width = max(len(top), len(bottom))
    headers = []
    group = ""
    for j in range(width):
        t = top[j] if j < len(top) else None
        b = bottom[j] if j < len(bottom) else None
        group = str(t) if t else group  # a merged group header spans the empty cells to its right
        if b and known_header(str(b)):
            headers.append(str(b))
        elif t:
            headers.append(str(t))
        elif b:
            headers.append(f"{group}/{b}" if group else str(b))
        else:
            headers.append("")
    return r, 2, headers


def _no_header(path: Path, sheet: str | None) -> UserError:
    where = f"{path.name}" + (f" sheet '{sheet}'" if sheet else "")
    return UserError(
        f"{where}: no header row recognised in the first {HEADER_SCAN_ROWS} rows; "
        "check the file is a ledger, or map its headers with --map 表头=column"
    )


# ------------------------------------------------------------------------------------------------ excel

def _xlsx_origins(path: Path) -> dict[str, int]:
    """First used row (0-based) of each sheet from the sheet XML's <dimension>, since calamine drops leading empty rows."""
    out: dict[str, int] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
            targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
            for name, rid in re.findall(r'<sheet[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
                target = targets.get(rid, "")
                member = target.lstrip("/") if target.startswith("/") else "xl/" + target
                with zf.open(member) as fh:
                    head = fh.read(4096).decode("utf-8", "replace")
                m = re.search(r'<dimension ref="[A-Z]+(\d+)', head)
                out[_xml_unescape(name)] = int(m.group(1)) - 1 if m else 0
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return out


def _xml_unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def _read_excel(path: Path, known_header: Callable[[str], bool], peek: bool = False) -> Iterator[RawSheet]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for corrupt or encrypted files
        raise UserError(f"{path.name}: cannot be read as an Excel workbook ({str(exc).splitlines()[0]})") from None
    origins = _xlsx_origins(path) if path.suffix.lower() != ".xls" else {}
    found = 0
    for sheet_name in reader.sheet_names:
        try:
            sheet = reader.load_sheet(sheet_name, header_row=None, dtypes="string", n_rows=HEADER_SCAN_ROWS if peek else None)
        except Exception as exc:
            raise UserError(f"{path.name} sheet '{sheet_name}': cannot be read ({str(exc).splitlines()[0]})") from None
        table = sheet.to_arrow()
        if table.num_rows == 0:
            continue
        head = [list(r.values()) for r in table.slice(0, HEADER_SCAN_ROWS).to_pylist()]
        start, height, headers = _locate_header(head, known_header)
        if start < 0:
            continue
        found += 1
        data = table.slice(start + height, 0 if peek else None)
        first_row = origins.get(sheet_name, 0) + start + height + 1  # 1-based Excel row of the first data row
        rows = pa.array(np.arange(first_row, first_row + data.num_rows, dtype=np.int32))
        yield _finish(path, sheet_name, headers, data, rows)
    if not found:
        raise _no_header(path, None)


# -------------------------------------------------------------------------------------------------- csv

def decode(raw: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes of a CSV that may be UTF-8 (with or without BOM) or GBK/GB18030, and the encoding found."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:], "utf-8-sig"
    try:
        raw.decode("utf-8")
        return raw, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError:
        raise UserError("file is neither UTF-8 nor GBK/GB18030 text: save it as CSV UTF-8 or Excel") from None


def _is_utf8_prefix(head: bytes) -> bool:
    """UTF-8 unless the bytes fail to decode before the last (possibly cut) character."""
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3


def _read_csv(path: Path, known_header: Callable[[str], bool], peek: bool = False) -> RawSheet:
    if peek:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        text = head.decode("utf-8-sig", "ignore") if _is_utf8_prefix(head) else head.decode("gb18030", "ignore")
        rows = [[c or None for c in row] for row in csv.reader(text.split("\n")[:HEADER_SCAN_ROWS])]
        start, _height, headers = _locate_header(rows, known_header)
        if start < 0:
            raise _no_header(path, None)
        empty = pa.table({**{f"c{i}": pa.array([], pa.string()) for i in range(len(headers))}, "_row": pa.array([], pa.int32())})
        return RawSheet(path=path, sheet=None, headers=headers, table=empty)
    try:
        data, _encoding = decode(path.read_bytes())
    except UserError as exc:
        raise UserError(f"{path.name}: {exc}") from None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # Lines up to the header are few: parse them with csv to find the header and where data starts.
    head_lines = data[: 1 << 16].decode("utf-8", "ignore").split("\n")[:HEADER_SCAN_ROWS]
    head = [[c or None for c in row] for row in csv.reader(head_lines)]
    start, height, headers = _locate_header(head, known_header)
    if start < 0:
        raise _no_header(path, None)
    skip = start + height  # physical lines before the first data line (header cells hold no newlines)
    ncols = len(headers)
    ragged: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # Only malformed lines come here: keep them so they are reported, not silently dropped.
        ragged.append((row.number if row.number is not None else -1, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(skip_rows=skip, column_names=[f"c{i}" for i in range(ncols)], use_threads=threads, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types=pa.schema([(f"c{i}", pa.string()) for i in range(ncols)]), strings_can_be_null=True, quoted_strings_can_be_null=True),
        )

    try:
        table = parse(threads=True)
        if ragged:  # only a single-threaded parse numbers the malformed lines: redo it for those files
            ragged.clear()
            table = parse(threads=False)
    except pa.ArrowInvalid as exc:
        raise UserError(f"{path.name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    rows, blank, ragged = _csv_line_numbers(data, skip, table.num_rows, ragged)
    sheet = _finish(path, None, headers, table.rename_columns([f"c{i}" for i in range(ncols)]), rows)
    sheet.blank_rows += blank + sum(1 for _, t in ragged if not t.strip(", \t"))
    sheet.ragged = [(n, t) for n, t in ragged if t.strip(", \t")]
    return sheet


def _csv_line_numbers(data: bytes, skip: int, nrows: int, ragged: list[tuple[int, str]]) -> tuple[pa.Array, int, list[tuple[int, str]]]:
    """File line number (1-based) of each parsed record, from the newline positions with numpy.

    pyarrow numbers an invalid row by its position among the file's non-empty lines; we turn that
    into a physical line too. Exact when no quoted cell spans lines; otherwise records are numbered
    in order after the header.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.array([0])
    line_no = np.arange(1, len(ends) + 1, dtype=np.int64)
    nonblank_all = line_no[(ends - starts) > 0]
    ragged = [(int(nonblank_all[n - 1]) if 0 < n <= len(nonblank_all) else n, t) for n, t in ragged]
    body = line_no > skip
    blank = int(((ends - starts) == 0)[body].sum())
    records = line_no[body & ((ends - starts) > 0)]
    if ragged:
        records = records[~np.isin(records, [n for n, _ in ragged])]
    if len(records) == nrows:
        return pa.array(records.astype(np.int32)), blank, ragged
    return pa.array(np.arange(skip + 1, skip + 1 + nrows, dtype=np.int32)), blank, ragged


def _has_bytes(col: pa.ChunkedArray) -> tuple[bool, bool]:
    """(has full-width or no-break characters, has tabs, line breaks or double spaces) from a byte scan.

    Most columns have neither: scanning the UTF-8 buffers with numpy lets us skip them outright, so
    the costlier Unicode folding runs only on the few cells that need it.
    """
    wide = messy = False
    for chunk in col.chunks:
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        data = chunk.buffers()[2]
        if data is None:
            continue
        b = np.frombuffer(data, dtype=np.uint8)
        if len(b) < 3:
            continue
        b0, b1, b2 = b[:-2], b[1:-1], b[2:]
        wide = wide or bool(np.any((b0 == 0xEF) & ((b1 == 0xBC) | (b1 == 0xBD)))           # U+FF01-FF5E
                            or np.any((b0 == 0xE3) & (b1 == 0x80) & (b2 == 0x80))             # U+3000
                            or np.any((b0 == 0xC2) & (b1 == 0xA0)))                           # U+00A0
        messy = messy or bool(np.any((b == 9) | (b == 10) | (b == 13)) or np.any((b[:-1] == 32) & (b[1:] == 32)))
    return wide, messy


def clean_column(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cell text as compared everywhere after: full-width forms folded (NFKC), whitespace runs collapsed,
    trimmed, and empty cells NULL. Chinese offices type １２３ and （ ） as often as 123 and ( )."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.type != pa.string():
        col = col.cast(pa.string())
    wide, messy = _has_bytes(pa.chunked_array([col]))
    if wide:
        mask = pc.fill_null(pc.match_substring_regex(col, "[\uff01-\uff5e\u3000\u00a0]"), False)
        col = pc.replace_with_mask(col, mask, pc.utf8_normalize(col.filter(mask), "NFKC"))
    if messy:
        col = pc.replace_substring_regex(col, "\\s+", " ")
    col = pc.utf8_trim(col, " ")
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def trim_column(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cell text as written, only trimmed, with empty cells NULL: what free text is stored as.
    (Columns that are compared or typed get clean_column when their meaning is known.)"""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.type != pa.string():
        col = col.cast(pa.string())
    col = pc.utf8_trim_whitespace(col)
    return pa.chunked_array([pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)])


def _finish(path: Path, sheet: str | None, headers: list[str], data: pa.Table, rows: pa.Array) -> RawSheet:
    ncols = len(headers)
    cols = [trim_column(data.column(i)) if i < data.num_columns else pa.nulls(data.num_rows, pa.string()) for i in range(ncols)]
    table = pa.table({**{f"c{i}": cols[i] for i in range(ncols)}, "_row": rows})
    # Rows where every cell is empty are layout, not records: count them, don't load them.
    if ncols:
        empty = None
        for i in range(ncols):
            is_empty = pc.is_null(table.column(f"c{i}"))
            empty = is_empty if empty is None else pc.and_(empty, is_empty)
        blank = int(pc.sum(empty).as_py() or 0)
        table = table.filter(pc.invert(empty))
    else:
        blank = 0
    # DuckDB scans an Arrow table one record batch per thread: hand it many batches, not one.
    table = pa.Table.from_batches(table.to_batches(max_chunksize=1 << 16), schema=table.schema)
    return RawSheet(path=path, sheet=sheet, headers=headers, table=table, blank_rows=blank)
