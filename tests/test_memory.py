"""The memory budget reaches DuckDB: memory_limit and temp_directory read back from the connections that
ingest and build open."""

from __future__ import annotations

import pytest

from pipelines import memory, warehouse
from tests.ledger_files import roster


def settings(con) -> dict[str, str]:
    return dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'temp_directory')")
                .fetchall())


@pytest.fixture(autouse=True)
def no_budget_in_env(monkeypatch):
    # setenv first so that monkeypatch records the variables and restores them afterwards (to absent, if they
    # were), also when a command under test (--memory) set them
    for name in (memory.ENV, memory.TEMP_ENV):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.parametrize("text, expected", [("4GiB", 4 << 30), ("4 GB", 4 * 10**9), ("3.5g", int(3.5 * (1 << 30))),
                                            ("512MiB", 512 << 20), ("1tib", 1 << 40)])
def test_sizes(text, expected):
    assert memory.parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "4 GiBs", "-1GB", "100MB", ""])
def test_bad_sizes_are_one_line(text):
    with pytest.raises(memory.UserError, match="memory budget"):
        memory.parse_size(text)


def test_default_budget_gives_duckdb_half(db):
    con = warehouse.connect(db)
    try:
        assert memory.parse_size(settings(con)["memory_limit"]) == pytest.approx(2 << 30, rel=0.01)
        assert settings(con)["temp_directory"].endswith("warehouse.duckdb.tmp")  # DuckDB's own: beside the warehouse
    finally:
        con.close()


def test_budget_and_temp_directory_from_the_environment(db, tmp_path, monkeypatch):
    monkeypatch.setenv(memory.ENV, "1GiB")
    monkeypatch.setenv(memory.TEMP_ENV, str(tmp_path / "spill"))
    con = warehouse.connect(db)
    try:
        got = settings(con)
        assert memory.parse_size(got["memory_limit"]) == pytest.approx(512 << 20, rel=0.01)
        assert got["temp_directory"] == str(tmp_path / "spill")
        assert (tmp_path / "spill").is_dir()
        # the build's second connection is a cursor of the same database: same limit
        assert memory.parse_size(settings(con.cursor())["memory_limit"]) == pytest.approx(512 << 20, rel=0.01)
    finally:
        con.close()


def test_explicit_budget_wins_over_the_environment(db, monkeypatch):
    monkeypatch.setenv(memory.ENV, "1GiB")
    con = warehouse.connect(db, budget=memory.Budget.resolve("3GiB"))
    try:
        assert memory.parse_size(settings(con)["memory_limit"]) == pytest.approx(1.5 * (1 << 30), rel=0.01)
    finally:
        con.close()


def test_memory_option_of_ingest_and_build(db, tmp_path, zt):
    res = zt("ingest", "--db", db, "--memory", "768MiB", roster(tmp_path))
    assert res.code == 0, res.err
    con = warehouse.connect(db)
    try:  # the option set the budget for the whole process: every connection it opens
        assert memory.parse_size(settings(con)["memory_limit"]) == pytest.approx(384 << 20, rel=0.01)
    finally:
        con.close()
    res = zt("build", "--db", db, "--memory", "lots")
    assert res.code == 2 and "memory budget 'lots' is not a size" in res.err and "Traceback" not in res.err
