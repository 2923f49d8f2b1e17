"""Benchmark of the learned signals (pipelines/ml): quality and speed, each against an anchor measured in the same run.

    .venv/bin/python bench/bench_learning.py [--out bench/results/bench_learning.json] [--seeds 1 2 3 4 5]
                                             [--texts 1000000] [--skip-million]

Quality (macro-F1, 5-fold stratified, same folds for every model):
  - hand-written petitions (tests/data/petitions_handwritten.csv, 280 texts written as offices write them, 7
    categories): the product's classifier against the majority baseline and the reference model (scikit-learn
    character 1–3-gram TF-IDF + LinearSVC, defaults);
  - generator petitions of several synthetic counties (seeds), the same three;
  - across sources: trained on one county's generator texts, tested on the hand-written ones.
Speed:
  - county: generate, ingest and build one county; the build's learning steps (training and scoring every model)
    against the rest of the same build;
  - a million petition texts (recombined clauses of generator and hand-written texts, so no two are alike)
    classified by the product (masking, features, calibrated model) against bare scikit-learn (the reference
    pipeline's predict) on the same texts, both trained on the same county.
The machine is shared: every figure records CPU seconds and the load average beside the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HANDWRITTEN = REPO / "tests" / "data" / "petitions_handwritten.csv"


def timed(fn, *args, **kw):
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - t, 2), round(time.process_time() - c, 2)


def county(work: Path, seed: int) -> tuple[Path, dict]:
    from pipelines.analysis.build import build
    from pipelines.cli import main
    from pipelines.synth.generator import generate

    os.environ["ZHENGTAI_KEY_FILE"] = str(work / "pseudonym.key")
    out, db = work / f"county{seed}", work / f"county{seed}.duckdb"
    generate("county", seed, out)
    assert main(["init", "--db", str(db)]) == 0
    files = sorted(out.glob("*.xlsx")) + sorted(out.glob("*.csv"))
    assert main(["ingest", "--db", str(db), "--quiet", *map(str, files)]) == 0
    s, wall, cpu = timed(build, db, publish=False)
    learning = {k.split(":", 1)[1]: v for k, v in s.timings.items() if k.startswith("learning:")}
    return db, {"seed": seed, "build_seconds": wall, "build_cpu_seconds": cpu,
                "learning_seconds": round(sum(learning.values()), 2), "learning_steps": learning,
                "learning_cpu_seconds": s.cpu_timings.get("learning"), "load": round(os.getloadavg()[0], 2),
                "rest_of_build_seconds": round(wall - sum(learning.values()), 2), "units": s.units}


def petitions(db: Path):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    df = con.execute("SELECT content, category, received_date FROM petitions ORDER BY petition_no").df()
    con.close()
    return df


def quality(name: str, texts, labels, dates=None) -> dict:
    from pipelines.ml import classifier

    ev, wall, _ = timed(classifier.evaluate, texts, labels, dates=dates, folds=5)
    return {"texts": name, "n": ev["n_texts"], "classes": len(ev["classes"]), "macro_f1": round(ev["macro_f1"], 4),
            "reference_macro_f1": round(ev["reference_macro_f1"], 4), "baseline_macro_f1": round(ev["baseline_macro_f1"], 4),
            "expected_calibration_error": ev["expected_calibration_error"],
            "time_split_macro_f1": ev["time_split"] and round(ev["time_split"]["macro_f1"], 4),
            "time_split_reference_macro_f1": ev["time_split"] and round(ev["time_split"].get("reference_macro_f1") or 0, 4),
            "per_class_f1": {k: v["f1"] for k, v in ev["per_class"].items()}, "seconds": wall}


def cross(train_texts, train_labels, test_texts, test_labels) -> dict:
    from sklearn.metrics import f1_score

    from pipelines.ml import classifier

    model, _ = classifier.train(train_texts, train_labels)
    pred = classifier.apply(model, test_texts).label
    ref = classifier._reference_model(0).fit(train_texts, train_labels).predict(test_texts)
    labels = sorted(set(test_labels))
    return {"macro_f1": round(f1_score(test_labels, pred.astype(str), labels=labels, average="macro"), 4),
            "reference_macro_f1": round(f1_score(test_labels, ref, labels=labels, average="macro"), 4)}


def million(texts_pool: list[str], n: int, train_texts, train_labels, seed: int = 0) -> dict:
    import numpy as np

    from pipelines.ml import classifier

    clauses = sorted({c for t in texts_pool for c in re.split(r"(?<=[，。；！？,])", t) if len(c) >= 4})
    rng = np.random.default_rng(seed)
    k = rng.integers(3, 6, n)
    picks = rng.integers(0, len(clauses), int(k.sum()))
    arr = np.asarray(clauses, dtype=object)[picks]
    ends = np.cumsum(k)
    texts = ["".join(arr[e - m:e]) for e, m in zip(ends, k)]
    model, _ = classifier.train(train_texts, train_labels)
    ref = classifier._reference_model(0).fit(train_texts, train_labels)
    load0 = os.getloadavg()[0]
    _, ours_wall, ours_cpu = timed(classifier.apply, model, texts)
    _, ref_wall, ref_cpu = timed(ref.predict, texts)
    return {"texts": n, "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
            "distinct_texts": len(set(texts)), "product_seconds": ours_wall, "product_cpu_seconds": ours_cpu,
            "sklearn_reference_seconds": ref_wall, "sklearn_reference_cpu_seconds": ref_cpu,
            "speed_ratio": round(ref_wall / ours_wall, 2), "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2), "target_seconds": 300}


def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_learning.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--texts", type=int, default=1_000_000)
    ap.add_argument("--skip-million", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    result: dict = {"machine_load_start": round(os.getloadavg()[0], 2)}
    hand = pd.read_csv(HANDWRITTEN)
    result["handwritten"] = quality("hand-written", hand["反映内容"].tolist(), hand["问题类别"].tolist(),
                                    pd.to_datetime(hand["受理日期"]).to_numpy())
    print(json.dumps(result["handwritten"], ensure_ascii=False))
    counties, gens = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            db, timing = county(Path(tmp), seed)
            counties.append(timing)
            df = petitions(db)
            gens.append(df)
            q = quality(f"generator seed {seed}", df.content.tolist(), df.category.tolist(), df.received_date.to_numpy())
            result.setdefault("generator", []).append(q)
            print(json.dumps({**timing, **{k: q[k] for k in ("macro_f1", "reference_macro_f1")}}, ensure_ascii=False))
    result["county"] = counties
    g = gens[0]
    result["generator_to_handwritten"] = cross(g.content.tolist(), g.category.tolist(), hand["反映内容"].tolist(),
                                               hand["问题类别"].tolist())
    print(json.dumps(result["generator_to_handwritten"]))
    if not args.skip_million:
        pool = g.content.tolist() + hand["反映内容"].tolist()
        result["million"] = million(pool, args.texts, g.content.tolist(), g.category.tolist())
        print(json.dumps(result["million"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
