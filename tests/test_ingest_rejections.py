"""Every rejection reason, every file-level error, and what is never lost."""

from __future__ import annotations

import json

import pytest

from tests.ledger_files import PETITION_HEADER, petition, q, roster, write_csv


# Rows are rejected only when they cannot be a record: no key, no usable date, unknown unit, impossible order of dates.
CASES = [
    # (row overrides, failing column, words in the reason)
    (dict(received="2023年2月30日"), "受理日期", "无法识别为日期"),
    (dict(received=""), "受理日期", "缺少必填项"),
    (dict(信访编号=""), "信访编号", "缺少必填项"),
    (dict(办结日期="2024-01-01"), "办结日期", "办结日期早于受理日期"),
    (dict(unit="县交通运输局"), "被反映单位", "在单位名册中找不到"),
]

# Everything else keeps the record, stores the field as unknown and writes a data-quality note.
FLAGS = [
    # (row overrides, column, stored column, words in the note)
    (dict(来源渠道="托人带话"), "来源渠道", "channel", "不在允许值内"),
    (dict(是否署名="也许"), "是否署名", "signed", "应为 是/否"),
    (dict(问题类别="作风问题"), "问题类别", "category", "不在允许值内"),
    (dict(问题类别=""), "问题类别", "category", "缺少必填项"),
    (dict(联系电话="12"), "联系电话", "petitioner_phone_pid", "电话号码格式不正确"),
    (dict(办结日期="2024年13月"), "办结日期", "closed_date", "无法识别为日期"),
]


@pytest.mark.parametrize("overrides, column, stored, words", FLAGS, ids=[c[1] + ":" + c[3] for c in FLAGS])
def test_unknown_value_keeps_the_record_and_flags_the_field(db, tmp_path, zt, overrides, column, stored, words):
    zt("ingest", "--db", db, roster(tmp_path))
    rows = [petition("GOOD-1", "2024-03-04"), petition("FLAG-1", "2024-03-05", **overrides)]
    path = write_csv(tmp_path / "p.csv", PETITION_HEADER, rows)
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    assert q(db, f"SELECT petition_no, {stored} IS NULL FROM petitions WHERE petition_no = 'FLAG-1'") == [("FLAG-1", True)]
    assert q(db, "SELECT count(*) FROM rejected_rows") == [(0,)]
    (got,) = q(db, "SELECT source_row, record_key, unit_name, column_name, note FROM data_quality_notes")
    assert got[:4] == (3, "FLAG-1", "县教育局", column) and words in got[4]
    assert q(db, "SELECT rows_loaded, rows_rejected FROM ingest_runs WHERE kind='petitions'") == [(2, 0)]
    # the same ledger again: one set of notes, not two
    assert zt("ingest", "--db", db, path).code == 0
    assert q(db, "SELECT count(*) FROM data_quality_notes") == [(1,)]


@pytest.mark.parametrize("overrides, column, reason", CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_each_rejection_reason(db, tmp_path, zt, overrides, column, reason):
    zt("ingest", "--db", db, roster(tmp_path))
    received = overrides.pop("received", "2024-03-05")
    unit = overrides.pop("unit", "县教育局")
    bad = petition("BAD-1", received, unit, **overrides)
    rows = [petition("GOOD-1", "2024-03-04"), bad]
    path = write_csv(tmp_path / "p.csv", PETITION_HEADER, rows)
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    assert q(db, "SELECT petition_no FROM petitions") == [("GOOD-1",)]
    (got,) = q(db, "SELECT source_file, source_row, column_name, reason, raw FROM rejected_rows")
    assert got[0].endswith("p.csv") and got[1] == 3
    assert got[2] == column and reason in got[3]
    raw = json.loads(got[4])
    assert raw["信访编号"] == (bad[0] or None)  # the raw row is kept, to be corrected and reloaded
    assert q(db, "SELECT rows_read, rows_loaded, rows_rejected FROM ingest_runs WHERE kind='petitions'") == [(2, 1, 1)]


def test_unknown_unit_names_its_closest_candidates(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    path = write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("X", "2024-03-05", "县教育督导室")])
    zt("ingest", "--db", db, path)
    (reason,) = q(db, "SELECT reason FROM rejected_rows")[0]
    assert "县教育督导室" in reason and "最接近：县教育局" in reason and "简称中补充" in reason


def test_duplicate_key_in_one_file_keeps_the_first(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    rows = [petition("XF-7", "2024-03-05"), petition("XF-8", "2024-03-05"), petition("xf-7", "2024-03-06")]
    zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, rows))
    assert q(db, "SELECT petition_no, received_date::VARCHAR FROM petitions ORDER BY 1") == [("XF-7", "2024-03-05"), ("XF-8", "2024-03-05")]
    assert q(db, "SELECT source_row, reason FROM rejected_rows") == [(4, "与第2行重复（信访编号相同）")]


def test_ragged_csv_line_is_reported_not_dropped(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    path = write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("A", "2024-03-05"), petition("B", "2024-03-06")])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("C,2024-03-07,来信,匿名,电话13812345678\n")
    res = zt("ingest", "--db", db, path)
    assert res.code == 0
    assert q(db, "SELECT count(*) FROM petitions") == [(2,)]
    (row, reason, raw) = q(db, "SELECT source_row, reason, raw FROM rejected_rows")[0]
    assert row == 4 and "单元格个数与表头" in reason
    assert "13812345678" not in raw and "[电话]" in raw


def test_bad_id_number_flagged_without_echoing_it(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["案件编号", "所在单位", "姓名", "身份证号", "违纪类型", "四种形态", "处理日期"]
    rows = [["AJ-1", "县教育局", "张伟", "41010219800101123X", "廉洁纪律", "第二种形态", "2024-05-01"],
            ["AJ-2", "县教育局", "李四", "4101021980", "廉洁纪律", "第一种形态", "2024-05-02"]]
    res = zt("ingest", "--db", db, write_csv(tmp_path / "cases.csv", header, rows))
    assert res.code == 0, res.err
    assert q(db, "SELECT case_no, form, id_number_pid IS NULL FROM cases ORDER BY 1") == [("AJ-1", "2", False), ("AJ-2", "1", True)]
    (column, note) = q(db, "SELECT column_name, note FROM data_quality_notes")[0]
    assert column == "身份证号" and "身份证号格式不正确" in note and "4101021980" not in note


# ---------------------------------------------------------------------------------- file-level errors

def _nothing_loaded(db):
    return q(db, "SELECT (SELECT count(*) FROM units) + (SELECT count(*) FROM petitions) + (SELECT count(*) FROM ingest_runs)") == [(0,)]


def test_missing_required_column_loads_nothing_and_says_how_to_map(db, tmp_path, zt):
    header = [h for h in PETITION_HEADER if h != "受理日期"]
    rows = [[v for h, v in zip(PETITION_HEADER, petition("A")) if h != "受理日期"]]
    bad = write_csv(tmp_path / "p.csv", header, rows)
    res = zt("ingest", "--db", db, roster(tmp_path), bad)
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
    assert "受理日期（received_date）" in res.err and "--map 表头=received_date" in res.err
    assert _nothing_loaded(db)  # the good roster given with it did not load either


def test_unknown_kind_of_file(db, tmp_path, zt):
    path = write_csv(tmp_path / "weather.csv", ["日期", "气温", "降水"], [["2024-01-01", "3", "0"]])
    res = zt("ingest", "--db", db, path)
    assert res.code == 2 and "no header row recognised" in res.err and "--map" in res.err
    assert _nothing_loaded(db)


@pytest.mark.parametrize("name, content, words", [
    ("ledger.pdf", b"%PDF-1.4", "unsupported file type"),
    ("broken.xlsx", b"not a zip", "cannot be read as an Excel workbook"),
    ("missing.csv", None, "does not exist"),
])
def test_unusable_files(db, tmp_path, zt, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    res = zt("ingest", "--db", db, path)
    assert res.code == 2 and words in res.err and "Traceback" not in res.err


def test_ledger_before_any_unit_master(db, tmp_path, zt):
    res = zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("A")]))
    assert res.code == 2 and "单位名册" in res.err
    assert _nothing_loaded(db)


def test_init_says_what_it_made_in_words(tmp_path, zt):
    from tests import user_text

    first = zt("init", "--db", tmp_path / "w.duckdb", "--key", tmp_path / "k.key")
    assert first.code == 0 and "数据库已就绪" in first.out and "新建" in first.out  # a new key: keep it safe
    again = zt("init", "--db", tmp_path / "w.duckdb", "--key", tmp_path / "k.key")
    assert again.code == 0 and "化名密钥" in again.out and "新建" not in again.out
    assert user_text.problems((first.out + again.out).replace(str(tmp_path), "")) == []


def test_missing_database_and_wrong_key(tmp_path, zt, key_file, db, monkeypatch):
    res = zt("ingest", "--db", tmp_path / "nope.duckdb", roster(tmp_path))
    assert res.code == 2 and "zhengtai init" in res.err
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    res = zt("ingest", "--db", db, "--key", other, roster(tmp_path))
    assert res.code == 2 and "different key" in res.err
    assert _nothing_loaded(db)


def test_bad_map_option(db, tmp_path, zt):
    res = zt("ingest", "--db", db, "--map", "来件去向", roster(tmp_path))
    assert res.code == 2 and "表头=column" in res.err
    res = zt("ingest", "--db", db, "--map", "来件去向=no_such_column", roster(tmp_path))
    assert res.code == 2 and "no_such_column" in res.err


def test_explicit_kind_that_does_not_fit(db, tmp_path, zt):
    res = zt("ingest", "--db", db, "--kind", "cases", roster(tmp_path))
    assert res.code == 2 and "missing required column" in res.err
    res = zt("ingest", "--db", db, "--kind", "weather", roster(tmp_path))
    assert res.code == 2 and "unknown ledger kind" in res.err


def test_all_sheets_of_a_workbook_are_read(db, tmp_path, zt):
    import xlsxwriter

    from tests.ledger_files import UNIT_HEADER, UNIT_ROWS

    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("说明")
    ws.write(0, 0, "本台账由办公室维护")
    ws = wb.add_worksheet("名册")
    ws.write_row(0, 0, UNIT_HEADER)
    for i, row in enumerate(UNIT_ROWS, start=1):
        ws.write_row(i, 0, row)
    wb.close()
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    assert q(db, "SELECT count(*), min(source_sheet) FROM units") == [(4, "名册")]


def test_wide_excel_with_offset_origin(db, tmp_path, zt):
    """A table that starts at C3 still reports the Excel row numbers the analyst sees."""
    import xlsxwriter

    from tests.ledger_files import UNIT_HEADER, UNIT_ROWS

    path = tmp_path / "offset.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名册")
    ws.write_row(2, 2, UNIT_HEADER)
    for i, row in enumerate(UNIT_ROWS):
        ws.write_row(3 + i, 2, row)
    wb.close()
    assert zt("ingest", "--db", db, path).code == 0
    assert q(db, "SELECT min(source_row), max(source_row) FROM units") == [(4, 7)]

