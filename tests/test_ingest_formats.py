"""Ingestion of ledgers in the messy formats analysts really keep: every figure checked against the hand-made rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.ledger_files import PETITION_HEADER, petition, q, roster, write_csv, write_xls, write_xlsx


def test_unit_master_types_and_scales(db, tmp_path, zt):
    res = zt("ingest", "--db", db, roster(tmp_path))
    assert res.code == 0, res.err
    rows = dict((r[0], r[1:]) for r in q(db, "SELECT unit_name, kind, headcount, budget_yuan, aliases, source_row FROM units"))
    assert rows["县教育局"] == ("部门", 45, 12_005_000.0, ["教育局", "县教体局"], 3)  # title row 1, header row 2
    assert rows["县卫生健康局"][:3] == ("部门", 38, 8_000_000.0)  # 行政单位 → 部门, full-width ３８
    assert rows["城关镇人民政府"][0] == "乡镇"  # 镇 → 乡镇
    assert rows["县市场监督管理局"][2] == 15_000_000.0  # "1,500" 万元


@pytest.mark.parametrize("fmt", ["xlsx", "xlsx-date-cells", "xls", "csv-utf8", "csv-bom", "csv-gbk", "csv-gb18030"])
def test_each_file_format_loads_the_same_records(db, tmp_path, zt, fmt):
    zt("ingest", "--db", db, roster(tmp_path))
    rows = [
        petition("XF-1", dt.date(2024, 3, 5), 来源渠道="12388", 是否署名="署名", 举报人="刘洋", 联系电话="13900001111"),
        petition("XF-2", dt.date(2024, 3, 6), unit="县卫健局", 来源渠道="电话"),
        petition("XF-3", dt.date(2024, 3, 7), unit="城关镇", 问题类别="违反群众纪律", 处置方式="初核", 办理结果="属实", 办结日期="2024/4/1"),
    ]
    if not fmt.startswith("xlsx") and fmt != "xls":
        for r in rows:
            r[1] = r[1].isoformat()
    path = tmp_path / f"信访.{fmt.split('-')[0]}"
    if fmt == "xlsx":
        write_xlsx(path, PETITION_HEADER, rows, title="2024年信访举报台账")
    elif fmt == "xlsx-date-cells":
        write_xlsx(path, PETITION_HEADER, rows, title="2024年信访举报台账", date_cells=True)
    elif fmt == "xls":
        for r in rows:
            r[1] = r[1].isoformat()
        write_xls(path, PETITION_HEADER, rows, title="2024年信访举报台账")
    else:
        enc = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk", "csv-gb18030": "gb18030"}[fmt]
        write_csv(path, PETITION_HEADER, rows, encoding=enc, title="2024年信访举报台账")
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    got = q(db, "SELECT petition_no, received_date, channel, signed, unit_name, category, disposition, outcome, closed_date, source_row FROM petitions ORDER BY 1")
    assert got == [
        ("XF-1", dt.date(2024, 3, 5), "网络举报", True, "县教育局", "工作纪律", None, None, None, 3),
        ("XF-2", dt.date(2024, 3, 6), "电话", False, "县卫生健康局", "工作纪律", None, None, None, 4),
        ("XF-3", dt.date(2024, 3, 7), "来信", False, "城关镇人民政府", "群众纪律", "初步核实", "属实", dt.date(2024, 4, 1), 5),
    ]
    assert q(db, "SELECT count(*) FROM rejected_rows") == [(0,)]


@pytest.mark.parametrize("text", [
    "2024年3月5日", "2024/3/5", "2024.03.05", "20240305", "2024-03-05", "45356", "45356.0",
    "２０２４年３月５日", "2024 年 3 月 5 日", "2024-03-05 00:00:00", "　2024/3/5　",
])
def test_date_variants(db, tmp_path, zt, text):
    zt("ingest", "--db", db, roster(tmp_path))
    path = write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("XF-9", text)])
    assert zt("ingest", "--db", db, path).code == 0
    assert q(db, "SELECT received_date FROM petitions") == [(dt.date(2024, 3, 5),)]


def test_title_row_merged_two_row_header_blank_and_total_rows(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["巡察轮次", "被巡察单位", "问题序号", "反馈日期", "问题类别", "问题描述", "整改时限", "整改状态", "整改完成时间", "是否屡查屡犯"]
    rows = [
        ["2023年第二轮", "县教育局", "1", "2023-06-01", "全面从严治党", "会议记录不全", "2023-09-01", "已整改", "2023-08-20", "否"],
        ["", "", "", "", "", "", "", "", "", ""],
        ["2023年第二轮", "县教育局", "2", "2023-06-01", "党的领导", "决策部署落实不到位", "2023-09-01", "正在整改", "", "√"],
        ["合计", "2项", "", "", "", "", "", "", "", ""],
    ]
    path = write_xlsx(tmp_path / "巡察整改台账.xlsx", header, rows, title="县委巡察反馈问题整改台账", group=(7, 8, "整改情况"))
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    got = q(db, "SELECT finding_no, status, rectified_date, is_recurrence, source_row FROM inspection_findings ORDER BY 1")
    # title row 1, two header rows 2-3, data from row 4, the blank row 5 skipped
    assert got == [("1", "已完成", dt.date(2023, 8, 20), False, 4), ("2", "整改中", None, True, 6)]
    run = q(db, "SELECT rows_read, rows_loaded, rows_rejected FROM ingest_runs WHERE kind = 'inspection_findings'")
    assert run == [(4, 2, 0)]  # the blank and 合计 rows are read and skipped, not loaded and not rejections


def test_full_width_and_amount_units(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["审计项目", "被审计单位", "问题序号", "审计报告日期", "问题类型", "涉及金额（万元）", "整改情况", "是否移送问题线索"]
    rows = [
        ["２０２３年度预算执行审计", "县教育局", "１", "2023-11-02", "违规使用资金", "12.5", "已整改", "否"],
        ["２０２３年度预算执行审计", "县教育局", "２", "2023-11-02", "管理不规范", "3,000元", "未整改", "是"],
        ["２０２３年度预算执行审计", "县教育局", "３", "2023-11-02", "损失浪费", "１.５万元", "部分整改", "否"],
    ]
    path = write_csv(tmp_path / "审计.csv", header, rows, encoding="gbk")
    assert zt("ingest", "--db", db, path).code == 0
    got = q(db, "SELECT audit_project, finding_no, amount_yuan, rectification, clue_transferred FROM audit_findings ORDER BY 2")
    assert got == [
        ("2023年度预算执行审计", "1", 125_000.0, "已整改", False),
        ("2023年度预算执行审计", "2", 3_000.0, "未整改", True),
        ("2023年度预算执行审计", "3", 15_000.0, "部分整改", False),
    ]


def test_header_variants_and_map_option(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["编号", "收件日期", "信访方式", "署名情况", "被反映人单位", "问题性质", "主要内容", "来件去向"]
    rows = [["X-1", "2024-01-02", "走访", "实名", "教育局", "廉洁纪律", "吃拿卡要", "初核"]]
    path = write_csv(tmp_path / "variants.csv", header, rows)
    res = zt("ingest", "--db", db, path)
    assert res.code == 0, res.err
    assert q(db, "SELECT petition_no, channel, signed, unit_name, category, disposition FROM petitions") == [
        ("X-1", "来访", True, "县教育局", "廉洁纪律", None)]
    # a one-off header mapped on the command line; the corrected record updates, not duplicates
    res = zt("ingest", "--db", db, "--map", "来件去向=disposition", path)
    assert res.code == 0, res.err
    assert q(db, "SELECT petition_no, disposition FROM petitions") == [("X-1", "初步核实")]


def test_kind_recognised_and_units_loaded_first_whatever_the_order(db, tmp_path, zt):
    p = write_csv(tmp_path / "p.csv", PETITION_HEADER, [petition("XF-1", "2024-01-01")])
    res = zt("ingest", "--db", db, p, roster(tmp_path))
    assert res.code == 0, res.err
    assert q(db, "SELECT kind, rows_loaded FROM ingest_runs ORDER BY run_id") == [("units", 4), ("petitions", 1)]


def test_a_folder_loads_its_ledgers_and_skips_excel_lock_files(db, tmp_path, zt):
    folder = tmp_path / "台账"
    folder.mkdir()
    roster(folder)
    write_csv(folder / "信访.csv", PETITION_HEADER, [petition("XF-1", "2024-03-05")], encoding="utf-8")
    (folder / "~$信访.xlsx").write_bytes(b"\x00lock")  # Excel's owner file beside an open workbook
    (folder / "说明.txt").write_text("不是台账", encoding="utf-8")
    res = zt("ingest", "--db", db, folder)
    assert res.code == 0, res.err
    assert q(db, "SELECT count(*) FROM units")[0][0] > 3
    assert q(db, "SELECT petition_no FROM petitions") == [("XF-1",)]
    assert q(db, "SELECT count(*) FROM ingest_runs")[0][0] == 2


def test_month_only_dates_keep_their_precision(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    rows = [petition("XF-1", "2012年2月"), petition("XF-2", "2015/3", 办结日期="2015年3月"), petition("XF-3", "2015-03-20", 办结日期="2015年3月"),
            petition("XF-4", "2015-04-02", 办结日期="2015年3月")]
    assert zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, rows)).code == 0
    assert q(db, "SELECT petition_no, received_date, closed_date, date_precision FROM petitions ORDER BY 1") == [
        ("XF-1", dt.date(2012, 2, 1), None, "received_date=month"),
        ("XF-2", dt.date(2015, 3, 1), dt.date(2015, 3, 1), "received_date=month;closed_date=month"),
        ("XF-3", dt.date(2015, 3, 20), dt.date(2015, 3, 1), "closed_date=month"),  # closed some day in March: possible
    ]
    # closed in March but received in April is impossible whatever the day
    assert q(db, "SELECT source_row, reason FROM rejected_rows") == [(5, "办结日期：办结日期早于受理日期")]


def test_set_gives_a_missing_column_a_constant_and_is_recorded(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["信访编号", "受理日期", "被反映单位", "问题类别", "反映内容"]
    rows = [["W-1", "2024-01-02", "县教育局", "廉洁纪律", "留言板：反映乱收费"]]
    path = write_csv(tmp_path / "留言板.csv", header, rows)
    res = zt("ingest", "--db", db, path)
    assert res.code == 2 and "--set 来源渠道=值" in res.err and "--set 是否署名=值" in res.err
    res = zt("ingest", "--db", db, "--set", "来源渠道=网络举报", "--set", "是否署名=匿名", path)
    assert res.code == 0, res.err
    assert q(db, "SELECT petition_no, channel, signed FROM petitions") == [("W-1", "网络举报", False)]
    (constants,) = q(db, "SELECT constants FROM ingest_runs WHERE kind = 'petitions'")[0]
    assert json.loads(constants) == {"channel": "网络举报", "signed": "匿名"}
    res = zt("ingest", "--db", db, "--set", "天气=晴", path)
    assert res.code == 2 and "--set names unknown column" in res.err


def test_value_aliases_and_a_fourwinds_label_in_the_category(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    rows = [petition("XF-1", 来源渠道="中央纪委国家监委网站举报", 问题类别="享乐主义"),
            petition("XF-2", 来源渠道="信访局转来", 问题类别="违反中央八项规定精神"),
            petition("XF-3", 来源渠道="托人带话", 问题类别="组织纪律")]
    assert zt("ingest", "--db", db, write_csv(tmp_path / "p.csv", PETITION_HEADER, rows)).code == 0
    assert q(db, "SELECT petition_no, channel, category, fourwinds FROM petitions ORDER BY 1") == [
        ("XF-1", "网络举报", "廉洁纪律", "享乐主义"), ("XF-2", "上级转办", "廉洁纪律", None), ("XF-3", None, "组织纪律", None)]
    (note,) = q(db, "SELECT note FROM data_quality_notes")[0]
    assert "托人带话" in note and "取值别名表" in note  # the README names the file behind the word


def test_unit_inside_a_longer_header_and_english_names_only_where_listed(db, tmp_path, zt):
    zt("ingest", "--db", db, roster(tmp_path))
    header = ["案件编号", "受处分人姓名", "被处分人工作单位（部门）", "违纪类型", "四种形态", "处分决定时间", "rank"]
    rows = [["AJ-1", "张三", "县教育局", "廉洁纪律", "2", "2024-05-01", "3"]]
    res = zt("ingest", "--db", db, write_csv(tmp_path / "处分台账.csv", header, rows))
    assert res.code == 0, res.err
    assert q(db, "SELECT case_no, unit_name, rank FROM cases") == [("AJ-1", "县教育局", None)]
    (message,) = q(db, "SELECT message FROM ingest_runs WHERE kind = 'cases'")[0]
    assert "rank" in message  # an English header is not taken as the column of the same name: it is reported unused


def test_missing_required_column_names_the_closest_header(db, tmp_path, zt):
    header = [h if h != "受理日期" else "来件收文时间" for h in PETITION_HEADER]
    res = zt("ingest", "--db", db, roster(tmp_path), write_csv(tmp_path / "p.csv", header, [petition("A")]))
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert "“来件收文时间”" in res.err and "--map 来件收文时间=received_date" in res.err
