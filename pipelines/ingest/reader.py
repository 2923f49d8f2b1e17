"""Reading ledgers as analysts keep them: .xlsx/.xls via fastexcel (Rust calamine → Arrow) and .csv in
UTF-8 or GBK/GB18030 via pyarrow, every cell as text, with the row number the analyst sees in Excel or
in the CSV file, so a rejected row can be found again.

Header detection: the header is the row (or pair of rows, for merged two-row headers) among the first
few that matches most known headers; title rows above it are skipped.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
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
# Limits past which a file is refused with one line instead of exhausting memory or time: wider than any
# ledger (the widest templates have a few dozen columns), cells longer than Excel itself allows, files
# larger than a province's ledger of one kind.
MAX_COLUMNS = 500
MAX_CELL_CHARS = 32_767
MAX_FILE_BYTES = 2 << 30
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclass
class RawSheet:
    """One table read from a file: text cells in columns c0..cN plus `_row`, the analyst-visible row number."""

    path: Path
    sheet: str | None
    headers: list[str]            # original header text per column (merged headers joined with '/')
    table: pa.Table               # c0..cN (string) and _row (int32)
    blank_rows: int = 0
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row number, text) of CSV lines with a wrong cell count
    notes: list[str] = field(default_factory=list)  # what was done to the file on reading (hidden sheets, control characters)

    @property
    def label(self) -> str:
        return f"{self.path.name}" + (f" [{self.sheet}]" if self.sheet else "")


def read_file(path: Path, known_header: Callable[[str], bool], *, peek: bool = False) -> Iterator[RawSheet]:
    """Yield each usable table of a ledger file (Excel: every sheet that has a recognisable header).

    With peek=True only the header is read (tables come back empty): enough to recognise the kind.
    """
    suffix = path.suffix.lower()
    check_file(path)
    if suffix not in SUPPORTED:
        raise UserError(f"{path.name}: unsupported file type '{suffix}'; save it as .xlsx, .xls or .csv")
    if suffix in (".csv", ".txt"):
        yield _read_csv(path, known_header, peek)
    else:
        yield from _read_excel(path, known_header, peek)


def check_file(path: Path) -> None:
    """Refuse by file type, before reading a byte: what is not a regular file (a FIFO would hang the read,
    a device never end), a symlink loop, a missing or empty file, a file too large to be a ledger."""
    try:
        st = os.stat(path)  # follows symlinks: the file the link names must be a regular file
    except FileNotFoundError:
        broken = os.path.islink(path)
        raise UserError(f"{path}: {'is a symbolic link to a file that does not exist' if broken else 'does not exist'}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path}: is a symbolic link that loops back on itself; point it at the ledger file") from None
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    mode = st.st_mode
    if not stat.S_ISREG(mode):
        what = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "not a regular file")
        raise UserError(f"{path}: is {what}, not a ledger file; give the .xlsx, .xls or .csv file itself")
    if st.st_size == 0:
        raise UserError(f"{path}: is empty (0 bytes)")
    if st.st_size > MAX_FILE_BYTES:
        raise UserError(f"{path}: is {st.st_size / (1 << 20):,.0f} MB, more than the {MAX_FILE_BYTES >> 20:,} MB a ledger "
                        "file may have; split it by year")
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: cannot be read (permission denied)")


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


def _no_header(path: Path, sheet: str | None, hidden: list[str] | None = None) -> UserError:
    where = f"{path.name}" + (f" sheet '{sheet}'" if sheet else "")
    also = f" (hidden sheets not read: {', '.join(hidden)})" if hidden else ""
    return UserError(
        f"{where}: no header row recognised in the first {HEADER_SCAN_ROWS} rows{also}; "
        "check the file is a ledger, or map its headers with --map 表头=column"
    )


def _too_wide(path: Path, sheet: str | None, width: int) -> UserError:
    where = f"{path.name}" + (f" sheet '{sheet}'" if sheet else "")
    return UserError(f"{where}: has {width:,} columns, more than the {MAX_COLUMNS} a ledger may have; "
                     "delete the empty or unrelated columns and save it again")


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
    hidden: list[str] = []
    heads = {}
    for sheet_name in reader.sheet_names:
        try:
            heads[sheet_name] = reader.load_sheet(sheet_name, header_row=None, dtypes="string", n_rows=HEADER_SCAN_ROWS)
        except Exception as exc:
            raise UserError(f"{path.name} sheet '{sheet_name}': cannot be read ({str(exc).splitlines()[0]})") from None
        if getattr(heads[sheet_name], "visible", "visible") != "visible":
            hidden.append(sheet_name)  # a hidden sheet is a working copy or a lookup list, not the ledger
    for sheet_name, head_sheet in heads.items():
        if sheet_name in hidden:
            continue
        if head_sheet.width > MAX_COLUMNS:
            raise _too_wide(path, sheet_name, head_sheet.width)
        table = head_sheet.to_arrow()
        if table.num_rows == 0:
            continue
        head = [list(r.values()) for r in table.slice(0, HEADER_SCAN_ROWS).to_pylist()]
        start, height, headers = _locate_header(head, known_header)
        if start < 0:
            continue
        if not peek:
            try:
                table = reader.load_sheet(sheet_name, header_row=None, dtypes="string").to_arrow()
            except Exception as exc:
                raise UserError(f"{path.name} sheet '{sheet_name}': cannot be read ({str(exc).splitlines()[0]})") from None
        data = table.slice(start + height, 0 if peek else None)
        first_row = origins.get(sheet_name, 0) + start + height + 1  # 1-based Excel row of the first data row
        rows = pa.array(np.arange(first_row, first_row + data.num_rows, dtype=np.int32))
        sheet = _finish(path, sheet_name, headers, data, rows)
        if hidden and not found:
            sheet.notes.append("隐藏工作表未导入：" + "、".join(hidden))
        found += 1
        yield sheet
    if not found:
        raise _no_header(path, None, hidden)


# -------------------------------------------------------------------------------------------------- csv

_MAGIC = {b"PK\x03\x04": ".xlsx", b"\xd0\xcf\x11\xe0": ".xls", b"%PDF": ".pdf", b"\x7fELF": "a program",
          b"\x1f\x8b": "a gzip archive", b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive"}


def decode(raw: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes of a CSV written in UTF-8 (with or without BOM), UTF-16 (LE/BE, with or without BOM) or
    GBK/GB18030 — or mostly UTF-8 with some lines in GBK, as when rows are pasted from an older file —
    and the encoding found. Other binary content is refused with what it looks like."""
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            hint = f"rename it to {what}" if what.startswith(".") else "it is not a ledger"
            raise UserError(f"is {'an Excel workbook' if what in ('.xlsx', '.xls') else what} saved with a .csv name: {hint}")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        try:
            return raw.decode("utf-32").encode("utf-8"), "utf-32"
        except UnicodeDecodeError:
            raise UserError("is neither UTF-8, UTF-16, UTF-32 nor GBK text: save it as CSV UTF-8 or Excel") from None
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw[:4096]):
        enc = ("utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff"))
               else "utf-16-le" if raw[1:4096:2].count(0) > raw[0:4096:2].count(0) else "utf-16-be")
        try:
            return raw.decode(enc).encode("utf-8"), enc
        except UnicodeDecodeError:
            raise UserError("is neither UTF-8, UTF-16 nor GBK text: save it as CSV UTF-8 or Excel") from None
    sample = raw[:65536]
    controls = sum(sample.count(bytes([c])) for c in (*range(0, 9), 11, 12, *range(14, 32)))
    if controls > len(sample) // 100:  # text has a stray NUL at most (stripped later); binary data is full of them
        raise UserError("is binary, not text: save the ledger as CSV UTF-8 or Excel")
    try:
        raw.decode("utf-8")
        return raw, "utf-8"
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    bad = [i for i, line in enumerate(lines) if not _utf8(line)]
    header_utf8 = bool(lines) and _utf8(lines[0]) and max(lines[0], default=0) >= 0x80  # Chinese header in UTF-8
    if header_utf8 or len(bad) * 5 < len(lines):  # some GBK lines in a UTF-8 file: decode those lines alone
        try:
            for i in bad:
                lines[i] = lines[i].decode("gb18030").encode("utf-8")
            return b"\n".join(lines), f"utf-8 ({len(bad)} lines gb18030)"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError:
        raise UserError("is neither UTF-8, UTF-16 nor GBK/GB18030 text: save it as CSV UTF-8 or Excel") from None


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a BOM: one byte of every pair is zero for the ASCII characters of a header row."""
    if len(head) < 8:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > len(head) // 6 and min(even, odd) < max(even, odd) // 4


def _is_utf8_prefix(head: bytes) -> bool:
    """UTF-8 unless the bytes fail to decode before the last (possibly cut) character."""
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3


def _head_text(path: Path) -> str:
    """The first 64 KiB of a CSV as text, line ends made \\n, for finding its header."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    try:
        data, _enc = decode(head)
    except UserError:
        if len(head) < 1 << 16:
            raise
        # the read may have cut a character: retry on whole lines (UTF-16 keeps its byte pairs)
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head[:4096])
        cut = len(head) - len(head) % 4 if utf16 else head.rfind(b"\n") + 1
        data, _enc = decode(head[:cut] or head)
    text = data.decode("utf-8", "ignore")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _head_rows(path: Path, text: str) -> list[list[str | None]]:
    lines = text.split("\n")[:HEADER_SCAN_ROWS]
    try:
        rows = [[c or None for c in row] for row in csv.reader(lines)]
    except csv.Error as exc:
        raise UserError(f"{path.name}: not a readable CSV ({exc})") from None
    width = max((len(r) for r in rows), default=0)
    if width > MAX_COLUMNS:
        raise _too_wide(path, None, width)
    return rows


def _read_csv(path: Path, known_header: Callable[[str], bool], peek: bool = False) -> RawSheet:
    if peek:
        try:
            text = _head_text(path)
        except UserError as exc:
            raise UserError(f"{path.name}: {exc}") from None
        start, _height, headers = _locate_header(_head_rows(path, text), known_header)
        if start < 0:
            raise _no_header(path, None)
        empty = pa.table({**{f"c{i}": pa.array([], pa.string()) for i in range(len(headers))}, "_row": pa.array([], pa.int32())})
        return RawSheet(path=path, sheet=None, headers=headers, table=empty)
    try:
        data, encoding = decode(path.read_bytes())
    except UserError as exc:
        raise UserError(f"{path.name}: {exc}") from None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # Lines up to the header are few: parse them with csv to find the header and where data starts.
    head = _head_rows(path, data[: 1 << 16].decode("utf-8", "ignore"))
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
            # only an empty cell is NULL: NaN, N/A, null … are what the ledger wrote, to be read (and flagged) as such
            convert_options=pacsv.ConvertOptions(column_types=pa.schema([(f"c{i}", pa.string()) for i in range(ncols)]),
                                                 null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True),
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
    if "gb18030" in encoding and encoding != "gb18030":
        sheet.notes.append(f"文件为UTF-8编码，其中{encoding.split('(')[1].split()[0]}行为GBK编码，已分别解码")
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


def trim_column(col: pa.ChunkedArray, counts: list[int] | None = None) -> pa.ChunkedArray:
    """Cell text as written, only trimmed, without control characters (NUL and the like, which no ledger
    means to hold), with empty cells NULL: what free text is stored as. Cells that lost control characters
    are counted into `counts`. (Columns that are compared or typed get clean_column when their meaning is known.)"""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.type != pa.string():
        col = col.cast(pa.string())
    has_control = pc.fill_null(pc.match_substring_regex(col, _CONTROL), False)
    n = pc.sum(has_control).as_py() or 0
    if n:
        col = pc.replace_substring_regex(col, _CONTROL, "")
        if counts is not None:
            counts.append(n)
    col = pc.utf8_trim_whitespace(col)
    return pa.chunked_array([pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)])


def _finish(path: Path, sheet: str | None, headers: list[str], data: pa.Table, rows: pa.Array) -> RawSheet:
    ncols = len(headers)
    if ncols > MAX_COLUMNS:
        raise _too_wide(path, sheet, ncols)
    stripped: list[int] = []
    cols = [trim_column(data.column(i), stripped) if i < data.num_columns else pa.nulls(data.num_rows, pa.string())
            for i in range(ncols)]
    for i, col in enumerate(cols):
        if len(col) and (pc.max(pc.utf8_length(col)).as_py() or 0) > MAX_CELL_CHARS:
            first = pc.index(pc.greater(pc.utf8_length(col), MAX_CELL_CHARS), True).as_py()
            where = f"{path.name}" + (f" sheet '{sheet}'" if sheet else "")
            raise UserError(f"{where}: a cell of column “{headers[i] or i + 1}” (row {rows[first].as_py()}) is longer than "
                            f"{MAX_CELL_CHARS:,} characters, the most a cell may hold; shorten it or split the text")
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
    out = RawSheet(path=path, sheet=sheet, headers=headers, table=table, blank_rows=blank)
    if stripped:
        out.notes.append(f"{sum(stripped)}个单元格含控制字符（如NUL），已删除")
    return out
