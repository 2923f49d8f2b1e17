"""`zhengtai ingest`: ledgers → validated, pseudonymised warehouse rows, all or nothing.

One invocation is one batch and one transaction: every file's good rows are merged by natural key
(new keys inserted, changed rows replaced, identical rows left alone), bad rows go to rejected_rows
with their reasons, each file gets an ingest_runs row, and only then is the batch committed. Any
error, or a killed process, leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import dictionary as dictionary_mod
from pipelines.dictionary import Kind
from pipelines.errors import UserError
from pipelines.ingest import headers as headers_mod
from pipelines.ingest import units as units_mod
from pipelines.ingest.normalise import build_select, error_columns, ident, q
from pipelines.ingest.reader import RawSheet, read_file
from pipelines.privacy import Pseudonymiser, check_fingerprint
from pipelines.warehouse import connect, sql_file, transaction

META = ("source_file", "source_sheet", "source_row", "run_id", "row_hash", "loaded_at")


@dataclass
class FileResult:
    path: str
    sheet: str | None
    kind: str
    rows_read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0  # blank and 合计 rows
    fuzzy: int = 0    # unit names resolved by fuzzy match
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def install_macros(con: duckdb.DuckDBPyConnection, pseudo: Pseudonymiser) -> None:
    con.execute(sql_file("ingest_macros.sql"))
    pseudo.install(con)


class Ingester:
    def __init__(self, con: duckdb.DuckDBPyConnection, pseudo: Pseudonymiser, *, maps: dict[str, str] | None = None,
                 fuzzy_threshold: float = units_mod.DEFAULT_THRESHOLD):
        self.con = con
        self.dictionary = dictionary_mod.load()
        self.maps = maps or {}
        self.threshold = fuzzy_threshold
        self.known_header = headers_mod.known_header_test(self.dictionary, self.maps)
        self.batch_id = uuid.uuid4().hex[:12]
        install_macros(con, pseudo)
        check_fingerprint(con, pseudo)

    # ------------------------------------------------------------------ one sheet
    def load_sheet(self, sheet: RawSheet, kind_name: str | None, sha: str) -> FileResult:
        t0 = time.perf_counter()
        rec = headers_mod.recognise(self.dictionary, sheet.headers, self.maps, sheet.label, kind_name)
        kind = rec.kind
        con = self.con
        if kind.unit_column is not None and con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 0:
            raise UserError(f"{sheet.label}: the unit master (单位名册) is empty; ingest it first, or together with this file")
        run_id = con.execute("SELECT nextval('ingest_run_seq')").fetchall()[0][0]
        res = FileResult(str(sheet.path), sheet.sheet, kind.name, rows_read=sheet.table.num_rows + len(sheet.ragged),
                         skipped=sheet.blank_rows)
        con.register("zt_raw", sheet.table)
        # 合计/总计/小计 rows are totals, not records: counted as skipped.
        first_cells = " || ".join(f"coalesce(zt_clean(c{i}), '')" for i in range(min(3, len(sheet.headers))))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE zt_src AS SELECT * FROM zt_raw
                        WHERE NOT regexp_matches({first_cells or "''"}, '^(合计|总计|小计)')""")
        con.unregister("zt_raw")
        res.skipped += sheet.table.num_rows - con.execute("SELECT count(*) FROM zt_src").fetchall()[0][0]

        con.execute(f"CREATE OR REPLACE TEMP TABLE zt_stg AS {build_select(kind, rec.mappings, sheet.headers, 'zt_src')}")
        unit_reason = self._resolve_units(kind, res)
        reasons, columns = self._reason_sql(kind, unit_reason)
        nk = list(kind.natural_key)
        nk_t = ", ".join(f"t_{k}" for k in nk)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_checked AS
            SELECT *, {reasons} AS reason0, {columns} AS column0 FROM zt_stg
        """)
        # A natural key twice in one file: the first occurrence loads, the repeats are rejected.
        nk_zh = "、".join(kind.column(k).zh for k in nk)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_final AS
            SELECT *,
                   CASE WHEN reason0 IS NULL AND dup_rank > 1
                        THEN '与第' || first_row || '行重复（{nk_zh}相同）' ELSE reason0 END AS reason,
                   CASE WHEN reason0 IS NULL AND dup_rank > 1 THEN {q(nk_zh)} ELSE column0 END AS column_name
            FROM (
                SELECT *, row_number() OVER w AS dup_rank, first_value(_row) OVER w AS first_row
                FROM zt_checked
                WINDOW w AS (PARTITION BY CASE WHEN reason0 IS NULL THEN 0 ELSE _row END, {nk_t} ORDER BY _row)
            )
        """)
        self._reject(kind, sheet, run_id)
        res.rejected = con.execute("SELECT count(*) FROM zt_final WHERE reason IS NOT NULL").fetchall()[0][0] + len(sheet.ragged)
        res.loaded, res.updated, res.unchanged = self._merge(kind, sheet, run_id)
        if kind.name == "units":
            units_mod.rebuild_aliases(con)
        res.seconds = time.perf_counter() - t0
        if rec.ignored:
            res.notes.append("未识别的列（未导入）：" + "、".join(rec.ignored[:8]))
        seen_before = con.execute("SELECT count(*) FROM ingest_runs WHERE sha256 = ?", [sha]).fetchall()[0][0]
        status = "unchanged" if seen_before and not (res.loaded or res.updated) else "loaded"
        con.execute(
            """INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() - to_microseconds(?::BIGINT), now(), ?, ?)""",
            [run_id, self.batch_id, str(sheet.path), sha, kind.name, sheet.sheet, res.rows_read, res.loaded, res.updated,
             res.unchanged, res.rejected, int(res.seconds * 1e6), status, "；".join(res.notes) or None],
        )
        for t in ("zt_src", "zt_stg", "zt_checked", "zt_final", "zt_good", "zt_fuzzy"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        return res

    def _resolve_units(self, kind: Kind, res: FileResult) -> str | None:
        """Add column `unit_resolved` to zt_stg; return the SQL of the rejection reason for unresolved names."""
        col = kind.unit_column
        if col is None:
            return None
        con = self.con
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_stg AS
            SELECT s.*, a.unit_name AS unit_resolved, zt_unit_norm(s.t_{col.name}) AS unit_norm
            FROM zt_stg s LEFT JOIN unit_aliases a ON a.alias_norm = zt_unit_norm(s.t_{col.name})
        """)
        missing = [r[0] for r in con.execute(
            "SELECT DISTINCT unit_norm FROM zt_stg WHERE unit_resolved IS NULL AND unit_norm IS NOT NULL ORDER BY 1"
        ).fetchall()]
        fuzzy = units_mod.fuzzy_resolve(con, missing, self.threshold)
        con.register("zt_fuzzy_arrow", fuzzy)
        con.execute("CREATE OR REPLACE TEMP TABLE zt_fuzzy AS SELECT * FROM zt_fuzzy_arrow")
        con.unregister("zt_fuzzy_arrow")
        res.fuzzy = con.execute(
            "SELECT count(*) FROM zt_stg s JOIN zt_fuzzy f ON f.raw_norm = s.unit_norm WHERE f.unit_name IS NOT NULL"
        ).fetchall()[0][0]
        con.execute("""
            CREATE OR REPLACE TEMP TABLE zt_stg AS
            SELECT s.* EXCLUDE (unit_resolved), coalesce(s.unit_resolved, f.unit_name) AS unit_resolved, f.candidates AS unit_candidates
            FROM zt_stg s LEFT JOIN zt_fuzzy f ON f.raw_norm = s.unit_norm
        """)
        return (f"CASE WHEN t_{col.name} IS NOT NULL AND unit_resolved IS NULL THEN "
                f"'{col.zh}“' || t_{col.name} || '”在单位名册中找不到；最接近：' || unit_candidates || "
                f"'。请核对名称，或在单位名册的简称中补充' END")

    def _reason_sql(self, kind: Kind, unit_reason: str | None) -> tuple[str, str]:
        errs = error_columns(kind)
        parts = [f"CASE WHEN {c} IS NOT NULL THEN {q(zh + '：')} || {c} END" for c, zh in errs]
        cols = [f"CASE WHEN {c} IS NOT NULL THEN {q(zh)} END" for c, zh in errs]
        if unit_reason:
            parts.append(unit_reason)
            cols.append(f"CASE WHEN ({unit_reason}) IS NOT NULL THEN {q(kind.unit_column.zh)} END")
        return f"nullif(concat_ws('；', {', '.join(parts)}), '')", f"nullif(concat_ws('、', {', '.join(cols)}), '')"

    def _reject(self, kind: Kind, sheet: RawSheet, run_id: int) -> None:
        # The file's rejections as of this run replace those of its earlier runs: a corrected ledger
        # clears what it fixed, the same ledger twice leaves one set (ingest_runs keeps the history).
        self.con.execute(
            "DELETE FROM rejected_rows WHERE source_file = ? AND kind = ? AND source_sheet IS NOT DISTINCT FROM ?",
            [str(sheet.path), kind.name, sheet.sheet],
        )
        self.con.execute(f"""
            INSERT INTO rejected_rows
            SELECT {run_id}, {q(kind.name)}, {q(str(sheet.path))}, {q(sheet.sheet) if sheet.sheet else 'NULL'},
                   _row, column_name, reason, raw_json
            FROM zt_final WHERE reason IS NOT NULL
        """)
        if sheet.ragged:
            ragged = pa.table({"row": pa.array([r for r, _ in sheet.ragged], pa.int32()),
                               "text": pa.array([t for _, t in sheet.ragged], pa.string())})
            self.con.register("zt_ragged", ragged)
            self.con.execute(f"""
                INSERT INTO rejected_rows
                SELECT {run_id}, {q(kind.name)}, {q(str(sheet.path))}, NULL, "row", '整行',
                       '单元格个数与表头（{len(sheet.headers)}列）不符，可能多了或少了分隔符', json_object('原文', zt_mask_numbers(text))
                FROM zt_ragged
            """)
            self.con.unregister("zt_ragged")

    def _merge(self, kind: Kind, sheet: RawSheet, run_id: int) -> tuple[int, int, int]:
        con = self.con
        table = kind.name
        select = []
        for c in kind.columns:
            expr = "unit_resolved" if c.type == "unit" else f"t_{c.name}"
            select.append(f"{expr} AS {ident(c.name)}")
        content = ", ".join(ident(c.name) for c in kind.columns)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_good AS
            SELECT *, {q(str(sheet.path))} AS source_file, {q(sheet.sheet) if sheet.sheet else 'NULL'}::VARCHAR AS source_sheet,
                   source_row, {run_id} AS run_id, md5(json_array({content})::VARCHAR) AS row_hash, now()::TIMESTAMP AS loaded_at
            FROM (SELECT {', '.join(select)}, _row AS source_row FROM zt_final WHERE reason IS NULL)
        """)
        on = " AND ".join(f"t.{ident(k)} = g.{ident(k)}" for k in kind.natural_key)
        new, changed, same = con.execute(f"""
            SELECT count(*) FILTER (WHERE t.row_hash IS NULL),
                   count(*) FILTER (WHERE t.row_hash <> g.row_hash),
                   count(*) FILTER (WHERE t.row_hash = g.row_hash)
            FROM zt_good g LEFT JOIN {table} t ON {on}
        """).fetchall()[0]
        if changed:
            con.execute(f"DELETE FROM {table} t USING zt_good g WHERE {on} AND t.row_hash <> g.row_hash")
        cols = ", ".join([ident(c.name) for c in kind.columns] + list(META))
        con.execute(f"""
            INSERT INTO {table} ({cols})
            SELECT {', '.join('g.' + c for c in cols.split(', '))} FROM zt_good g
            WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})
        """)
        return new, changed, same


def plan(paths: list[Path], kind_name: str | None, maps: dict[str, str]) -> list[tuple[Path, str]]:
    """Recognise every file from its header before anything is written, and order the files so the unit
    master loads first, whatever order they were given in. An unusable file stops the batch here."""
    d = dictionary_mod.load()
    known = headers_mod.known_header_test(d, maps)
    planned = []
    for path in paths:
        kinds = [headers_mod.recognise(d, s.headers, maps, s.label, kind_name).kind.name
                 for s in read_file(path, known, peek=True)]
        planned.append((path, kinds[0]))
    planned.sort(key=lambda p: 0 if p[1] == "units" else 1)
    return planned


def ingest(db: Path, paths: list[Path], *, key: Path, kind: str | None = None, maps: dict[str, str] | None = None,
           fuzzy_threshold: float = units_mod.DEFAULT_THRESHOLD, progress=None) -> list[FileResult]:
    """Ingest files into db as one atomic batch; returns per-file results."""
    maps = maps or {}
    if not paths:
        raise UserError("no files given: zhengtai ingest --db DB FILE...")
    pseudo = Pseudonymiser.from_file(key)
    planned = plan(paths, kind, maps)  # reads and recognises everything before the first write
    con = connect(db)
    results: list[FileResult] = []
    try:
        with transaction(con):
            ing = Ingester(con, pseudo, maps=maps, fuzzy_threshold=fuzzy_threshold)
            for path, _kind in planned:
                sha = sha256_file(path)
                for sheet in read_file(path, ing.known_header):  # one file in memory at a time
                    if progress:
                        progress(f"{sheet.label}", sheet.table.num_rows)
                    results.append(ing.load_sheet(sheet, kind, sha))
    finally:
        con.close()
    return results
