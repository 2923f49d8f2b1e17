"""`zhengtai ingest`: ledgers → validated, pseudonymised warehouse rows, all or nothing.

One invocation is one batch and one transaction: every file's good rows are merged by natural key
(new keys inserted, changed rows replaced, identical rows left alone), bad rows go to rejected_rows
with their reasons, each file gets an ingest_runs row, and only then is the batch committed. Any
error, or a killed process, leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import dictionary as dictionary_mod
from pipelines.dictionary import Kind
from pipelines.errors import UserError
from pipelines.ingest import headers as headers_mod
from pipelines.ingest import units as units_mod
from pipelines.ingest.masking import TextMasker
from pipelines.ingest.normalise import build_select, error_columns, ident, q, raw_json
from pipelines.ingest.reader import RawSheet, clean_column, read_file
from pipelines.privacy import Pseudonymiser, check_fingerprint
from pipelines.warehouse import apply_schema, connect, sql_file, transaction

META = ("source_file", "source_sheet", "source_row", "run_id", "row_hash", "date_precision", "loaded_at")


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
    flagged: int = 0  # records kept with a field stored as unknown (data_quality_notes)
    skipped: int = 0  # blank and 合计/小计 rows: read, not records
    # rows_read == loaded + updated + unchanged + rejected + skipped
    fuzzy: int = 0    # unit names resolved by fuzzy match
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


DEFAULT_DATE_FLOOR = "1950-01-01"


def install_macros(con: duckdb.DuckDBPyConnection, pseudo: Pseudonymiser, date_floor: str = DEFAULT_DATE_FLOOR) -> None:
    con.execute(sql_file("ingest_macros.sql"))
    con.execute(f"CREATE OR REPLACE TEMP MACRO zt_date_floor() AS DATE '{date_floor}'")
    pseudo.install(con)


class Ingester:
    def __init__(self, con: duckdb.DuckDBPyConnection, pseudo: Pseudonymiser, *, maps: dict[str, str] | None = None,
                 sets: dict[str, str] | None = None, fuzzy_threshold: float = units_mod.DEFAULT_THRESHOLD,
                 date_floor: str = DEFAULT_DATE_FLOOR):
        self.con = con
        self.dictionary = dictionary_mod.load()
        self.maps = maps or {}
        self.sets = sets or {}
        self.threshold = fuzzy_threshold
        self.known_header = headers_mod.known_header_test(self.dictionary, self.maps)
        self.batch_id = uuid.uuid4().hex[:12]
        install_macros(con, pseudo, date_floor)
        check_fingerprint(con, pseudo)
        self.masker = TextMasker(pseudo, self._known_people())
        self._masked: list[tuple[Kind, int, int]] = []  # (kind, run_id, names known when its text was masked)
        self._matcher: units_mod.Matcher | None = None  # fuzzy resolutions of the batch, until the roster changes
        # Row order in a ledger table means nothing (source_row keeps the file's order): let inserts run in parallel.
        con.execute("SET preserve_insertion_order = false")

    def finish(self) -> None:
        """Names that a later sheet of the batch made known are masked in the earlier sheets' text too, so a
        batch's result does not depend on the order of its files."""
        added = self.masker.added
        for kind, run_id, seen in self._masked:
            late = set(added[seen:])
            if not late:
                continue
            targets = [(kind.name, c.name) for c in kind.columns if c.type in ("text", "freetext") and c.mask == "names"]
            targets += [("rejected_rows", "raw"), ("data_quality_notes", "note")]
            changed = False
            for table, column in targets:
                values = [r[0] for r in self.con.execute(
                    f"SELECT DISTINCT CAST({ident(column)} AS VARCHAR) FROM {table} WHERE run_id = ? AND {ident(column)} IS NOT NULL",
                    [run_id]).fetchall()]
                pairs = [(v, m) for v in values if (m := self.masker.mask_known(v, late)) != v]
                if not pairs:
                    continue
                changed |= table == kind.name
                self.con.register("zt_remask_arrow", pa.table({"old": [p[0] for p in pairs], "new": [p[1] for p in pairs]}))
                cast = "::JSON" if column == "raw" else ""
                self.con.execute(f"""UPDATE {table} t SET {ident(column)} = m.new{cast} FROM zt_remask_arrow m
                                     WHERE t.run_id = ? AND CAST(t.{ident(column)} AS VARCHAR) = m.old""", [run_id])
                self.con.unregister("zt_remask_arrow")
            if changed:
                self.con.execute(f"""UPDATE {kind.name} SET row_hash = md5(concat_ws(chr(31), {_hash_parts(kind)},
                                     coalesce(date_precision, ''))) WHERE run_id = ?""", [run_id])

    def _duplicate_columns(self, sheet: RawSheet, rec, res: FileResult) -> None:
        """Two headers for one column (受理日期 and 收件日期): fine when they agree, where one is empty the other
        fills it; if they disagree in any row, which is right is for the analyst to say, so the file stops."""
        for first, other, header in rec.duplicates:
            a, b = sheet.table.column(f"c{first.index}"), sheet.table.column(f"c{other}")
            a_norm, b_norm = (clean_column(x) if first.column.type in ("text", "freetext") else x for x in (a, b))
            differ = pc.fill_null(pc.not_equal(a_norm, b_norm), False)
            n = pc.sum(differ).as_py() or 0
            if n:
                row = sheet.table.column("_row").filter(differ)[0].as_py()
                raise UserError(f"{sheet.label}: columns “{first.header}” and “{header}” both hold {first.column.zh} and differ "
                                f"in {n} rows (first at row {row}); delete the wrong one, or say which with --map")
            filled = pc.coalesce(a, b)
            sheet.table = sheet.table.set_column(first.index, f"c{first.index}", filled)
            res.notes.append(f"列“{header}”与“{first.header}”重复且内容一致，已合并")

    def _known_people(self) -> set[str]:
        """Pseudonyms of every person in the warehouse's person columns: names the text masker looks for."""
        parts = [f"SELECT {ident(c.name)} AS pid FROM {k.name}" for k in self.dictionary.kinds.values()
                 for c in k.columns if c.type == "person"]
        if not parts:
            return set()
        return {r[0] for r in self.con.execute(f"SELECT DISTINCT pid FROM ({' UNION ALL '.join(parts)}) WHERE pid IS NOT NULL").fetchall()}

    def _prepare(self, sheet: RawSheet, kind: Kind, mappings) -> None:
        """Clean the cells a column's meaning says to compare (dates, codes, enums, names) and mask every
        text cell, so that no later step — typing, rejections, notes — ever sees a name or number in clear.
        Free text is otherwise kept as written."""
        by_index = {m.index: m for m in mappings}
        table = sheet.table
        cols = []
        people = [m for m in mappings if m.column.type == "person"]
        for m in people:  # this sheet's names join the known ones before its text is masked
            col = clean_column(table.column(f"c{m.index}"))
            self.masker.add_names(pc.unique(col).drop_null().to_pylist())
        for i in range(len(sheet.headers)):
            col = table.column(f"c{i}")
            m = by_index.get(i)
            t = m.column.type if m else None
            if t is None or t == "freetext" or (t == "text" and m.column.name not in kind.natural_key):
                col = self.masker.mask_column(col, names=(m is None or m.column.mask == "names"))
            elif t == "text":  # a text key (巡察轮次, 审计项目, 事项名称) is compared: cleaned, then masked
                col = self.masker.mask_column(clean_column(col), names=m.column.mask == "names")
            elif t == "enum":
                col = self.masker.mask_column(clean_column(col))
            else:
                col = clean_column(col)
            cols.append(col)
        cols.append(table.column("_row"))
        sheet.table = pa.Table.from_arrays(cols, names=table.column_names)

    # ------------------------------------------------------------------ one sheet
    def load_sheet(self, sheet: RawSheet, kind_name: str | None, sha: str, read_seconds: float = 0.0) -> FileResult:
        """Type, validate and merge one sheet. Wide tables are materialised once (zt_stg); the rest is narrow."""
        t0 = time.perf_counter() - read_seconds  # a file's time includes reading it
        self._sha = sha
        rec = headers_mod.recognise(self.dictionary, sheet.headers, self.maps, sheet.label, kind_name, self.sets)
        kind = rec.kind
        if rec.constants:  # --set: the constant becomes a column of the sheet, typed and validated like any other
            t, n = sheet.table, sheet.table.num_rows
            arrays = [t.column(f"c{i}") for i in range(len(sheet.headers))]
            arrays += [pa.chunked_array([pa.array([v] * n, pa.string())]) for v in rec.constants.values()]
            sheet.headers = sheet.headers + [kind.column(c).zh for c in rec.constants]
            sheet.table = pa.Table.from_arrays(arrays + [t.column("_row")],
                                               names=[f"c{i}" for i in range(len(sheet.headers))] + ["_row"])
        con = self.con
        if kind.unit_column is not None and con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 0:
            raise UserError(f"{sheet.label}: the unit master (单位名册) is empty; ingest it first, or together with this file")
        run_id = con.execute("SELECT nextval('ingest_run_seq')").fetchall()[0][0]
        # Every row under the header is read, and ends up as exactly one of: new, updated, unchanged, rejected,
        # or skipped (blank rows and 合计/小计 rows, which are not records).
        res = FileResult(str(sheet.path), sheet.sheet, kind.name,
                         rows_read=sheet.table.num_rows + len(sheet.ragged) + sheet.blank_rows, skipped=sheet.blank_rows)
        res.notes.extend(sheet.notes)
        self._prepare(sheet, kind, rec.mappings)
        self._duplicate_columns(sheet, rec, res)
        self._masked.append((kind, run_id, len(self.masker.added)))
        con.register("zt_raw", sheet.table)
        # 合计/总计/小计 rows are totals, not records: counted as skipped.
        first_cells = " || ".join(f"coalesce(c{i}, '')" for i in range(min(3, len(sheet.headers))))
        con.execute(f"""CREATE OR REPLACE TEMP VIEW zt_src AS SELECT * FROM zt_raw
                        WHERE NOT regexp_matches({first_cells or "''"}, '^(合计|总计|小计)')""")

        unit = next((m for m in rec.mappings if m.column.type == "unit"), None)
        unit_join, unit_reason = self._unit_resolution(kind, unit, res)
        typed = build_select(kind, rec.mappings, sheet.headers, "zt_src")
        reasons, columns = self._reason_sql(kind, unit_reason, rejects=True)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_stg AS
            SELECT *, {reasons} AS reason0, {columns} AS column0
            FROM (SELECT s.*, {unit_join[0]} FROM ({typed}) s {unit_join[1]})
        """)
        # A natural key twice in one file: the first occurrence loads, the repeats are rejected.
        nk = list(kind.natural_key)
        nk_t = ", ".join(f"t_{k}" for k in nk)
        nk_zh = "、".join(kind.column(k).zh for k in nk)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_dups AS
            SELECT s._row, d.first_row FROM zt_stg s
            JOIN (SELECT {nk_t}, min(_row) AS first_row FROM zt_stg WHERE reason0 IS NULL
                  GROUP BY ALL HAVING count(*) > 1) d USING ({nk_t})
            WHERE s.reason0 IS NULL AND s._row > d.first_row
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_bad AS
            SELECT _row, column0 AS column_name, reason0 AS reason FROM zt_stg WHERE reason0 IS NOT NULL
            UNION ALL
            SELECT _row, {q(nk_zh)}, '与第' || first_row || '行重复（{nk_zh}相同）' FROM zt_dups
        """)
        self._reject(kind, sheet, run_id, rec.mappings)
        res.rejected = con.execute("SELECT count(*) FROM zt_bad").fetchall()[0][0] + len(sheet.ragged)
        res.flagged = self._flag(kind, sheet, run_id)
        res.skipped += sheet.table.num_rows - con.execute("SELECT count(*) FROM zt_stg").fetchall()[0][0]
        res.loaded, res.updated, res.unchanged = self._merge(kind, sheet, run_id)
        con.execute("DROP VIEW zt_src")
        con.unregister("zt_raw")
        if kind.name == "units":
            units_mod.rebuild_aliases(con)
            self._matcher = None
        res.seconds = time.perf_counter() - t0
        if rec.ignored:
            res.notes.append("未识别的列（未导入）：" + "、".join(rec.ignored[:8]))
        if res.flagged:
            res.notes.append(f"{res.flagged}行有字段无法识别，已按未知保存并记入数据质量说明")
        if res.fuzzy:
            res.notes.append(f"{res.fuzzy}行的单位名称经模糊匹配确定")
        seen_before = con.execute("SELECT count(*) FROM ingest_runs WHERE sha256 = ?", [sha]).fetchall()[0][0]
        status = "unchanged" if seen_before and not (res.loaded or res.updated) else "loaded"
        con.execute(
            """INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() - to_microseconds(?::BIGINT), now(), ?, ?, ?)""",
            [run_id, self.batch_id, str(sheet.path), sha, kind.name, sheet.sheet, res.rows_read, res.loaded, res.updated,
             res.unchanged, res.rejected, int(res.seconds * 1e6), status, "；".join(res.notes) or None,
             json.dumps(rec.constants, ensure_ascii=False) if rec.constants else None],
        )
        for t in ("zt_stg", "zt_dups", "zt_bad", "zt_good", "zt_fuzzy"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        return res

    def _unit_resolution(self, kind: Kind, unit, res: FileResult) -> tuple[tuple[str, str], str | None]:
        """(select list and join clause adding `unit_resolved`, SQL of the rejection reason when unresolved).

        Exact alias look-up in SQL; the distinct names it misses (few) go through the fuzzy matcher first.
        """
        if kind.unit_column is None:
            return ("NULL::VARCHAR AS unit_resolved", ""), None
        col = kind.unit_column
        con = self.con
        src = f"zt_unit_norm(c{unit.index})" if unit else "NULL::VARCHAR"
        missing = [r[0] for r in con.execute(f"""
            SELECT DISTINCT {src} AS n FROM zt_src
            WHERE n IS NOT NULL AND n NOT IN (SELECT alias_norm FROM unit_aliases) ORDER BY 1
        """).fetchall()]
        if self._matcher is None and missing:
            self._matcher = units_mod.Matcher(con, self.threshold)
        fuzzy = units_mod.fuzzy_resolve(con, missing, self.threshold, self._matcher)
        con.register("zt_fuzzy_arrow", fuzzy)
        con.execute("CREATE OR REPLACE TEMP TABLE zt_fuzzy AS SELECT * FROM zt_fuzzy_arrow")
        con.unregister("zt_fuzzy_arrow")
        if unit is not None and fuzzy.num_rows:
            res.fuzzy = con.execute(f"""SELECT count(*) FROM zt_src s JOIN zt_fuzzy f ON f.raw_norm = zt_unit_norm(s.c{unit.index})
                                        WHERE f.unit_name IS NOT NULL""").fetchall()[0][0]
        select = "coalesce(a.unit_name, f.unit_name) AS unit_resolved, f.candidates AS unit_candidates"
        join = (f"LEFT JOIN unit_aliases a ON a.alias_norm = zt_unit_norm(s.t_{col.name}) "
                f"LEFT JOIN zt_fuzzy f ON f.raw_norm = zt_unit_norm(s.t_{col.name})")
        reason = (f"CASE WHEN t_{col.name} IS NOT NULL AND unit_resolved IS NULL THEN "
                  f"'{col.zh}“' || t_{col.name} || '”在单位名册中找不到；最接近：' || coalesce(unit_candidates, '无') || "
                  f"'。请核对名称，或在单位名册的简称中补充' END")
        return (select, join), reason

    def _reason_sql(self, kind: Kind, unit_reason: str | None, rejects: bool) -> tuple[str, str]:
        errs = [(c, zh) for c, zh, r in error_columns(kind) if r == rejects]
        parts = [f"CASE WHEN {c} IS NOT NULL THEN {q(zh + '：')} || {c} END" for c, zh in errs] or ["NULL"]
        cols = [f"CASE WHEN {c} IS NOT NULL THEN {q(zh)} END" for c, zh in errs] or ["NULL"]
        if unit_reason and rejects:
            parts.append(unit_reason)
            cols.append(f"CASE WHEN ({unit_reason}) IS NOT NULL THEN {q(kind.unit_column.zh)} END")
        return f"nullif(concat_ws('；', {', '.join(parts)}), '')", f"nullif(concat_ws('、', {', '.join(cols)}), '')"

    def _reject(self, kind: Kind, sheet: RawSheet, run_id: int, mappings) -> None:
        # The file's rejections as of this run replace those of its earlier runs: a corrected ledger
        # clears what it fixed, the same ledger twice leaves one set (ingest_runs keeps the history).
        # Keyed by path and by content: the same ledger copied to another folder replaces its rejections.
        self.con.execute(
            "DELETE FROM rejected_rows WHERE (source_file = ? OR file_sha256 = ?) AND kind = ? AND source_sheet IS NOT DISTINCT FROM ?",
            [str(sheet.path), self._sha, kind.name, sheet.sheet],
        )
        # The raw row is rebuilt (pseudonymised) only for the rows rejected.
        self.con.execute(f"""
            INSERT INTO rejected_rows
            SELECT {run_id}, {q(kind.name)}, {q(str(sheet.path))}, {q(sheet.sheet) if sheet.sheet else 'NULL'},
                   b._row, b.column_name, b.reason, {raw_json(mappings, sheet.headers)}, {q(self._sha)}
            FROM zt_bad b JOIN zt_src USING (_row)
        """)
        if sheet.ragged:
            ragged = pa.table({"row": pa.array([r for r, _ in sheet.ragged], pa.int32()),
                               "text": pa.array([self.masker.mask(t) for _, t in sheet.ragged], pa.string())})
            self.con.register("zt_ragged", ragged)
            self.con.execute(f"""
                INSERT INTO rejected_rows
                SELECT {run_id}, {q(kind.name)}, {q(str(sheet.path))}, NULL, "row", '整行',
                       '单元格个数与表头（{len(sheet.headers)}列）不符，可能多了或少了分隔符', json_object('原文', text), {q(self._sha)}
                FROM zt_ragged
            """)
            self.con.unregister("zt_ragged")

    def _flag(self, kind: Kind, sheet: RawSheet, run_id: int) -> int:
        """Notes for the records kept with a field stored as unknown: one row per record and field."""
        con = self.con
        con.execute("DELETE FROM data_quality_notes WHERE (source_file = ? OR file_sha256 = ?) AND kind = ? "
                    "AND source_sheet IS NOT DISTINCT FROM ?", [str(sheet.path), self._sha, kind.name, sheet.sheet])
        flags = [(c, zh) for c, zh, rejects in error_columns(kind) if not rejects]
        if not flags:
            return 0
        key = " || ' / ' || ".join(f"coalesce(CAST(t_{k} AS VARCHAR), '')" for k in kind.natural_key)
        unit = "unit_resolved" if kind.unit_column is not None else ("t_unit_name" if kind.name == "units" else "NULL")
        rows = " UNION ALL ".join(
            f"SELECT _row, {key} AS record_key, {unit} AS unit_name, {q(zh)} AS column_name, {c} AS note FROM zt_stg "
            f"WHERE reason0 IS NULL AND {c} IS NOT NULL AND _row NOT IN (SELECT _row FROM zt_dups)"
            for c, zh in flags)
        con.execute(f"""
            INSERT INTO data_quality_notes
            SELECT {run_id}, {q(kind.name)}, {q(str(sheet.path))}, {q(sheet.sheet) if sheet.sheet else 'NULL'},
                   _row, record_key, unit_name, column_name, note, {q(self._sha)}
            FROM ({rows})
        """)
        return con.execute("SELECT count(DISTINCT source_row) FROM data_quality_notes WHERE run_id = ?", [run_id]).fetchall()[0][0]

    def _merge(self, kind: Kind, sheet: RawSheet, run_id: int) -> tuple[int, int, int]:
        con = self.con
        table = kind.name
        select = []
        for c in kind.columns:
            expr = "unit_resolved" if c.type == "unit" else f"t_{c.name}"
            select.append(f"{expr} AS {ident(c.name)}")
        # NULL and '' must hash differently, and values must not slide between columns: mark NULLs explicitly.
        hash_parts = _hash_parts(kind)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE zt_good AS
            SELECT *, {q(str(sheet.path))} AS source_file, {q(sheet.sheet) if sheet.sheet else 'NULL'}::VARCHAR AS source_sheet,
                   source_row, {run_id} AS run_id, md5(concat_ws(chr(31), {hash_parts}, coalesce(date_precision, ''))) AS row_hash,
                   date_precision, now()::TIMESTAMP AS loaded_at
            FROM (SELECT {', '.join(select)}, _row AS source_row, date_precision FROM zt_stg
                  WHERE reason0 IS NULL AND _row NOT IN (SELECT _row FROM zt_dups))
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


def _hash_parts(kind: Kind) -> str:
    """The columns a record's content hash covers; NULL and '' must hash differently, and values must not slide
    between columns: NULLs are marked explicitly."""
    return ", ".join(f"coalesce(CAST({ident(c.name)} AS VARCHAR), chr(0))" for c in kind.columns)


def plan(paths: list[Path], kind_name: str | None, maps: dict[str, str], sets: dict[str, str] | None = None) -> list[tuple[Path, str]]:
    """Recognise every file from its header before anything is written, and order the files so the unit
    master loads first, whatever order they were given in. An unusable file stops the batch here."""
    d = dictionary_mod.load()
    known = headers_mod.known_header_test(d, maps)
    planned = []
    for path in paths:
        kinds = [headers_mod.recognise(d, s.headers, maps, s.label, kind_name, sets).kind.name
                 for s in read_file(path, known, peek=True)]
        planned.append((path, kinds[0]))
    planned.sort(key=lambda p: 0 if p[1] == "units" else 1)
    return planned


def ingest(db: Path, paths: list[Path], *, key: Path, kind: str | None = None, maps: dict[str, str] | None = None,
           sets: dict[str, str] | None = None, fuzzy_threshold: float = units_mod.DEFAULT_THRESHOLD,
           date_floor: str = DEFAULT_DATE_FLOOR, progress=None) -> list[FileResult]:
    """Ingest files into db as one atomic batch; returns per-file results.

    `progress`, when given, hears of each sheet before (sheet(label, rows)) and after it loads (loaded(result)), of
    each file done (file_done(path)) and of the commit (committing())."""
    maps = maps or {}
    if not paths:
        raise UserError("no files given: zhengtai ingest --db DB FILE...")
    pseudo = Pseudonymiser.from_file(key)
    planned = plan(paths, kind, maps, sets)  # reads and recognises everything before the first write
    con = connect(db)
    results: list[FileResult] = []
    try:
        with transaction(con):
            apply_schema(con, ("schema.sql",))  # a warehouse made by an earlier version gains the newer tables
            ing = Ingester(con, pseudo, maps=maps, sets=sets, fuzzy_threshold=fuzzy_threshold, date_floor=date_floor)
            for path, _kind in planned:
                sha = sha256_file(path)
                sheets = read_file(path, ing.known_header)  # one file in memory at a time
                while True:
                    t0 = time.perf_counter()
                    sheet = next(sheets, None)
                    if sheet is None:
                        break
                    if progress:
                        progress.sheet(sheet.label, sheet.table.num_rows)
                    results.append(ing.load_sheet(sheet, kind, sha, time.perf_counter() - t0))
                    if progress:
                        progress.loaded(results[-1])
                if progress:
                    progress.file_done(path)
            ing.finish()
            if progress:
                progress.committing()
    finally:
        con.close()
    return results
