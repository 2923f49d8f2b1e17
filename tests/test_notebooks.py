"""Every notebook in notebooks/ runs headless (nbclient) against the county warehouse of test_reports
(generate --scale county --seed 7 → init → ingest → build, built once per test run), without errors,
within a minute, and shows what it is for. Notebooks are committed without outputs.

One test per notebook executes it and checks it, so notebooks can run on different xdist workers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import nbformat
import pytest

from tests.test_reports import county_truth, county_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reports_county")]

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
BUDGET_S = 60


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    return county_warehouse(tmp_path_factory)


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(nb) -> str:
    """Everything a reader sees: printed text, tables (HTML), markdown."""
    parts = []
    for o in _outputs(nb):
        parts.append(o.get("text", ""))
        for kind in ("text/html", "text/markdown", "text/plain"):
            parts.append(o.get("data", {}).get(kind, ""))
    return "\n".join(parts)


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def _top(county: Path) -> tuple[str, float]:
    con = duckdb.connect(str(county), read_only=True)
    try:
        return con.execute("""SELECT unit_name, score FROM unit_scores WHERE grain = 'quarter' AND level = 'index'
                              AND period = (SELECT max(period) FROM unit_scores WHERE grain = 'quarter')
                              ORDER BY rank, unit_name LIMIT 1""").fetchall()[0]
    finally:
        con.close()


def check_county_overview(nb, text: str, county: Path) -> None:
    unit, score = _top(county)
    assert "综合指数排名 2024Q4" in text
    assert "rank_p05" in text and unit in text and f"{score:.1f}" in text  # the ranking table, top unit first
    assert "normalisation" in text and "first_order" in text  # sensitivity shares
    assert "cronbach_alpha" in text
    assert _images(nb) >= 4  # grade trend, heatmap, rank intervals, sensitivity


def check_unit_deep_dive(nb, text: str, county: Path) -> None:
    unit, _ = _top(county)
    assert f"### {unit} · 2024Q4" in text
    assert "record_key" in text and "distinct records behind" in text
    assert "contributions add up to" in text
    people = json.loads(county_truth(county).read_text(encoding="utf-8"))["people"]
    assert not [p["name"] for p in people if len(p["name"]) >= 3 and p["name"] in text]
    assert _images(nb) >= 4


def check_method_robustness(nb, text: str, county: Path) -> None:
    gap = float(text.split("largest difference from the published scores: ")[1].split()[0])
    assert gap < 1e-6
    for variant in ("zscore", "geometric", "equal weights", "spearman", "top10_kept"):
        assert variant in text
    assert "precision@" in text and "planted risky units" in text


CHECKS = {
    "01_county_overview.ipynb": check_county_overview,
    "02_unit_deep_dive.ipynb": check_unit_deep_dive,
    "03_method_robustness.ipynb": check_method_robustness,
}


def test_the_three_notebooks_are_there():
    assert set(CHECKS) <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_headless_without_errors_and_shows_its_findings(county, path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # The kernel is a child process: it inherits these.
    monkeypatch.setenv("ZHENGTAI_DB", str(county))
    monkeypatch.setenv("ZHENGTAI_TRUTH", str(county_truth(county)))
    monkeypatch.delenv("ZHENGTAI_PERIOD", raising=False)
    monkeypatch.delenv("ZHENGTAI_UNIT", raising=False)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=BUDGET_S * 2, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - start

    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    assert seconds < BUDGET_S, f"{path.name} took {seconds:.0f} s"
    text = _text(nb)
    assert "CJK font: None" not in text
    if path.name in CHECKS:
        CHECKS[path.name](nb, text, county)


def test_the_setup_installs_jupyterlab_to_open_them():
    """`./run notebooks` opens them in JupyterLab: the set-up must have installed it, and the entry exists."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "jupyterlab", "--version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and int(res.stdout.strip().split(".")[0]) >= 4, res.stderr
    run = (Path(__file__).resolve().parent.parent / "run").read_text(encoding="utf-8")
    assert "notebooks)" in run and "jupyter lab --notebook-dir=notebooks" in run
