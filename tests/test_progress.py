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
    assert re.search(r"^导入：2个文件，内存预算 [\d.]+ GiB（DuckDB [\d.]+ GiB）", lines[0])
    assert any(re.search(r"^导入：p\.csv：30行，用时[\d.]+秒，[\d,]+行/秒", ln) for ln in lines)
    assert lines[-1].startswith("导入：提交")
    assert zt("ingest", "--db", db, "--quiet", tmp_path / "p.csv").err == ""


def test_reporter_draws_a_bar_with_the_rate_on_a_terminal():
    out = io.StringIO()
    rep = Reporter("构建", total=4)
    rep.console = Console(file=out, force_terminal=True, width=120)
    rep.terminal = True
    with rep:
        rep.step("month: 36 periods × 45,047 units")
        rep.advance(1, rows=1000)
        rep.line("month: 1,000 unit-periods scored")
        assert rep.bar is not None and "行/秒" in rep.bar.tasks[0].fields["rate"]
    assert "构建：month: 1,000 unit-periods scored" in out.getvalue()
