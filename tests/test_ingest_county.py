"""The synthetic county end to end through `zhengtai generate` and `zhengtai ingest`, checked against its ground truth."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("county")
    os.environ["ZHENGTAI_KEY_FILE"] = str(root / "pseudonym.key")
    ledgers, db = root / "ledgers", root / "county.duckdb"
    assert main(["generate", "--scale", "county", "--seed", "7", "--out", str(ledgers)]) == 0
    assert main(["init", "--db", str(db)]) == 0
    # files in reverse order: the unit master must still load first
    files = sorted((str(p) for p in ledgers.iterdir() if p.suffix in (".xlsx", ".csv")), reverse=True)
    assert main(["ingest", "--db", str(db), "--quiet", *files]) == 0
    truth = json.loads((ledgers / "truth.json").read_text(encoding="utf-8"))
    yield db, truth
    os.environ.pop("ZHENGTAI_KEY_FILE", None)


def _planted(truth):
    """The planted bad rows, split into those that cannot be records (rejected) and those kept with a note."""
    from pipelines.dictionary import load

    d = load()
    rejected, flagged = set(), set()
    for f in truth["files"]:
        for sh in f["sheets"]:
            for b in sh["bad"]:
                where = (f["file"], sh["sheet"] if f["format"] != "csv" else None, b["line"])
                col = d.kind(f["kind"]).column(b["column"])
                rejects = b["reason"] in ("unknown_unit", "date_order") or col.rejects
                (rejected if rejects else flagged).add(where)
    return rejected, flagged


def test_exactly_the_planted_bad_rows_are_rejected_or_flagged(county):
    db, truth = county
    con = duckdb.connect(str(db), read_only=True)
    got = {(Path(f).name, s, r) for f, s, r in con.execute("SELECT source_file, source_sheet, source_row FROM rejected_rows").fetchall()}
    noted = {(Path(f).name, s, r) for f, s, r in con.execute("SELECT source_file, source_sheet, source_row FROM data_quality_notes").fetchall()}
    rejected, flagged = _planted(truth)
    assert len(rejected) >= 10 and len(flagged) >= 5
    assert got == rejected
    assert noted == flagged  # an unknown value or a missing optional field keeps its record
    reasons = Counter(b["reason"] for f in truth["files"] for sh in f["sheets"] for b in sh["bad"])
    assert set(reasons) >= {"missing_required", "impossible_date", "unknown_unit", "invalid_enum", "date_order"}


def test_every_good_row_loads(county):
    db, truth = county
    rejected, _flagged = _planted(truth)
    con = duckdb.connect(str(db), read_only=True)
    for f in truth["files"]:
        table = f["kind"]
        n = con.execute(f"SELECT count(*) FROM {table} WHERE source_file LIKE ?", ["%" + f["file"]]).fetchall()[0][0]
        assert n == f["data_rows"] - sum(1 for r in rejected if r[0] == f["file"]), f["file"]


def test_every_row_read_is_accounted_for(county):
    """Per sheet: read = new + updated + unchanged + rejected + skipped, and skipped is exactly the sheet's
    blank rows and its 合计 row (what `zhengtai ingest` prints, with that sum under its table)."""
    db, truth = county
    con = duckdb.connect(str(db), read_only=True)
    runs = {(Path(p).name, s): (read, new + upd + same + rej) for p, s, read, new, upd, same, rej in con.execute(
        "SELECT path, sheet, rows_read, rows_loaded, rows_updated, rows_unchanged, rows_rejected FROM ingest_runs").fetchall()}
    checked = 0
    for f in truth["files"]:
        for sh in f["sheets"]:
            read, accounted = runs[(f["file"], sh["sheet"] if f["format"] != "csv" else None)]
            skipped = len(sh.get("blank_lines") or []) + (1 if sh.get("total_line") else 0)
            assert read == sh["data_rows"] + skipped, (f["file"], sh["sheet"])
            assert read - accounted == skipped, (f["file"], sh["sheet"])
            checked += 1
    assert checked >= 10


def test_the_summary_adds_up_and_says_what_skipped_means(tmp_path, zt, key_file):
    from tests.ledger_files import PETITION_HEADER, petition, roster, write_csv

    db = tmp_path / "w.duckdb"
    assert zt("init", "--db", db).code == 0
    rows = [petition("XF-1"), [""] * len(PETITION_HEADER), petition("XF-2", "2024-13-05"),
            ["合计", "2件"] + [""] * (len(PETITION_HEADER) - 2)]
    res = zt("ingest", "--db", db, roster(tmp_path), write_csv(tmp_path / "信访.csv", PETITION_HEADER, rows))
    assert res.code == 0, res.err
    line = next(ln for ln in res.out.splitlines() if "信访.csv" in ln)
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    assert cells[1:8] == ["信访举报", "4", "1", "0", "0", "1", "2"]  # read 4 = new 1 + rejected 1 + skipped 2
    assert "读取 = 新增 + 更新 + 未变 + 拒收 + 跳过" in res.out and "空行和合计、小计行" in res.out
    assert "1行被拒收" in res.out + res.err


def test_unit_name_variants_resolve(county):
    db, truth = county
    con = duckdb.connect(str(db), read_only=True)
    names = {r[0] for r in con.execute("SELECT unit_name FROM units").fetchall()}
    assert set(truth["unit_name_variants"].values()) <= names
    # no ledger row points at a unit outside the master
    for table in ("petitions", "cases", "inquiries", "inspection_findings", "audit_findings", "major_decisions", "responsibility_checks"):
        orphans = con.execute(f"SELECT count(*) FROM {table} WHERE unit_name NOT IN (SELECT unit_name FROM units)").fetchall()[0][0]
        assert orphans == 0, table


def test_no_generated_identifier_reaches_the_warehouse(county):
    db, truth = county
    people = truth["people"]
    assert len(people) > 100
    needles = sorted({p["name"] for p in people} | {p["id_number"] for p in people if p.get("id_number")}
                     | {p["phone"] for p in people if p.get("phone")})
    con = duckdb.connect(str(db), read_only=True)
    con.execute("CREATE TEMP TABLE needles AS SELECT unnest(?::VARCHAR[]) AS n", [needles])
    cols = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = 'main' AND table_catalog <> 'temp'
                            AND data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]')""").fetchall()
    assert len(cols) > 60
    leaks = []
    for table, column in cols:
        hits = con.execute(f"""SELECT nd.n, count(*) FROM "{table}" t JOIN needles nd ON contains(CAST(t."{column}" AS VARCHAR), nd.n)
                               GROUP BY nd.n LIMIT 5""").fetchall()
        leaks += [(table, column, n, c) for n, c in hits]
    assert leaks == []
    # and the names are really in the ledgers, so the scan is not vacuous
    assert con.execute("SELECT count(DISTINCT reported_pid) FROM petitions").fetchall()[0][0] > 50


def test_no_number_pattern_anywhere_in_the_warehouse(county):
    """Every VARCHAR column of the county, rejected rows and notes included, holds no mobile, landline, ID or card number."""
    import re

    db, _truth = county
    pattern = re.compile(r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}|\d{17}[\dXx]|\d{6}[ -]\d{8}[ -]\d{3}[\dXx]|0\d{2,3}-\d{7,8}|\d{16,19}")
    con = duckdb.connect(str(db), read_only=True)
    cols = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = 'main' AND data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]')
                            AND column_name NOT IN ('row_hash', 'sha256', 'batch_id')""").fetchall()
    leaks, scanned = [], 0
    for table, column in cols:
        for (value,) in con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
            scanned += 1
            if pattern.search(re.sub(r"[PIT][0-9a-f]{16}", "", value)):
                leaks.append((table, column, value[:60]))
    assert scanned > 1000 and leaks == []
