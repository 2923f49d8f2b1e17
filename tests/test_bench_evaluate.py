"""bench/bench_evaluate.py as a user runs it: a county of a fixed seed end to end (generate, init, ingest, build,
evaluate) with its summary, and the summary's arithmetic and the random draw of seeds on their own."""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("bench_evaluate")


def bench():
    spec = importlib.util.spec_from_file_location("bench_evaluate", REPO / "bench" / "bench_evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_runs_a_county_and_its_figures_agree_with_its_stories(tmp_path):
    settings = tmp_path / "fast.yaml"
    settings.write_text("uncertainty: {draws: 40}\n", encoding="utf-8")
    out = tmp_path / "evaluate.json"
    done = subprocess.run([sys.executable, "bench/bench_evaluate.py", "--seeds", "20261201", "--jobs", "1",
                           "--settings", str(settings), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("seeds: 20261201\n") and f"wrote {out}" in done.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["seeds"] == [20261201] and result["settings"] == str(settings)
    summary, (run,) = result["summary"], result["runs"]
    for p in run["periods"]:
        risky = {s["unit_name"] for s in p["stories"].values() if s["type"] != "decoy"}
        hits = {s["unit_name"] for s in p["stories"].values() if s["type"] != "decoy" and s["rank"] <= p["k"]}
        assert p["k"] == len(risky) and p["precision_at_k"] == round(len(hits) / p["k"], 3)
        assert 0.5 <= p["auc"] <= 1
        g = summary[p["grain"]]
        assert g["seeds"] == 1 and g["precision_at_k"]["mean"] == p["precision_at_k"] and g["precision_at_k"]["sd"] == 0
        assert g["decoys"] == len(p["decoy_ranks"]) == 1 and g["decoy_rank"]["mean"] == p["decoy_ranks"][0]
        # the grading rule's promise on a county no one tuned on: the decoy is never 红 or 橙
        assert g["decoy_in_red_or_orange"] == 0 and p["decoy_grades"][0] in ("黄", "绿")
    # the hard checks of the rule, over every unit-period of every grain of the build
    assert set(summary["checks"]) == {"record_less_coloured", "zero_score_coloured", "red_orange_unsupported",
                                      "thin_red_warnings", "degenerate_periods", "graded_months"}
    assert summary["checks"] == dict.fromkeys(summary["checks"], 0)


def test_the_summary_gives_mean_spread_and_range_over_seeds():
    b = bench()

    def run(seed, precision, auc, decoy_rank, decoy_grade, violations):
        return {"seed": seed, "checks": {"record_less_coloured": violations}, "decoy_periods_red_orange": 0,
                "periods": [{"grain": "year", "period": "2024", "units": 40, "k": 6, "precision_at_k": precision,
                             "precision_at_10": 0.5, "recall_red_orange": 1.0, "auc": auc,
                             "decoy_ranks": [decoy_rank], "decoy_grades": [decoy_grade],
                             "stories": {"S1": {"type": "deteriorating", "unit_name": "甲", "rank": 9, "grade": "黄"}}}]}

    s = b.summarise([run(1, 1.0, 0.98, 20, "绿", 0), run(2, 0.5, 0.90, 10, "橙", 2), run(3, 0.75, 0.94, 30, "黄", 0)])
    year = s["year"]
    assert year["precision_at_k"] == {"mean": 0.75, "sd": round(statistics.stdev([1.0, 0.5, 0.75]), 3),
                                      "min": 0.5, "max": 1.0}
    assert year["auc"]["mean"] == 0.94 and year["decoy_rank"]["mean"] == 20.0
    assert year["decoy_grades"] == {"红": 0, "橙": 1, "黄": 1, "绿": 1, "none": 0} and year["decoy_in_red_or_orange"] == 1
    assert year["stories_outside_top_k"] == {"deteriorating": 3}
    assert s["checks"] == {"record_less_coloured": 2}


def test_seeds_are_drawn_afresh_for_every_run():
    b = bench()
    first, second = b.draw_seeds(24), b.draw_seeds(24)
    assert len(set(first)) == 24 and len(set(second)) == 24
    assert first != second  # two runs look at different counties (equal with probability ~1e-144)
