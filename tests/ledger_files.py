"""Small hand-made ledgers for ingestion tests: exact rows, so every expected figure is known."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import xlsxwriter

UNIT_HEADER = ["序号", "单位名称", "简称", "单位类别", "所属领域", "派驻组", "编制人数", "年度预算（万元）", "主要负责人"]
UNIT_ROWS = [
    [1, "县教育局", "教育局、县教体局", "部门", "教育", "第一派驻组", 45, 1200.5, "张伟"],
    [2, "县卫生健康局", "县卫健局", "行政单位", "卫生健康", "第二派驻组", "３８", 800, "李娜"],
    [3, "城关镇人民政府", "城关镇", "镇", "乡镇", "第三派驻组", 120, 2000, "王强"],
    [4, "县市场监督管理局", "", "部门", "市场监管", "第二派驻组", 60, "1,500", "陈静"],
]

PETITION_HEADER = ["信访编号", "受理日期", "来源渠道", "是否署名", "举报人", "联系电话", "被反映单位", "被反映人",
                   "被反映人职务", "是否班子成员", "问题类别", "反映内容", "处置方式", "办理结果", "办结日期"]


def petition(no: str, received: object = "2024-03-05", unit: str = "县教育局", **kw: object) -> list[object]:
    row = {
        "信访编号": no, "受理日期": received, "来源渠道": "来信", "是否署名": "匿名", "举报人": "", "联系电话": "",
        "被反映单位": unit, "被反映人": "", "被反映人职务": "", "是否班子成员": "否", "问题类别": "工作纪律",
        "反映内容": "工作作风问题", "处置方式": "", "办理结果": "", "办结日期": "",
    }
    row.update({k: v for k, v in kw.items()})
    return [row[h] for h in PETITION_HEADER]


def write_xlsx(path: Path, header: list[str], rows: list[list[object]], *, title: str | None = None,
               sheet: str = "Sheet1", group: tuple[int, int, str] | None = None, date_cells: bool = False) -> Path:
    """An .xlsx as analysts make them: optional merged title row, optional two-row header with a merged group."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    date_fmt = wb.add_format({"num_format": "yyyy/m/d"})
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(header) - 1, title)
        r = 1
    if group:
        first, last, text = group
        for j, h in enumerate(header):
            if first <= j <= last:
                continue
            ws.merge_range(r, j, r + 1, j, h)
        ws.merge_range(r, first, r, last, text)
        for j in range(first, last + 1):
            ws.write(r + 1, j, header[j])
        r += 2
    else:
        ws.write_row(r, 0, header)
        r += 1
    for row in rows:
        for j, v in enumerate(row):
            if isinstance(v, dt.date) and date_cells:
                ws.write_datetime(r, j, dt.datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, dt.date):
                ws.write(r, j, v.isoformat())
            elif v is None or v == "":
                continue
            else:
                ws.write(r, j, v)
        r += 1
    wb.close()
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]], *, encoding: str = "utf-8",
              title: str | None = None, blank_lines: bool = False) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        if title:
            fh.write(title + "\n")
        w = csv.writer(fh)
        w.writerow(header)
        for i, row in enumerate(rows):
            w.writerow(["" if v is None else v for v in row])
            if blank_lines and i == 0:
                fh.write("\n")
    return path


def write_xls(path: Path, header: list[str], rows: list[list[object]], *, title: str | None = None) -> Path:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    r = 0
    if title:
        ws.write(0, 0, title)
        r = 1
    for j, h in enumerate(header):
        ws.write(r, j, h)
    for row in rows:
        r += 1
        for j, v in enumerate(row):
            if v not in (None, ""):
                ws.write(r, j, v)
    wb.save(str(path))
    return path


def roster(dirpath: Path) -> Path:
    return write_xlsx(dirpath / "单位名册.xlsx", UNIT_HEADER, UNIT_ROWS, title="2024年驻在单位名册")


def q(db, sql, *params):
    """Rows of a query on a warehouse file, opened read-only and closed again."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
