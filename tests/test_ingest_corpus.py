"""A corpus of bad and edge-case inputs, generated here: each either stops with one line and exit 2 leaving the
warehouse exactly as it was, or loads with the problem kept as a rejected row or a data-quality note.
Never a traceback, never a silent wrong value."""

from __future__ import annotations

import codecs
import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pytest
import xlsxwriter

from pipelines.cli import main
from tests.ledger_files import PETITION_HEADER, UNIT_HEADER, UNIT_ROWS, petition, roster, write_csv, write_xlsx

CASES_HEADER = ["案件编号", "所在单位", "姓名", "身份证号", "职务", "违纪类型", "四种形态", "处理日期", "涉案金额（万元）"]


def case_row(no="AJ-1", **kw):
    row = {"案件编号": no, "所在单位": "县教育局", "姓名": "张伟", "身份证号": "", "职务": "科员", "违纪类型": "廉洁纪律",
           "四种形态": "2", "处理日期": "2024-05-01", "涉案金额（万元）": "1.5"}
    row.update(kw)
    return [row[h] for h in CASES_HEADER]


@dataclass
class Case:
    name: str
    make: Callable[[Path], list[str]]       # writes the input(s) into a folder; returns the ingest arguments
    words: str | None = None                 # an error: words of its one line
    check: str | None = None                 # loaded: a query that must return true


def petitions(d: Path, *rows, name="p.csv", **kw) -> list[str]:
    return [str(write_csv(d / name, PETITION_HEADER, list(rows), **kw))]


def cases(d: Path, *rows) -> list[str]:
    return [str(write_csv(d / "cases.csv", CASES_HEADER, list(rows)))]


def raw(d: Path, name: str, data: bytes) -> list[str]:
    (d / name).write_bytes(data)
    return [str(d / name)]


def csv_text(rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in rows) + "\n"


P_HEAD = ",".join(PETITION_HEADER)
GOOD = ",".join(str(v) for v in petition("XF-1", "2024-03-05"))


def fifo(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.csv")
    return [str(d / "pipe.csv")]


def loop(d: Path) -> list[str]:
    os.symlink(d / "b.csv", d / "a.csv")
    os.symlink(d / "a.csv", d / "b.csv")
    return [str(d / "a.csv")]


def link(target: str, name: str):
    def make(d: Path) -> list[str]:
        os.symlink(target, d / name)
        return [str(d / name)]
    return make


def xlsx_as_csv(d: Path) -> list[str]:
    src = write_xlsx(d / "real.xlsx", UNIT_HEADER, UNIT_ROWS)
    shutil.move(src, d / "book.csv")
    return [str(d / "book.csv")]


def wide_xlsx(d: Path) -> list[str]:
    wb = xlsxwriter.Workbook(str(d / "wide.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, PETITION_HEADER + [f"列{i}" for i in range(600)])
    wb.close()
    return [str(d / "wide.xlsx")]


def hidden_sheet(only: bool):
    def make(d: Path) -> list[str]:
        wb = xlsxwriter.Workbook(str(d / "book.xlsx"))
        if only:
            wb.add_worksheet("说明").write(0, 0, "见隐藏表")
        else:
            ws = wb.add_worksheet("台账")
            ws.write_row(0, 0, PETITION_HEADER)
            ws.write_row(1, 0, [str(v) for v in petition("XF-1")])
        hid = wb.add_worksheet("旧版")  # (the first sheet is the active one, which Excel cannot hide)
        hid.write_row(0, 0, PETITION_HEADER)
        hid.write_row(1, 0, [str(v) for v in petition("XF-OLD")])
        hid.hide()
        wb.close()
        return [str(d / "book.xlsx")]
    return make


def two_folders(d: Path) -> list[str]:
    rows = [petition("XF-1"), petition("XF-2", "2023年2月30日")]
    (d / "a").mkdir()
    (d / "b").mkdir()
    write_csv(d / "a" / "p.csv", PETITION_HEADER, rows)
    write_csv(d / "b" / "p.csv", PETITION_HEADER, rows)
    return [[str(d / "a" / "p.csv")], [str(d / "b" / "p.csv")]]  # two runs


def utf16(encoding: str, bom: bytes = b""):
    return lambda d: raw(d, "u16.csv", bom + csv_text([PETITION_HEADER, [str(v) for v in petition("XF-1")]]).encode(encoding))


ERRORS = [
    Case("fifo", fifo, "FIFO"),
    Case("symlink loop", loop, "loops back"),
    Case("dangling symlink", link("/nonexistent/ledger.csv", "gone.csv"), "does not exist"),
    Case("device", link("/dev/null", "null.csv"), "device"),
    Case("missing file", lambda d: [str(d / "nope.csv")], "does not exist"),
    Case("empty file", lambda d: raw(d, "empty.csv", b""), "is empty"),
    Case("binary named csv", lambda d: raw(d, "bin.csv", bytes(range(256)) * 64), "binary"),
    Case("xlsx named csv", xlsx_as_csv, "Excel workbook saved with a .csv name"),
    Case("xls named csv", lambda d: raw(d, "old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "Excel workbook"),
    Case("pdf named csv", lambda d: raw(d, "doc.csv", b"%PDF-1.7\n" + b"x" * 100), ".pdf"),
    Case("gzip named csv", lambda d: raw(d, "z.csv", gzip.compress(P_HEAD.encode())), "gzip"),
    Case("10,000 columns", lambda d: raw(d, "wide.csv", (P_HEAD + "," + ",".join(f"c{i}" for i in range(10_000)) + "\n").encode()), "columns, more than"),
    Case("600 columns", lambda d: raw(d, "wide.csv", (P_HEAD + "," + ",".join(f"c{i}" for i in range(600)) + "\n" + GOOD + "\n").encode()), "columns, more than"),
    Case("600-column workbook", wide_xlsx, "columns, more than"),
    Case("huge cell", lambda d: petitions(d, petition("XF-1", 反映内容="很" * 40_000)), "longer than"),
    Case("not a ledger", lambda d: [str(write_csv(d / "w.csv", ["日期", "气温"], [["2024-01-01", "3"]]))], "no header row recognised"),
    Case("missing required column", lambda d: [str(write_csv(d / "p.csv", PETITION_HEADER[1:], [petition("X")[1:]]))], "missing required"),
    Case("conflicting duplicate columns", lambda d: [str(write_csv(d / "p.csv", PETITION_HEADER + ["收件日期"],
         [petition("XF-1") + ["2024-03-06"]]))], "differ in 1 rows"),
    Case("broken xlsx", lambda d: raw(d, "b.xlsx", b"PK\x03\x04not really a zip"), "cannot be read as an Excel workbook"),
    Case("zip named xlsx", lambda d: raw(d, "z.xlsx", gzip.compress(b"hello")), "cannot be read as an Excel workbook"),
    Case("pdf extension", lambda d: raw(d, "x.pdf", b"%PDF-1.4"), "unsupported file type"),
    Case("folder without ledgers", lambda d: (d / "empty").mkdir() or [str(d / "empty")], "holds no"),
    Case("utf-32 without BOM", lambda d: raw(d, "u32.csv", csv_text([PETITION_HEADER]).encode("utf-32-le")), "binary"),
    Case("only a hidden ledger sheet", hidden_sheet(only=True), "hidden sheets not read: 旧版"),
    Case("bad --date-floor", lambda d: ["--date-floor", "yesterday", *petitions(d, petition("XF-1"))], "--date-floor"),
    Case("bad --set", lambda d: ["--set", "来源渠道", *petitions(d, petition("XF-1"))], "列=值"),
    Case("unknown --set column", lambda d: ["--set", "天气=晴", *petitions(d, petition("XF-1"))], "unknown column"),
    Case("bad --map", lambda d: ["--map", "a=b", *petitions(d, petition("XF-1"))], "unknown column"),
    Case("unknown --kind", lambda d: ["--kind", "weather", *petitions(d, petition("XF-1"))], "unknown ledger kind"),
    Case("headers of two kinds in one file", lambda d: [str(write_csv(d / "x.csv", ["单位名称", "案件编号"], [["县教育局", "1"]]))],
         "missing required"),
]

N = "(SELECT count(*) FROM data_quality_notes WHERE note LIKE '%{}%')"
R = "(SELECT count(*) FROM rejected_rows WHERE reason LIKE '%{}%')"
LOADED = [
    Case("CR-only line ends", lambda d: raw(d, "cr.csv", csv_text([PETITION_HEADER, [str(v) for v in petition("XF-1")]]).replace("\n", "\r").encode()),
         check="(SELECT count(*) FROM petitions) = 1"),
    Case("CRLF line ends", lambda d: raw(d, "crlf.csv", csv_text([PETITION_HEADER, [str(v) for v in petition("XF-1")]]).replace("\n", "\r\n").encode("gbk")),
         check="(SELECT count(*) FROM petitions) = 1"),
    Case("UTF-16 LE with BOM", utf16("utf-16-le", codecs.BOM_UTF16_LE), check="(SELECT count(*) FROM petitions) = 1"),
    Case("UTF-16 BE with BOM", utf16("utf-16-be", codecs.BOM_UTF16_BE), check="(SELECT count(*) FROM petitions) = 1"),
    Case("UTF-16 LE without BOM", utf16("utf-16-le"), check="(SELECT count(*) FROM petitions) = 1"),
    Case("UTF-32 with BOM", utf16("utf-32"), check="(SELECT count(*) FROM petitions) = 1"),
    Case("GBK lines in a UTF-8 file", lambda d: raw(d, "mixed.csv", (P_HEAD + "\n" + GOOD + "\n").encode() +
         ",".join(str(v) for v in petition("XF-2", 反映内容="群众反映问题")).encode("gbk") + b"\n"),
         check="(SELECT count(*) FROM petitions) = 2 AND (SELECT message FROM ingest_runs WHERE kind = 'petitions') LIKE '%GBK%'"),
    *[Case(f"amount {text!r}", (lambda t: lambda d: cases(d, case_row(**{"涉案金额（万元）": t})))(text),
           check=f"(SELECT amount_yuan IS NULL FROM cases) AND {N.format(words)} = 1")
      for text, words in [("NaN", "无法识别为金额"), ("NA", "无法识别为金额"), ("null", "无法识别为金额"), ("N/A", "无法识别为金额"),
                          ("#N/A", "无法识别为金额"), ("9" * 400, "超出合理范围"), ("-5", "负数"), ("1.234,5", "无法识别为金额"),
                          ("1,2345", "无法识别为金额"), ("inf", "无法识别为金额"), ("约3万", "无法识别为金额"), ("#VALUE!", "无法识别为金额")]],
    Case("amount with thousands separators", lambda d: cases(d, case_row(**{"涉案金额（万元）": "1,234.5"})),
         check="(SELECT amount_yuan FROM cases) = 12345000"),
    Case("closing date in 2099", lambda d: petitions(d, petition("XF-1", 办结日期="2099-01-01")),
         check=f"(SELECT closed_date IS NULL FROM petitions) AND {N.format('晚于导入当天')} = 1"),
    Case("received date in 2099", lambda d: petitions(d, petition("XF-1", "2099-03-05")), check=f"{R.format('晚于导入当天')} = 1"),
    Case("received date 1024", lambda d: petitions(d, petition("XF-1", "1024-03-05")), check=f"{R.format('日期早于')} = 1"),
    Case("date floor given", lambda d: ["--date-floor", "2024-06-01", *petitions(d, petition("XF-1", "2024-03-05"))],
         check=f"{R.format('日期早于 2024-06-01')} = 1"),
    Case("date with trailing words", lambda d: petitions(d, petition("XF-1", "2023-01-02 以后再说")),
         check=f"(SELECT received_date FROM petitions) = DATE '2023-01-02' AND {N.format('多余文字')} = 1"),
    Case("ID check digit wrong", lambda d: cases(d, case_row(身份证号="430102198506120011")),
         check=f"(SELECT id_number_pid IS NOT NULL FROM cases) AND {N.format('校验位')} = 1"),
    Case("ID check digit right", lambda d: cases(d, case_row(身份证号="11010519491231002X")),
         check="(SELECT count(*) FROM data_quality_notes) = 0"),
    Case("ID number in the name column", lambda d: cases(d, case_row(姓名="430102198506120018")),
         check=f"(SELECT person_pid IS NULL FROM cases) AND {N.format('证件号或电话号码')} = 1"),
    Case("phone and ID in 职务", lambda d: cases(d, case_row(职务="科员 13812345678 430102198506120018")),
         check="(SELECT post FROM cases) = '科员 [电话] [身份证号]'"),
    Case("NUL byte in a cell", lambda d: raw(d, "nul.csv", (P_HEAD + "\n" + GOOD.replace("工作作风问题", "工作\x00作风问题") + "\n").encode()),
         check="(SELECT content FROM petitions) = '工作作风问题' AND (SELECT message FROM ingest_runs WHERE kind = 'petitions') LIKE '%控制字符%'"),
    Case("bell character in a cell", lambda d: petitions(d, petition("XF-1", 反映内容="反映\x07问题")),
         check="(SELECT content FROM petitions) = '反映问题'"),
    Case("hidden sheet beside the ledger", hidden_sheet(only=False),
         check="(SELECT list(petition_no) FROM petitions) = ['XF-1'] AND (SELECT message FROM ingest_runs WHERE kind = 'petitions') LIKE '%隐藏工作表%'"),
    Case("identical duplicate columns", lambda d: [str(write_csv(d / "p.csv", PETITION_HEADER + ["收件日期"], [petition("XF-1") + ["2024-03-05"]]))],
         check="(SELECT count(*) FROM petitions) = 1 AND (SELECT message FROM ingest_runs WHERE kind = 'petitions') LIKE '%重复%'"),
    Case("same ledger from two folders", two_folders, check="(SELECT count(*) FROM rejected_rows) = 1"),
    Case("unknown channel", lambda d: petitions(d, petition("XF-1", 来源渠道="托人带话")),
         check=f"(SELECT channel IS NULL FROM petitions) AND {N.format('托人带话')} = 1"),
    Case("yes/no unreadable", lambda d: petitions(d, petition("XF-1", 是否署名="也许")), check=f"{N.format('应为 是/否')} = 1"),
    Case("unknown unit", lambda d: petitions(d, petition("XF-1", unit="县交通运输局")), check=f"{R.format('找不到')} = 1"),
    Case("impossible date", lambda d: petitions(d, petition("XF-1", "2023年2月30日")), check=f"{R.format('无法识别为日期')} = 1"),
    Case("dates out of order", lambda d: petitions(d, petition("XF-1", "2024-03-05", 办结日期="2024-01-01")), check=f"{R.format('早于受理日期')} = 1"),
    Case("duplicate key", lambda d: petitions(d, petition("XF-1"), petition("xf-1")), check=f"{R.format('重复')} = 1"),
    Case("blank key", lambda d: petitions(d, petition("")), check=f"{R.format('缺少必填项')} = 1"),
    Case("ragged line", lambda d: raw(d, "r.csv", (P_HEAD + "\n" + GOOD + "\nXF-2,2024-03-05,来信\n").encode()),
         check=f"(SELECT count(*) FROM petitions) = 1 AND {R.format('单元格个数')} = 1"),
    Case("unterminated quote", lambda d: raw(d, "q.csv", (P_HEAD + "\n" + GOOD + '\nXF-2,"2024-03-05,来信\n').encode()),
         check="(SELECT count(*) FROM petitions) = 1 AND (SELECT count(*) FROM rejected_rows) = 1"),
    Case("negative headcount", lambda d: [str(write_xlsx(d / "u.xlsx", UNIT_HEADER, [[9, "县水利局", "", "部门", "水利", "第一派驻组", -3, 100, "钱七"]]))],
         check=f"{R.format('不能为负数')} = 1"),
    Case("headcount 12.5", lambda d: [str(write_xlsx(d / "u.xlsx", UNIT_HEADER, [[9, "县水利局", "", "部门", "水利", "第一派驻组", "12.5", 100, "钱七"]]))],
         check=f"{R.format('不是整数')} = 1"),
    Case("formula-looking text", lambda d: petitions(d, petition("XF-1", 反映内容='=HYPERLINK("http://x","点此")')),
         check="(SELECT content FROM petitions) LIKE '=HYPERLINK%'"),
    Case("long but allowed cell", lambda d: petitions(d, petition("XF-1", 反映内容="很" * 30_000)),
         check="(SELECT length(content) FROM petitions) = 30000"),
    Case("symlink to a ledger", lambda d: (write_csv(d / "real.csv", PETITION_HEADER, [petition("XF-1")]) and
                                           link(str(d / "real.csv"), "alias.csv")(d)),
         check="(SELECT path FROM ingest_runs WHERE kind = 'petitions') LIKE '%alias.csv'"),
    Case("month-only received date", lambda d: petitions(d, petition("XF-1", "2024年3月")),
         check="(SELECT date_precision FROM petitions) = 'received_date=month'"),
    Case("header only", lambda d: petitions(d), check="(SELECT rows_read FROM ingest_runs WHERE kind = 'petitions') = 0"),
    Case("title rows and blank lines", lambda d: petitions(d, petition("XF-1"), title="2024年信访台账", blank_lines=True),
         check="(SELECT count(*) FROM petitions) = 1"),
]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A warehouse holding the unit master, copied for every case."""
    root = tmp_path_factory.mktemp("corpus")
    key = root / "corpus.key"
    db = root / "base.duckdb"
    assert main(["init", "--db", str(db), "--key", str(key)]) == 0
    assert main(["ingest", "--db", str(db), "--key", str(key), "--quiet", str(roster(root))]) == 0
    return db, key


def _state(db: Path) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {t}").fetchall()
                for t in ("units", "petitions", "cases", "ingest_runs", "rejected_rows", "data_quality_notes")]
    finally:
        con.close()


def _run(base, tmp_path, capsys, case: Case) -> tuple[int, str, Path]:
    db_src, key = base
    db = tmp_path / "w.duckdb"
    shutil.copy(db_src, db)
    work = tmp_path / "in"
    work.mkdir()
    args = case.make(work)
    runs = args if args and isinstance(args[0], list) else [args]
    code, err = 0, ""
    for run in runs:
        capsys.readouterr()
        code = main(["ingest", "--db", str(db), "--key", str(key), "--quiet", *run])
        err += capsys.readouterr().err
        if code:
            break
    return code, err, db


def test_the_corpus_is_large():
    assert len(ERRORS) + len(LOADED) >= 60


@pytest.mark.parametrize("case", ERRORS, ids=[c.name for c in ERRORS])
def test_unusable_input_is_one_line_exit_2_and_nothing_changed(base, tmp_path, capsys, case):
    before = _state(base[0])
    code, err, db = _run(base, tmp_path, capsys, case)
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert case.words in err, err
    assert _state(db) == before


@pytest.mark.parametrize("case", LOADED, ids=[c.name for c in LOADED])
def test_bad_values_load_with_their_problem_kept(base, tmp_path, capsys, case):
    code, err, db = _run(base, tmp_path, capsys, case)
    assert code == 0 and "Traceback" not in err, err
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(f"SELECT {case.check}").fetchall() == [(True,)], con.execute(
            "SELECT reason FROM rejected_rows UNION ALL SELECT note FROM data_quality_notes").fetchall()
    finally:
        con.close()
