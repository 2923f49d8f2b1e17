"""End to end through the CLI: synthetic county → init → ingest → build → scores, explain, evaluate."""

from __future__ import annotations

import json

import pytest

from pipelines.cli import main

pytest.importorskip("pipelines.synth.commands")
pytest.importorskip("pipelines.ingest.commands")

FAST = """
grains: [quarter, year, rolling12]
uncertainty: {draws: 60, grains: [year]}
"""


@pytest.mark.slow
def test_county_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZHENGTAI_KEY_FILE", str(tmp_path / "key"))
    out, db = tmp_path / "county", tmp_path / "w.duckdb"
    assert main(["generate", "--scale", "county", "--seed", "7", "--out", str(out)]) == 0
    assert main(["init", "--db", str(db)]) == 0
    files = sorted(out.glob("*.xlsx")) + sorted(out.glob("*.csv"))
    assert len(files) >= 8  # the roster and every ledger kind
    # One call, as a user would make it (the roster loads first whatever the order): every file must load.
    capsys.readouterr()
    assert main(["ingest", "--db", str(db), "--quiet", *map(str, files)]) == 0, capsys.readouterr().err
    settings = tmp_path / "fast.yaml"
    settings.write_text(FAST, encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "--db", str(db), "--settings", str(settings)]) == 0
    built = capsys.readouterr().out
    assert "42个单位" in built and "最新一期预警：季度 2024年第4季度" in built

    assert main(["scores", "--db", str(db), "--period", "2024", "--format", "json"]) == 0
    ranking = json.loads(capsys.readouterr().out)
    assert len(ranking) == 42 and ranking[0]["rank"] == 1

    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    story_unit = truth["risky_units"][0]
    assert main(["explain", "--db", str(db), "--unit", story_unit, "--period", "2024"]) == 0
    assert "政治生态风险指数" in capsys.readouterr().out

    assert main(["evaluate", "--db", str(db), "--truth", str(out / "truth.json"), "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    year = res["periods"][0]
    assert year["period"] == "2024" and len(year["stories"]) == len(truth["stories"])
    assert all(s["rank"] is not None for s in year["stories"])
    assert 0 <= year["precision_at_k"] <= 1 and year["auc"] is not None
