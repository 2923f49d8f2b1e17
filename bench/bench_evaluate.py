"""How well the index finds the planted risk stories, over many synthetic counties drawn at random, written to JSON.

    .venv/bin/python bench/bench_evaluate.py [--n 24] [--seeds 7 11 ...] [--jobs 2] [--catalogue FILE]
                                             [--settings FILE] [--out bench/results/evaluate.json]

Each seed is a different county (names, sizes, base rates, which units carry which story). Seeds are drawn at
random for every run (from the operating system's entropy) unless --seeds names them, and are printed first,
so a run can be repeated (--seeds) to compare a change on the same counties. For each county the command runs
what a user runs — `zhengtai generate`, `init`, `ingest` (the folder), `build`, `evaluate --format json` — in a
scratch folder, and keeps, for the year and the rolling-12-month period, precision@k (k = number of planted risky
units), precision@10, AUC, the 红/橙 recall, the rank and grade of every story, the decoy included (a unit with many
petitions that all prove unfounded: it must stay out of 红/橙), and the hard checks of the grading rule over the
whole build (evaluate.checks: record-less units 绿, no zero score coloured, no red warning on thin records, no
degenerate period, no graded month).

The summary gives mean, standard deviation, min and max over the seeds; one seed is an anecdote. `--catalogue` /
`--settings` evaluate an analyst's variant against the same counties.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZT = [sys.executable, "-m", "pipelines.cli"]
DEFAULT_N = 24


def _run(args: list[str], env: dict) -> str:
    done = subprocess.run(ZT + args, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"zhengtai {' '.join(args[:1])} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def evaluate_seed(seed: int, work: Path, env: dict, catalogue: str | None, settings: str | None) -> dict:
    led, db = work / f"ledgers-{seed}", work / f"county-{seed}.duckdb"
    _run(["generate", "--scale", "county", "--seed", str(seed), "--out", str(led)], env)
    (work / "truth").mkdir(exist_ok=True)  # ground truth kept out of the folder the pipeline reads
    truth = (led / "truth.json").rename(work / "truth" / f"truth-{seed}.json")
    _run(["init", "--db", str(db)], env)
    _run(["ingest", "--quiet", "--db", str(db), str(led)], env)
    build = ["build", "--db", str(db), "--no-publish"]
    build += ["--catalogue", catalogue] if catalogue else []
    build += ["--settings", settings] if settings else []
    t0 = time.perf_counter()
    _run(build, env)
    seconds = time.perf_counter() - t0
    got = json.loads(_run(["evaluate", "--db", str(db), "--truth", str(truth), "--format", "json"], env))
    periods = []
    for p in got["periods"]:
        decoys = [s for s in p["stories"] if s["type"] == "decoy"]
        periods.append({
            "grain": p["grain"], "period": p["period"], "units": p["units"], "k": p["k"],
            "precision_at_k": p["precision_at_k"], "precision_at_10": p["precision_at_10"],
            "recall_red_orange": p["recall_red_orange"], "auc": p["auc"],
            "decoy_ranks": [d["rank"] for d in decoys], "decoy_grades": [d["grade"] for d in decoys],
            "stories": {s["story"]: {"type": s["type"], "unit_name": s["unit_name"], "rank": s["rank"],
                                     "grade": s["grade"]} for s in p["stories"]},
        })
    db.unlink(missing_ok=True)  # keep the scratch folder small over many seeds
    return {"seed": seed, "build_seconds": round(seconds, 2), "periods": periods, "checks": got.get("checks", {}),
            "decoy_periods_red_orange": got.get("decoy_periods_red_orange", 0)}


def _spread(xs: list[float]) -> dict | None:
    if not xs:
        return None
    return {"mean": round(statistics.fmean(xs), 3), "sd": round(statistics.stdev(xs), 3) if len(xs) > 1 else 0.0,
            "min": min(xs), "max": max(xs)}


def summarise(runs: list[dict]) -> dict:
    out = {}
    for grain in sorted({p["grain"] for r in runs for p in r["periods"]}):
        rows = [p for r in runs for p in r["periods"] if p["grain"] == grain]
        decoy = [(rank, grade) for p in rows for rank, grade in zip(p["decoy_ranks"], p["decoy_grades"])]
        missed = {}
        for p in rows:  # which story types fall outside the top k, and how often
            for s in p["stories"].values():
                if s["type"] != "decoy" and (s["rank"] is None or s["rank"] > p["k"]):
                    missed[s["type"]] = missed.get(s["type"], 0) + 1
        out[grain] = {
            "seeds": len(rows),
            "precision_at_k": _spread([float(p["precision_at_k"]) for p in rows]),
            "precision_at_10": _spread([float(p["precision_at_10"]) for p in rows]),
            "recall_red_orange": _spread([float(p["recall_red_orange"]) for p in rows]),
            "auc": _spread([float(p["auc"]) for p in rows]),
            "decoy_rank": _spread([float(rank) for p in rows for rank in p["decoy_ranks"]]),
            "decoy_rank_share": _spread([rank / p["units"] for p in rows for rank in p["decoy_ranks"]]),
            "decoy_grades": {g or "none": sum(1 for _, x in decoy if x == g) for g in ("红", "橙", "黄", "绿", None)},
            "decoy_in_red_or_orange": sum(g in ("红", "橙") for _, g in decoy),
            "decoys": len(decoy),
            "stories_outside_top_k": missed,
        }
    keys = sorted({k for r in runs for k in r["checks"]})
    out["checks"] = {k: sum(int(r["checks"].get(k, 0)) for r in runs) for k in keys}
    # information: the decoy's 红/橙 unit-periods over every grain (other records than its false reports)
    out["decoy_periods_red_orange_any_grain"] = sum(int(r.get("decoy_periods_red_orange", 0)) for r in runs)
    return out


def draw_seeds(n: int) -> list[int]:
    """n distinct counties drawn from the operating system's entropy: no one chooses them, so none is a favourite."""
    seeds: list[int] = []
    while len(seeds) < n:
        s = secrets.randbelow(10**6)
        if s not in seeds:
            seeds.append(s)
    return seeds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", help="counties to evaluate (default: --n seeds drawn at random)")
    ap.add_argument("--n", type=int, default=DEFAULT_N, help=f"how many random seeds (default {DEFAULT_N})")
    ap.add_argument("--jobs", type=int, default=2, help="counties evaluated at once (default 2)")
    ap.add_argument("--catalogue", help="indicator catalogue to evaluate (default data/indicators.yaml)")
    ap.add_argument("--settings", help="method settings merged over data/index_settings.yaml")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "evaluate.json"))
    args = ap.parse_args()
    seeds = args.seeds or draw_seeds(args.n)
    print("seeds: " + " ".join(map(str, seeds)), flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zt-eval-") as tmp:
        env = dict(os.environ, ZHENGTAI_KEY_FILE=str(Path(tmp) / "bench.key"))

        def one(seed: int) -> dict:
            try:
                run = evaluate_seed(seed, Path(tmp), env, args.catalogue, args.settings)
            except SystemExit as exc:  # a county the pipeline cannot run is a finding: kept, and the others run
                print(f"seed {seed}: FAILED {exc}", flush=True)
                return {"seed": seed, "failed": str(exc)}
            year = next(p for p in run["periods"] if p["grain"] == "year")
            print(f"seed {seed}: precision@{year['k']} {year['precision_at_k']}, AUC {year['auc']}, "
                  f"decoy rank {year['decoy_ranks']} of {year['units']} {year['decoy_grades']}, "
                  f"checks {sum(run['checks'].values())} violations", flush=True)
            return run

        # the first county alone: it creates the key file the others then share
        runs = [one(seeds[0])]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            runs += list(pool.map(one, seeds[1:]))
    failed = [r for r in runs if "failed" in r]
    runs = [r for r in runs if "failed" not in r]
    result = {"catalogue": args.catalogue or "data/indicators.yaml", "settings": args.settings, "seeds": seeds,
              "seconds": round(time.perf_counter() - t0, 1), "failed": failed,
              "summary": summarise(runs) if runs else {}, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(result["summary"], ensure_ascii=False, indent=1))
    print(f"wrote {args.out}")
    if failed:
        raise SystemExit(f"{len(failed)} of {len(seeds)} counties failed: seeds {' '.join(str(r['seed']) for r in failed)}")


if __name__ == "__main__":
    main()
