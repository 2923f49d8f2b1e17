"""Benchmark of the index engine: compute() and uncertainty() on 5,000 synthetic units x 30 indicators
and on COINr's ASEM example (51 units x 49 indicators, 4 levels), 1,000 draws each.

    python bench/bench_index.py [--out bench/results/index.json] [--units 5000] [--draws 1000]

Figures (wall seconds, best of --repeat; peak traced Python memory via tracemalloc, in a separate
run; process RSS via psutil) are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.index import IndexSettings, compute  # noqa: E402
from pipelines.index.uncertainty import uncertainty  # noqa: E402

# COINr's ASEM data is read in place from the shared reference data beside the repository (never copied in).
ASEM = Path(os.environ.get("ZHENGTAI_ASEM_DIR") or next(
    (p for p in (up / "shared" / "reference-data" / "coinr-asem" for up in Path(__file__).resolve().parents)
     if p.is_dir()), "shared/reference-data/coinr-asem"))


def synthetic(n_units: int, n_ind: int = 30, n_pillars: int = 6, seed: int = 1):
    """Skewed, correlated indicators with 2 % missing, in a 4-level hierarchy."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_units, 1))
    x = np.exp(0.6 * latent + rng.normal(size=(n_units, n_ind)))
    x[rng.random(x.shape) < 0.02] = np.nan
    codes = [f"I{i:02d}" for i in range(n_ind)]
    data = pd.DataFrame(x, columns=codes)
    data.insert(0, "uCode", [f"U{u:05d}" for u in range(n_units)])
    pillars = [f"P{k}" for k in range(n_pillars)]
    rows = [dict(Level=1, iCode=c, Parent=pillars[i % n_pillars], Direction=1 if i % 4 else -1,
                 Weight=1 + (i % 3), Type="Indicator") for i, c in enumerate(codes)]
    rows += [dict(Level=2, iCode=p, Parent="S0" if k < n_pillars // 2 else "S1", Direction=1, Weight=1,
                  Type="Aggregate") for k, p in enumerate(pillars)]
    rows += [dict(Level=3, iCode=s, Parent="Index", Direction=1, Weight=1, Type="Aggregate") for s in ("S0", "S1")]
    rows += [dict(Level=4, iCode="Index", Parent=None, Direction=1, Weight=1, Type="Aggregate")]
    return data, pd.DataFrame(rows)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds over `repeat` calls (CPU time shows the cost when other jobs
    share the two cores)."""
    best, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def case(name, data, meta, settings, draws, repeat):
    fc = lambda: compute(data, meta, settings)  # noqa: E731
    fu = lambda: uncertainty(data, meta, settings, n_draws=draws)  # noqa: E731
    fu()  # warm up
    (c_wall, c_cpu), (u_wall, u_cpu) = timed(fc, repeat), timed(fu, repeat)
    res = {
        "units": int(len(data)), "indicators": int((meta["Type"] == "Indicator").sum()), "draws": draws,
        "compute_s": c_wall, "compute_cpu_s": c_cpu, "uncertainty_s": u_wall, "uncertainty_cpu_s": u_cpu,
        "load_average_1min": os.getloadavg()[0],
        "compute_peak_traced_mib": peak_mib(fc), "uncertainty_peak_traced_mib": peak_mib(fu),
        "rss_mib_after": psutil.Process().memory_info().rss / 2**20,
    }
    print(f"{name:<28} compute {c_wall:.3f} s  uncertainty({draws}) {u_wall:.3f} s (cpu {u_cpu:.2f} s)  "
          f"peak traced {res['uncertainty_peak_traced_mib']:.0f} MiB  rss {res['rss_mib_after']:.0f} MiB  "
          f"load {res['load_average_1min']:.1f}")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench/results/index.json")
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "numpy": np.__version__, "platform": platform.platform()}, "cases": {}}
    data, meta = synthetic(args.units)
    for label, s in [("arith", IndexSettings()),
                     ("winsorise+geom", IndexSettings(treat="winsorise", aggregate="geom", impute="mean"))]:
        results["cases"][f"synthetic_{args.units}_{label}"] = case(f"synthetic {args.units} {label}", data, meta,
                                                                   s, args.draws, args.repeat)
    if (ASEM / "ASEM_iData.csv").exists():
        ad, am = pd.read_csv(ASEM / "ASEM_iData.csv"), pd.read_csv(ASEM / "ASEM_iMeta.csv")
        results["cases"]["asem"] = case("ASEM (51 x 49)", ad, am, IndexSettings(), args.draws, args.repeat)
    else:
        print(f"ASEM reference data not found in {ASEM}; skipped")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
