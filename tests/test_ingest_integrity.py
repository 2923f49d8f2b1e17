"""Idempotency, corrected ledgers, atomicity under kill -9, pseudonymisation and unit resolution."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest import units as units_mod
from pipelines.privacy import Pseudonymiser
from tests.ledger_files import PETITION_HEADER, petition, q, roster, write_csv


def snapshot(db) -> dict[str, list]:
    """Every ledger and bookkeeping table's full content, for before/after comparisons."""
    tables = ["units", "petitions", "inspection_findings", "audit_findings", "cases", "inquiries",
              "major_decisions", "responsibility_checks", "ingest_runs", "rejected_rows", "unit_aliases"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        # a rejection is attributed to the latest run that saw it: compare it without its run_id
        cols = {t: "* EXCLUDE (run_id)" if t == "rejected_rows" else "*" for t in tables}
        return {t: sorted(map(repr, con.execute(f"SELECT {cols[t]} FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()


def test_same_file_twice_changes_nothing(db, tmp_path, zt):
    rows = [petition("XF-1", "2024-03-05"), petition("XF-2", "2024-03-06", 办结日期="2024-01-01")]
    files = [roster(tmp_path), write_csv(tmp_path / "p.csv", PETITION_HEADER, rows)]
    assert zt("ingest", "--db", db, *files).code == 0
    before = snapshot(db)
    assert zt("ingest", "--db", db, *files).code == 0
    after = snapshot(db)
    for table in before:
        if table != "ingest_runs":
            assert after[table] == before[table], table
    runs = q(db, "SELECT kind, rows_loaded, rows_updated, rows_unchanged, rows_rejected, status FROM ingest_runs ORDER BY run_id")
    assert runs[2:] == [("units", 0, 0, 4, 0, "unchanged"), ("petitions", 0, 0, 1, 1, "unchanged")]


def test_corrected_ledger_updates_by_natural_key(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    v1 = [petition("XF-1", "2024-03-05"), petition("XF-2", "2024-03-06", 办结日期="2024-01-01")]
    zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, v1))
    assert q(db, "SELECT count(*) FROM rejected_rows") == [(1,)]
    # The analyst fixes the bad date, closes XF-1 and adds XF-3 in the same ledger file.
    v2 = [petition("XF-1", "2024-03-05", 办理结果="不属实", 办结日期="2024-04-01"),
          petition("XF-2", "2024-03-06", 办结日期="2024-05-01"), petition("XF-3", "2024-03-07")]
    zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, v2))
    assert q(db, "SELECT petition_no, outcome, closed_date::VARCHAR FROM petitions ORDER BY 1") == [
        ("XF-1", "不属实", "2024-04-01"), ("XF-2", None, "2024-05-01"), ("XF-3", None, None)]
    assert q(db, "SELECT rows_loaded, rows_updated, rows_unchanged, rows_rejected FROM ingest_runs ORDER BY run_id DESC LIMIT 1") == [(2, 1, 0, 0)]
    assert q(db, "SELECT count(*) FROM rejected_rows") == [(0,)]  # the fixed row's old rejection is gone


def test_no_natural_key_is_ever_duplicated(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    for i in range(3):
        rows = [petition(f"XF-{j}", f"2024-03-0{1 + (i + j) % 9}") for j in range(5)]
        zt("ingest", "--db", db, write_csv(tmp_path / f"p{i}.csv", PETITION_HEADER, rows))
    assert q(db, "SELECT count(*), count(DISTINCT petition_no) FROM petitions") == [(5, 5)]


def _big_petition_csv(path: Path, n: int) -> Path:
    """n valid petitions, written fast (the point is a run long enough to kill)."""
    units = ["县教育局", "县卫健局", "城关镇", "县市场监督管理局"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(PETITION_HEADER) + "\n")
        line = "XF-{i},2024-03-05,来信,匿名,,,{u},,,否,工作纪律,反映工作作风问题第{i}件,,,\n"
        fh.writelines(line.format(i=i, u=units[i % 4]) for i in range(n))
    return path


@pytest.mark.slow
def test_kill_9_mid_ingest_leaves_the_database_as_it_was(db, tmp_path, zt, key_file):
    zt("ingest", "--db", db, roster(tmp_path))
    zt("ingest", "--db", db, write_csv(tmp_path / "small.csv", PETITION_HEADER, [petition("KEEP-1")]))
    before = snapshot(db)
    first = write_csv(tmp_path / "first.csv", PETITION_HEADER, [petition(f"NEW-{i}") for i in range(50)])
    big = _big_petition_csv(tmp_path / "big.csv", 600_000)
    env = {**os.environ, "ZHENGTAI_KEY_FILE": str(key_file)}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", "--db", str(db), str(first), str(big)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # first.csv is merged inside the batch's transaction before big.csv starts loading: kill during big.csv.
    for line in proc.stderr:
        if "big.csv" in line:
            break
    time.sleep(0.5)
    assert proc.poll() is None, "the ingest finished before it could be killed; make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert snapshot(db) == before  # first.csv's merged rows are gone with the uncommitted transaction
    # and the database still works: the same batch loads cleanly afterwards
    res = zt("ingest", "--db", db, first, big, "--quiet")
    assert res.code == 0, res.err
    assert q(db, "SELECT count(*) FROM petitions") == [(600_000 + 50 + 1,)]


def test_interrupted_batch_rolls_back(db, tmp_path, zt, monkeypatch):
    """An error in the second file of a batch undoes the first file too."""
    from pipelines.ingest import load

    calls = {"n": 0}
    original = load.Ingester._merge

    def failing_merge(self, kind, sheet, run_id):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(self, kind, sheet, run_id)

    monkeypatch.setattr(load.Ingester, "_merge", failing_merge)
    with pytest.raises(RuntimeError):
        load.ingest(db, [roster(tmp_path), write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("A")])],
                    key=Path(os.environ["ZHENGTAI_KEY_FILE"]))
    assert q(db, "SELECT count(*) FROM units") == [(0,)]


# ---------------------------------------------------------------------------------- pseudonymisation

NAMES = ["张伟", "李娜", "王强", "陈静", "刘洋", "赵敏"]
ID_NO = "41010219800101123X"
PHONES = ["13900001111", "13812345678", "0391-1234567"]


def test_no_clear_pii_reaches_any_text_column(db, tmp_path, zt):
    header = ["案件编号", "所在单位", "姓名", "身份证号", "职务", "违纪类型", "四种形态", "处理日期", "备注"]
    cases = [["AJ-1", "县教育局", "张伟", ID_NO, "局长", "廉洁纪律", "第三种形态", "2024-05-01", "张伟本人电话13812345678"],
             ["AJ-2", "县教育局", "刘洋", "bad-id", "科员", "廉洁纪律", "第一种形态", "2024-05-01", "刘洋"]]
    petitions = [
        petition("XF-1", 是否署名="署名", 举报人="刘洋", 联系电话="13900001111", 被反映人="张伟",
                 反映内容=f"反映张伟收受电子红包，举报人刘洋，电话13812345678，身份证{ID_NO}，座机0391-1234567"),
        petition("XF-2", "2023年2月30日", 举报人="赵敏", 被反映人="李娜", 反映内容="李娜与赵敏有矛盾"),
    ]
    files = [roster(tmp_path), write_csv(tmp_path / "cases.csv", header, cases),
             write_csv(tmp_path / "p.csv", PETITION_HEADER, petitions)]
    assert zt("ingest", "--db", db, *files).code == 0
    # a bad date rejects its row, a bad ID number is a note: the raw row and the note are scanned too
    assert q(db, "SELECT (SELECT count(*) FROM rejected_rows), (SELECT count(*) FROM data_quality_notes)") == [(1, 1)]
    con = duckdb.connect(str(db), read_only=True)
    cols = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]') AND table_schema = 'main'""").fetchall()
    assert len(cols) > 50
    leaks = []
    for table, column in cols:
        for needle in NAMES + [ID_NO] + PHONES + ["13812345678"]:
            n = con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?', [f"%{needle}%"]).fetchall()[0][0]
            if n:
                leaks.append((table, column, needle, n))
    con.close()
    assert leaks == []


def test_same_person_same_pseudonym_across_ledgers(db, tmp_path, zt, key_file):
    header = ["案件编号", "所在单位", "姓名", "违纪类型", "四种形态", "处理日期"]
    files = [roster(tmp_path),
             write_csv(tmp_path / "cases.csv", header, [["AJ-1", "县教育局", "张 伟", "廉洁纪律", "2", "2024-05-01"]]),
             write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("XF-1", 被反映人="张伟")])]
    zt("ingest", "--db", db, *files)
    pid = Pseudonymiser.from_file(key_file).pseudonym("张伟", "person")
    assert q(db, "SELECT reported_pid FROM petitions") == [(pid,)]
    assert q(db, "SELECT person_pid FROM cases") == [(pid,)]
    assert q(db, "SELECT top_leader_pid FROM units WHERE unit_name = '县教育局'") == [(pid,)]


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda s: s.strip() and "\x00" not in s))
def test_sql_hmac_equals_python_hmac(text):
    key = bytes(range(32))
    p = Pseudonymiser(key)
    con = duckdb.connect()
    p.install(con)
    got = con.execute("SELECT zt_hmac(?)", [text]).fetchall()[0][0]
    assert got == hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def test_key_is_created_outside_the_repo_with_private_mode(key_file, db):
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert not str(key_file).startswith(str(Path(__file__).resolve().parents[1]))
    assert q(db, "SELECT count(*) FROM warehouse_meta WHERE key = 'key_fingerprint'") == [(1,)]


# ---------------------------------------------------------------------------------- unit names

@pytest.mark.parametrize("written, expected", [
    ("县教育局", "县教育局"), ("教育局", "县教育局"), ("县 教育局", "县教育局"), ("县卫健局", "县卫生健康局"),
    ("县市场监管局", "县市场监督管理局"),     # abbreviation: fuzzy
    ("城关镇政府", "城关镇人民政府"),         # abbreviation: fuzzy
    ("城东镇人民政府", None),                 # a neighbouring town is not a typo
    ("县交通运输局", None),
])
def test_unit_resolution(db, tmp_path, zt, written, expected):
    zt("ingest", "--db", db, roster(tmp_path))
    zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("X", unit=written)]))
    got = q(db, "SELECT unit_name FROM petitions")
    assert got == ([(expected,)] if expected else [])


@given(st.sampled_from(["县卫生健康局", "县市场监督管理局", "城关镇人民政府", "县第一中学"]))
def test_score_is_symmetric_and_exact_match_is_100(name):
    assert units_mod.score(name, name) == 100
    assert units_mod.score(name, "县教育局") == units_mod.score("县教育局", name)


def test_padded_name_is_one_person_and_masked_in_text(db, tmp_path, zt, key_file):
    """Ledgers pad two-character names (王　伟); the pseudonym and the text masking must not care."""
    rows = [petition("XF-1", 被反映人="王　伟", 反映内容="反映王伟违规发放津贴"),
            petition("XF-2", 被反映人="王伟", 反映内容="王 伟再次被反映")]
    zt("ingest", "--db", db, roster(tmp_path), write_csv(tmp_path / "p.csv", PETITION_HEADER, rows))
    pid = Pseudonymiser.from_file(key_file).pseudonym("王伟", "person")
    assert q(db, "SELECT reported_pid, content FROM petitions ORDER BY 1, 2") == [
        (pid, f"[{pid}]再次被反映"), (pid, f"反映[{pid}]违规发放津贴")]


@pytest.mark.parametrize("content", [b"\xff\xfe not a key", b"zz" * 32, b"abcd"])
def test_unusable_key_file_is_one_line(db, tmp_path, zt, content):
    bad = tmp_path / "bad.key"
    bad.write_bytes(content)
    res = zt("ingest", "--db", db, "--key", bad, roster(tmp_path))
    assert res.code == 2 and "key" in res.err and "Traceback" not in res.err
