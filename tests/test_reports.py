"""`zhengtai report` on a real county warehouse (generate --scale county --seed 7 → init → ingest → build):
every format, every section, the report's numbers against the warehouse's, no personal identifiers,
team scope, and the user errors.

The county is built once per test run and shared with tests/test_notebooks.py (see county_warehouse);
every test is self-contained otherwise, so the tests can spread over xdist workers without repeating work.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import duckdb
import pytest

from pipelines import vocabulary
from pipelines.reports import wording as W
from tests import user_text
from tests.dashboard_county import foreign_names, shared_county

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reports_county")]

PERIOD = "2024Q4"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def county_warehouse(tmp_path_factory) -> Path:
    """The county warehouse the report, notebook and dashboard tests all read: built once per test run by
    the first worker to ask (tests.dashboard_county.shared_county)."""
    return shared_county(tmp_path_factory)


def county_truth(db: Path) -> Path:
    return db.parent / "ledgers" / "truth.json"


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    return county_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def reports(county, tmp_path_factory):
    """One report per format with its figures, written once for the module's tests (a PDF with charts takes
    seconds: the tests read the same files). Returns (Written, matplotlib warnings while writing it)."""
    from pipelines.reports.report import generate

    folder = tmp_path_factory.mktemp("reports")
    cache: dict[str, tuple] = {}

    def get(fmt: str):
        if fmt not in cache:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cache[fmt] = (generate(county, PERIOD, folder / f"报告.{fmt}"), list(caught))
        return cache[fmt]

    return get


@pytest.fixture(scope="module")
def identifiers(county) -> dict[str, set[str]]:
    """What must never appear in a report: every pseudonym in the warehouse, and the synthetic people's
    names, ID numbers and phone numbers from truth.json."""
    columns = _sql(county, """SELECT table_name, column_name FROM information_schema.columns
                              WHERE column_name LIKE '%\\_pid' ESCAPE '\\'""")
    pids = set()
    for table, column in columns:
        pids |= {r[0] for r in _sql(county, f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")}
    people = json.loads(county_truth(county).read_text(encoding="utf-8"))["people"]
    return {
        "pseudonyms": pids,
        # Three-character names only: a two-character name can be an ordinary word of the report's prose.
        "names": {p["name"] for p in people if len(p["name"]) >= 3},
        "numbers": {p[k] for p in people for k in ("id_number", "phone") if p.get(k)},
    }


def _sql(db: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    parts += [p.text for p in d.sections[0].footer.paragraphs]
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "pdf"])
def test_each_format_has_every_section_stamp_caveat_and_figures_and_no_identifiers(county, identifiers, reports, fmt):
    from pipelines.reports import charts

    written, caught = reports(fmt)
    text = {"docx": _docx_text, "pdf": _pdf_text}.get(fmt, lambda p: p.read_text(encoding="utf-8"))(written.path)
    if fmt == "pdf":  # a PDF breaks lines where the page does: compare the words without line breaks
        text = text.replace("\r", "").replace("\n", "")

    positions = [text.find(title) for title in W.SECTIONS.values()]
    assert -1 not in positions, [t for t, p in zip(W.SECTIONS.values(), positions) if p < 0]
    assert positions == sorted(positions), "sections out of order"
    assert W.CAVEAT in text
    build_id = _sql(county, "SELECT build_id FROM build_runs ORDER BY built_at DESC LIMIT 1")[0][0]
    assert build_id in text and "生成时间" in text and "2024年第4季度" in text

    assert charts.cjk_font() is not None, "no CJK font found: install fonts-noto-cjk"
    # matplotlib warns "Glyph … missing from font(s)" for every Chinese character it draws as a box
    assert not [str(w.message) for w in caught if "missing from" in str(w.message)]
    if fmt == "html":
        assert text.count('src="data:image/png;base64,') == 3
    elif fmt == "md":
        figures = [p for p in written.files if p.suffix == ".png"]
        assert len(figures) == 3 and all(p.read_bytes()[:4] == b"\x89PNG" and f"]({p.name})" in text for p in figures)
    elif fmt == "docx":
        import docx

        d = docx.Document(str(written.path))
        assert len(d.inline_shapes) == 3
        learned = [vocabulary.word("learning_report", k) for k in ("section", "appendix")]  # pipelines/ml's part
        assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == \
            list(W.SECTIONS.values()) + learned + [W.DEFINITIONS_HEAD]
    else:
        assert written.path.read_bytes()[:5] == b"%PDF-"
        assert _pdf_images(written.path) == 3

    assert len(identifiers["pseudonyms"]) > 100  # the county has people: the checks below are not vacuous
    words = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)  # the figures' bytes are not text
    for kind, values in identifiers.items():
        assert not [v for v in values if v in words], kind
    if fmt == "html":  # the markup itself is not read: its visible text is
        words = re.sub(r"<style>.*?</style>|<[^>]+>", " ", words, flags=re.S)
    assert user_text.problems(words) == []


def _fonts(page) -> set[str]:
    """Base names of the fonts a PDF page's text is set in (embedded subsets carry a 6-letter prefix)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    names = set()
    for obj in page.get_objects():
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
            size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
            buf = ctypes.create_string_buffer(size)
            pdfium_c.FPDFFont_GetBaseFontName(font, buf, size)
            names.add(buf.value.decode())
    return names


def _pdf_images(path: Path) -> int:
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return sum(1 for page in pdf for obj in page.get_objects() if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE)
    finally:
        pdf.close()


def test_the_pdf_is_laid_out_in_chinese_fonts_on_a4_pages(reports):
    """A PDF report is a real PDF: A4 pages, the Noto CJK fonts embedded, and its first page, drawn as an
    image, carries the title in dark ink at the top and white margins around the text."""
    import numpy as np
    import pypdfium2

    out = reports("pdf")[0].path
    assert out.read_bytes()[:5] == b"%PDF-"
    pdf = pypdfium2.PdfDocument(str(out))
    try:
        assert len(pdf) >= 5
        fonts = _fonts(pdf[0])
        assert fonts and all(re.fullmatch(r"[A-Z]{6}\+Noto-S(?:ans|erif)-CJK-SC(?:-Bold)?", f) for f in fonts), fonts
        width, height = pdf[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        title = pdf[0].get_textpage().get_text_range()
        image = np.asarray(pdf[0].render(scale=1).to_pil().convert("L"))
        # a page we also looked at by eye (artifacts/report-page1.png when ZHENGTAI_KEEP_ARTIFACTS is set)
        if os.environ.get("ZHENGTAI_KEEP_ARTIFACTS"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pdf[0].render(scale=1.5).to_pil().save(ARTIFACTS / "report-page1.png")
    finally:
        pdf.close()
    assert "全县驻在单位政治生态分析研判报告" in title.replace("\r", "").replace("\n", "")
    ink = image < 128
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    assert len(rows) and rows[0] > 30 and cols[0] > 30 and cols[-1] < image.shape[1] - 30  # margins
    top = ink[: image.shape[0] // 6]
    assert top[:, image.shape[1] // 4: 3 * image.shape[1] // 4].mean() > 0.005  # a centred title, in ink
    assert 0.01 < ink.mean() < 0.3  # text, not a blank page or a black one


def test_word_tables_have_fixed_column_widths_and_figures_keep_their_captions(reports):
    import docx
    from docx.oxml.ns import qn

    d = docx.Document(str(reports("docx")[0].path))
    for table in d.tables[1:]:  # the first is the stamp block
        tbl = table._tbl
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        grid = [int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(grid) / 567 - 16.2) < 0.1  # twips → cm: the tables span the text width
    top = next(t for t in d.tables if t.rows[0].cells[-1].text == "主要风险来源")
    grid = [int(c.get(qn("w:w"))) / 567 for c in top._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert grid[-1] > 5 and grid[1] > 3.5  # 主要风险来源 and 单位 get room, 名次 does not
    body = d.element.body
    pictures = [p for p in d.paragraphs if p._p.xpath(".//w:drawing")]
    assert len(pictures) == 3
    for p in pictures:
        assert p.paragraph_format.keep_with_next
        caption = p._p.getnext()
        assert caption is not None and "".join(caption.itertext()).startswith("图")
    assert body is not None


def test_every_sentence_agrees_with_its_table(county, tmp_path):
    """The sentences and the tables of a section come from the same facts: their numbers agree."""
    from pipelines.reports.report import generate

    w = generate(county, PERIOD, tmp_path / "r.md", figures=False)
    md, f = w.path.read_text(encoding="utf-8"), w.facts

    def section(key: str) -> str:
        titles = list(W.SECTIONS.values())
        start = md.index(W.SECTIONS[key])
        nxt = titles.index(W.SECTIONS[key]) + 1
        return md[start: md.index(titles[nxt]) if nxt < len(titles) else len(md)]

    def table(text: str, first: str) -> list[list[str]]:
        """The rows of the Markdown table whose header starts with `first`."""
        for block in text.split("\n\n"):
            lines = block.strip().splitlines()
            if lines and lines[0].startswith(f"| {first} |"):
                return [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines[2:]]
        raise AssertionError(f"no table headed {first}")

    # 一: the grade sentence and the grade table
    one = section("overview")
    grades = {r[0]: int(r[1]) for r in table(one, "等级")}
    assert f"红色{grades['红']}个、橙色{grades['橙']}个、黄色{grades['黄']}个、绿色{grades['绿']}个" in one
    # 五: the totals sentence and the special-areas table, and no area in the table said to have nothing
    five = section("special")
    rows = table(five, "领域")
    assert rows, "the county has special-area petitions in 2024Q4"
    sums = [sum(int(r[i]) for r in rows) for i in range(1, 6)]
    assert (f"本期共收到相关信访举报{sums[0]}件" in five and f"属实或部分属实{sums[1]}件" in five
            and f"不属实或查无实据{sums[2]}件" in five and f"尚未办结{sums[3]}件" in five)
    assert all(int(r[5]) == int(r[1]) - int(r[3]) for r in rows)  # 计入风险指标 = not found unfounded
    for r in rows:
        assert f"{r[0]}领域本期未收到" not in five and not re.search(f"{r[0]}[^。]*本期无相关反映", five)
    for area in ("乡村振兴", "安全生产", "食品药品安全"):
        assert five.count(area) <= 3  # named in the intro, the table and at most one sentence: never twice over
    # 四: the rising rule is stated with both of its conditions, and the count is the flagged units'
    four = section("trend")
    assert "且上期也在上升" in four and f"本期{int(f.index.rising.sum())}个" in four
    by_unit = f.index.set_index("unit_name")
    for r in table(four, "单位"):  # changes are cut, never rounded up to a threshold they did not reach
        assert float(r[3]) == W.truncated(by_unit.change_prev[r[0]]) <= by_unit.change_prev[r[0]]
        assert (r[7] == "是") == bool(by_unit.rising[r[0]])
    # 九: every finding quotes the warnings as they are
    nine = section("problems")
    for p in f.problems:
        if p["kind"] == "dimension":
            part = f.warnings[f.warnings.dimension_zh == p["dimension_zh"]]
            assert f"{p['dimension_zh']}方面：本期预警{len(part)}项，涉及{part.unit_name.nunique()}个单位" in nine
            for name, n in p["indicators"]:
                assert n == part[part.indicator_zh == name].unit_name.nunique()
                assert f"{name}（{n}个单位）" in nine
    assert "（一）主要问题" in nine and "（二）工作建议" in nine
    assert nine.count("\n1. ") == 2  # findings and suggestions, numbered alike


def test_numbers_in_the_report_are_the_warehouse_numbers(county, tmp_path):
    from pipelines.reports.report import generate

    md = generate(county, PERIOD, tmp_path / "r.md", figures=False).path.read_text(encoding="utf-8")
    rows = _sql(county, """SELECT grade, count(*) FROM unit_scores
                           WHERE grain = 'quarter' AND period = ? AND level = 'index' GROUP BY grade""", [PERIOD])
    grades = {g: n for g, n in rows}
    assert (f"红色{grades.get('红', 0)}个、橙色{grades.get('橙', 0)}个、黄色{grades.get('黄', 0)}个、"
            f"绿色{grades.get('绿', 0)}个") in md
    unit, score, sector = _sql(county, """SELECT s.unit_name, s.score, u.sector FROM unit_scores s JOIN units u USING (unit_name)
                                          WHERE grain = 'quarter' AND period = ? AND level = 'index' AND rank = 1""",
                               [PERIOD])[0]
    assert f"| 1 | {unit} | {sector} | {score:.1f} |" in md
    mean = _sql(county, "SELECT avg(score) FROM unit_scores WHERE grain = 'quarter' AND period = ? AND level = 'index'",
                [PERIOD])[0][0]
    assert f"综合指数平均{mean:.1f}分" in md
    n_warnings = _sql(county, "SELECT count(*) FROM warnings WHERE grain = 'quarter' AND period = ?", [PERIOD])[0][0]
    assert f"本期触发预警{n_warnings}项" in md
    # one subsection per 红/橙 unit, riskiest first
    focus = [r[0] for r in _sql(county, """SELECT unit_name FROM unit_scores WHERE grain = 'quarter' AND period = ?
                                           AND level = 'index' AND grade IN ('红', '橙') ORDER BY rank, unit_name""",
                                [PERIOD])]
    heads = re.findall(r"^### \d+\. (\S+?)（[红橙]色，第", md, flags=re.M)
    assert heads == focus
    # pooled inspection rectification rate: Σ rectified / Σ due over the units
    num, den = _sql(county, """SELECT sum(numerator), sum(denominator) FROM indicator_values WHERE grain = 'quarter'
                               AND period = ? AND indicator_id = 'inspection_rectification_rate'""", [PERIOD])[0]
    assert f"截至期末到期{round(den)}个，已完成整改（含长期坚持）{round(num)}个，整改完成率{num / den * 100:.1f}%" in md
    # the records behind the top unit's warnings, counted as the evidence table holds them
    evidence = _sql(county, """SELECT count(DISTINCT (e.source_table, e.record_key)) FROM warning_evidence e
                               JOIN warnings w USING (warning_id)
                               WHERE w.grain = 'quarter' AND w.period = ? AND w.unit_name = ?""", [PERIOD, focus[0]])[0][0]
    section = md.split(f"### 1. {focus[0]}")[1].split("### 2.")[0]
    assert (f"预警依据的台账记录共{evidence}条" in section) if evidence else ("预警无逐条台账依据" in section)


def test_team_report_names_only_the_teams_units(county, tmp_path, zt):
    rows = _sql(county, "SELECT team, unit_name FROM units ORDER BY team, unit_name")
    team = rows[0][0]
    own = [u for t, u in rows if t == team]
    others = [u for t, u in rows if t != team]
    short = team.replace("县纪委监委", "").replace("纪检监察组", "")  # a unique part of the name will do
    out = tmp_path / "team.md"
    res = zt("report", "--db", county, "--period", PERIOD, "--team", short, "--out", out, "--no-figures")
    assert res.code == 0, res.err
    assert res.out.startswith(f"已生成报告 {out}（Markdown）：2024年第4季度，{len(own)}个单位") and user_text.problems(res.out.replace(str(out), "")) == []
    text = out.read_text(encoding="utf-8")
    assert f"{team}驻在单位政治生态分析研判报告" in text
    assert f"共{len(own)}个单位" in text
    assert foreign_names(text, own, others) == []
    assert not list(tmp_path.glob("*.png"))  # --no-figures


def test_a_period_without_history_or_monte_carlo_still_reads(county, tmp_path, zt):
    out = tmp_path / "first.html"
    res = zt("report", "--db", county, "--period", "2022q1", "--out", out, "--no-figures")
    assert res.code == 0, res.err
    text = out.read_text(encoding="utf-8")
    assert W.NO_PREV in text and W.NO_YOY in text
    assert W.SENS_NONE in text
    assert all(title in text for title in W.SECTIONS.values())


@pytest.mark.parametrize("args, message", [
    (["--period", "2031Q1"], "valid periods: 2022Q1, 2022Q2"),
    (["--period", "2024-06"], "reports cover a quarter"),
    (["--period", "Q4"], "valid periods"),
    (["--period", "2024Q4", "--team", "第九十九"], "is not a team of the unit roster; teams: "),
    (["--period", "2024Q4", "--team", "派驻"], "matches several teams"),
])
def test_user_errors_are_one_line(county, tmp_path, zt, args, message):
    out = tmp_path / "r.docx"
    res = zt("report", "--db", county, "--out", out, *args)
    assert res.code == 2
    assert message in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_database_folder_and_unknown_format_are_user_errors(county, tmp_path, zt):
    from pipelines.errors import UserError
    from pipelines.reports.report import generate

    with pytest.raises(UserError, match="unknown report format 'odt'"):
        generate(county, PERIOD, tmp_path / "r.odt", fmt="odt")
    with pytest.raises(UserError, match="does not name a docx file"):  # never Word bytes under a .pdf name
        generate(county, PERIOD, tmp_path / "r.pdf", fmt="docx")
    res = zt("report", "--db", county, "--period", PERIOD, "--out", tmp_path / "r.txt")
    assert res.code == 2 and ".pdf" in res.err and not (tmp_path / "r.txt").exists()
    res = zt("report", "--db", county, "--period", PERIOD, "--out", tmp_path / "r.pdf", "--format", "docx")
    assert res.code == 2 and "does not name a docx file" in res.err and not (tmp_path / "r.pdf").exists()
    res = zt("report", "--db", tmp_path / "none.duckdb", "--period", PERIOD, "--out", tmp_path / "r.md")
    assert res.code == 2 and "does not exist" in res.err
    res = zt("report", "--db", county, "--period", PERIOD, "--out", tmp_path / "no" / "r.md")
    assert res.code == 2 and "folder" in res.err


def test_a_report_is_owner_only_whatever_the_umask(county, tmp_path):
    """Written from a notebook or a shell with umask 0022, over a report left world-readable: 0600."""
    from pipelines.reports.report import generate

    out = tmp_path / "r.md"
    out.write_text("old", encoding="utf-8")
    os.chmod(out, 0o644)
    old = os.umask(0o022)
    try:
        written = generate(county, PERIOD, out, figures=False)
    finally:
        os.umask(old)
    assert written.files == [out] and out.read_text(encoding="utf-8") != "old"
    assert out.stat().st_mode & 0o777 == 0o600


def test_an_unbuilt_warehouse_is_a_user_error(db, tmp_path, zt):
    res = zt("report", "--db", db, "--period", PERIOD, "--out", tmp_path / "r.md")
    assert res.code == 2 and "no build results" in res.err


@pytest.mark.parametrize("colour, ink", [("#67000d", "white"), ("#fff5f0", "#222"), ("#d62728", "white"),
                                         ("#f2c200", "#222"), ("#2ca02c", "#222"), ("#1f3b73", "white")])
def test_numbers_on_coloured_cells_take_the_contrasting_ink(colour, ink):
    """Darkest and palest Reds, the four grade colours and the dashboard's navy (notebooks and report figures)."""
    from pipelines.reports.charts import ink_on

    assert ink_on(colour) == ink


def test_the_appendix_gives_every_indicator_its_definition_and_rule(county, reports):
    """附录：the catalogue as the build stored it — each indicator once, with its 口径 in words and its rule."""
    text = reports("md")[0].path.read_text(encoding="utf-8")
    appendix = text[text.index(W.DEFINITIONS_HEAD):]
    assert text.index(W.SECTIONS["method"]) < text.index(W.DEFINITIONS_HEAD)
    rows = [line.split(" | ") for line in appendix.splitlines() if line.startswith("| ") and "---" not in line][1:]
    catalogue = _sql(county, """SELECT name_zh, definition_zh, coalesce(threshold_rule, '') FROM indicator_catalogue
                                WHERE build_id = (SELECT build_id FROM build_runs ORDER BY built_at DESC LIMIT 1)""")
    assert sorted(r[1] for r in rows) == sorted(c[0] for c in catalogue)
    by_name = {c[0]: c for c in catalogue}
    for r in rows:
        name, definition, rule = by_name[r[1]]
        assert r[2] == definition and definition.endswith("。")
        assert r[3].rstrip(" |") == rule or (not rule and r[3].startswith("不预警"))
    assert user_text.problems(appendix) == []
