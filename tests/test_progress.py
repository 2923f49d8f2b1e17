"""Progress of ingest and build: plain lines with rows/s when stderr is not a terminal, a bar when it is."""

from __future__ import annotations

import io
import re

from rich.console import Console

from pipelines.progress import Reporter
from tests.ledger_files import PETITION_HEADER, petition, roster, write_csv


def test_ingest_writes_a_line_per_file_with_its_rate(db, tmp_path, zt):
    rows = [petition(f"XF-{i}", "2024-03-05") for i in range(30)]
    res = zt("ingest", "--db", db, roster(tmp_path), write_csv(tmp_path / "p.csv", PETITION_HEADER, rows))
    assert res.code == 0, res.err
    lines = res.err.splitlines()
    assert re.search(r"^ingest: 2 files, memory budget [\d.]+ GiB \(DuckDB [\d.]+ GiB\)", lines[0])
    assert any(re.search(r"^ingest: p\.csv: 30 rows in [\d.]+ s, [\d,]+ rows/s", ln) for ln in lines)
    assert lines[-1].startswith("ingest: committing")
    assert zt("ingest", "--db", db, "--quiet", tmp_path / "p.csv").err == ""


def test_reporter_draws_a_bar_with_the_rate_on_a_terminal():
    out = io.StringIO()
    rep = Reporter("build", total=4)
    rep.console = Console(file=out, force_terminal=True, width=120)
    rep.terminal = True
    with rep:
        rep.step("month: 36 periods × 45,047 units")
        rep.advance(1, rows=1000)
        rep.line("month: 1,000 unit-periods scored")
        assert rep.bar is not None and "rows/s" in rep.bar.tasks[0].fields["rate"]
    assert "build: month: 1,000 unit-periods scored" in out.getvalue()
