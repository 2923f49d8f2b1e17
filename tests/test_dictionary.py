"""The data dictionary, the warehouse schema and the rendered DICTIONARY.md agree."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import dictionary
from pipelines.settings import DATA_DIR, SQL_DIR
from pipelines.warehouse import apply_schema

META = {"source_file", "source_sheet", "source_row", "run_id", "row_hash", "date_precision", "loaded_at"}


def test_every_dictionary_column_is_in_the_schema_with_its_type():
    d = dictionary.load()
    con = duckdb.connect()
    apply_schema(con)
    for kind in d.kinds.values():
        cols = {name: typ for name, typ in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [kind.name]).fetchall()}
        assert set(cols) == {c.name for c in kind.columns} | META, kind.name
        nullable = dict(con.execute("SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = ?",
                                    [kind.name]).fetchall())
        for c in kind.columns:
            assert cols[c.name] == c.sql_type, f"{kind.name}.{c.name}"
            # only what rejects a row when missing may be NOT NULL: everything else is stored as unknown
            assert (nullable[c.name] == "NO") == (c.rejects and c.required), f"{kind.name}.{c.name}"
        for k in kind.natural_key:
            assert kind.column(k).required, f"natural key {kind.name}.{k} must be required"


def test_every_column_has_a_chinese_header_a_meaning_and_unique_headers():
    d = dictionary.load()
    for kind in d.kinds.values():
        seen: dict[str, str] = {}
        for c in kind.columns:
            assert c.zh and c.doc, f"{kind.name}.{c.name}"
            for text in (c.zh, *kind.aliases.get(c.name, ())):
                norm = dictionary.normalise_header(text)
                assert seen.setdefault(norm, c.name) == c.name, f"{kind.name}: header {text} names two columns"
        for c in kind.columns:
            if c.type == "enum":
                assert c.values and all(v in c.values for _, v in c.value_aliases), f"{kind.name}.{c.name}"
            for _written, other, value in c.sets:
                target = kind.column(other)
                assert target.type == "enum" and value in target.values, f"{kind.name}.{c.name} → {other}={value}"


def test_value_aliases_name_real_columns():
    import yaml

    spec = yaml.safe_load((DATA_DIR / "value_aliases.yaml").read_text(encoding="utf-8"))
    d = dictionary.load()
    for kname, cols in spec.items():
        for cname in cols:
            assert d.kind(kname).column(cname).type == "enum", f"{kname}.{cname}"


def test_checks_reference_real_columns_and_parse():
    d = dictionary.load()
    con = duckdb.connect()
    apply_schema(con)
    for kind in d.kinds.values():
        for ch in kind.checks:
            con.execute(f"SELECT count(*) FROM {kind.name} WHERE NOT ({ch.sql})").fetchall()


def test_rendered_dictionary_is_current():
    rendered = dictionary.render_markdown() + "\n" + dictionary.render_results_markdown()
    assert (DATA_DIR / "DICTIONARY.md").read_text(encoding="utf-8") == rendered, "run `zhengtai dictionary`"


def test_results_tables_documented():
    tables = dictionary.sql_tables((SQL_DIR / "results.sql").read_text(encoding="utf-8"))
    assert {"indicator_values", "unit_scores", "warnings", "portraits", "build_runs"} <= set(tables)


@pytest.mark.parametrize("raw, expected", [
    ("涉及金额（万元）", "涉及金额"), (" 受理\n日期 ", "受理日期"), ("信访编号*", "信访编号"), ("金额(元)", "金额"), ("ＡＢ", "AB"),
])
def test_header_normalisation(raw, expected):
    assert dictionary.normalise_header(raw) == expected


def test_header_scale():
    assert dictionary.header_scale("涉及金额（万元）") == 10000 and dictionary.header_scale("金额(元)") == 1
