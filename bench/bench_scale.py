"""Benchmark: one scale end to end, as a user runs it — ingest of the generated ledger folder, then build — with the
wall time, CPU time and peak memory of each command and the memory budget they were given.

    python bench/bench_scale.py --scale national [--ledgers DIR] [--memory 4GiB] [--out bench/results/scale_national.json]

The ledgers are generated (seed 1) unless --ledgers names a folder generated before. Each command is a child
process (`zhengtai ingest DIR`, `zhengtai build`), so its peak RSS is its own. Targets (issue 11): national ingest
+ build < 10 min in all and < 8 GiB peak; province < 90 s in all; county unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import run  # noqa: E402  (a child's wall, CPU and peak RSS)

TARGETS = {"national": {"seconds": 600, "peak_rss_mib": 8192}, "province": {"seconds": 90}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="national", choices=["county", "city", "province", "national"])
    ap.add_argument("--ledgers", type=Path, help="a folder of ledgers generated before (default: generate them)")
    ap.add_argument("--memory", default="4GiB", help="memory budget given to ingest and build")
    ap.add_argument("--work", type=Path, help="folder to keep the warehouse in, e.g. for bench_dashboard --db "
                                                 "(default: a temporary folder, removed afterwards)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out_path = args.out or ROOT / "bench" / "results" / f"scale_{args.scale}.json"
    with contextlib.ExitStack() as stack:
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f"{args.scale}-", dir=args.work))
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zt-scale-")))
        env = {**os.environ, "ZHENGTAI_KEY_FILE": str(work / "bench.key"), "PYTHONPATH": str(ROOT),
               "ZHENGTAI_MEMORY": args.memory}
        result = {"scale": args.scale, "memory_budget": args.memory, "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}}
        ledgers = args.ledgers
        if ledgers is None:
            ledgers = work / "ledgers"
            result["generate"] = run(["generate", "--scale", args.scale, "--seed", "1", "--out", str(ledgers)], env)
        files = [p for p in ledgers.iterdir() if p.suffix in (".csv", ".xlsx", ".xls")]
        result["files"], result["bytes"] = len(files), sum(p.stat().st_size for p in files)
        db = work / "warehouse.duckdb"
        run(["init", "--db", str(db)], env)
        result["ingest"] = run(["ingest", "--db", str(db), "--quiet", str(ledgers)], env)
        con = duckdb.connect(str(db), read_only=True)
        result["rows_read"] = int(con.execute("SELECT sum(rows_read) FROM ingest_runs").fetchall()[0][0])
        result["units"] = int(con.execute("SELECT count(*) FROM units").fetchall()[0][0])
        con.close()
        result["ingest"]["rows_per_s"] = round(result["rows_read"] / result["ingest"]["seconds"])
        result["build"] = run(["build", "--db", str(db), "--quiet"], env)
        result["warehouse_mib"] = round(db.stat().st_size / 2**20, 1)
        total = result["ingest"]["seconds"] + result["build"]["seconds"]
        peak = max(result["ingest"]["peak_rss_mib"], result["build"]["peak_rss_mib"])
        result["ingest_and_build"] = {"seconds": round(total, 1), "peak_rss_mib": peak,
                                      "cpu_seconds": round(result["ingest"]["cpu_seconds"] + result["build"]["cpu_seconds"], 1)}
        target = TARGETS.get(args.scale)
        if target:
            result["targets"] = {**target, "met": total < target["seconds"] and peak < target.get("peak_rss_mib", 1e12)}
        result["machine"]["load_avg_after"] = os.getloadavg()
        result["warehouse"] = str(db) if args.work else None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
