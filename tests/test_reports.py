"""`zhengtai report` on a real county warehouse (generate --scale county --seed 7 → init → ingest → build):
every format, every section, the report's numbers against the warehouse's, no personal identifiers,
team scope, and the user errors.

The county is built once per test run and shared with tests/test_notebooks.py (see county_warehouse);
every test is self-contained otherwise, so the tests can spread over xdist workers without repeating work.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import duckdb
import pytest

from pipelines.reports import wording as W
from tests.dashboard_county import foreign_names, shared_county

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reports_county")]

PERIOD = "2024Q4"


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


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_each_format_has_every_section_stamp_caveat_and_figures_and_no_identifiers(county, identifiers, tmp_path, fmt):
    from pipelines.reports import charts
    from pipelines.reports.report import generate

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = generate(county, PERIOD, tmp_path / f"报告.{fmt}")
    text = _docx_text(written.path) if fmt == "docx" else written.path.read_text(encoding="utf-8")

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
    else:
        import docx

        d = docx.Document(str(written.path))
        assert len(d.inline_shapes) == 3
        assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == list(W.SECTIONS.values())

    assert len(identifiers["pseudonyms"]) > 100  # the county has people: the checks below are not vacuous
    words = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)  # the figures' bytes are not text
    for kind, values in identifiers.items():
        assert not [v for v in values if v in words], kind


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

    with pytest.raises(UserError, match="unknown report format 'pdf'"):
        generate(county, PERIOD, tmp_path / "r.pdf", fmt="pdf")
    res = zt("report", "--db", tmp_path / "none.duckdb", "--period", PERIOD, "--out", tmp_path / "r.md")
    assert res.code == 2 and "does not exist" in res.err
    res = zt("report", "--db", county, "--period", PERIOD, "--out", tmp_path / "no" / "r.md")
    assert res.code == 2 and "folder" in res.err


def test_an_unbuilt_warehouse_is_a_user_error(db, tmp_path, zt):
    res = zt("report", "--db", db, "--period", PERIOD, "--out", tmp_path / "r.md")
    assert res.code == 2 and "no build results" in res.err
