"""Benchmark of `zhengtai build`: county and province scale, wall and CPU time, peak memory, load, written to JSON.

    .venv/bin/python bench/bench_build.py [--out bench/results/bench_build.json] [--copies 120]
                                          [--county-runs 3] [--province-runs 1] [--skip-province]

County: the synthetic county (seed 7) is generated, ingested (one `zhengtai ingest` call) and built. Province:
the ingested county is replicated `copies` times in SQL (units renamed 县X#k, natural keys suffixed, dates
unchanged), which gives ~5,000 units over three years with the county's realistic mix, without spending
minutes in the generator and the Excel reader. Each build runs in a child process on a fresh copy of the
ingested warehouse, so its peak RSS and CPU time are measured on their own.

The machine is shared: wall time depends on what else runs. Every run records its CPU seconds (user + system,
all threads: the work done), the 1-minute load average before and after, and the build's own step timings
(wall and CPU), so figures taken at different times can be compared. Targets (issue 3): county < 5 s,
province < 60 s, peak < 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LEDGERS = {  # table: natural-key columns to suffix (unit_name is always renamed)
    "petitions": ["petition_no"], "cases": ["case_no", "petition_no"], "inquiries": ["inquiry_no", "petition_no"],
    "inspection_findings": [], "audit_findings": [], "major_decisions": [], "responsibility_checks": [],
}

CHILD = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from pipelines.analysis.build import build
t1, c1 = time.perf_counter(), time.process_time()
s = build(sys.argv[1])
print(json.dumps({"seconds": s.seconds, "build_cpu_seconds": round(time.process_time() - c1, 2),
                  "import_seconds": round(t1 - t0, 2), "import_cpu_seconds": round(c1 - c0, 2),
                  "timings": s.timings, "cpu_timings": s.cpu_timings, "units": s.units, "periods": s.periods,
                  "warnings": s.warnings}))
"""


def county_warehouse(work: Path) -> Path:
    from pipelines.cli import main
    from pipelines.synth.generator import generate

    os.environ.setdefault("ZHENGTAI_KEY_FILE", str(work / "pseudonym.key"))
    out = work / "county"
    generate("county", 7, out)
    db = work / "county.duckdb"
    if main(["init", "--db", str(db)]) != 0:
        raise SystemExit("init failed")
    files = sorted(out.glob("*.xlsx")) + sorted(out.glob("*.csv"))
    if main(["ingest", "--db", str(db), "--quiet", *map(str, files)]) != 0:
        raise SystemExit("ingest failed")
    return db


def province_warehouse(county: Path, work: Path, copies: int) -> Path:
    import duckdb

    db = work / "province.duckdb"
    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db))
    con.execute(f"ATTACH '{county}' AS c (READ_ONLY)")
    from pipelines.warehouse import apply_schema

    apply_schema(con, ("schema.sql", "results.sql"))
    rep = f"range({copies}) AS k(k)"
    con.execute(f"""INSERT INTO units SELECT u.* REPLACE (u.unit_name || '#' || k AS unit_name, NULL AS aliases)
                    FROM c.units AS u, {rep}""")
    for table, keys in LEDGERS.items():
        repl = ", ".join([f"t.unit_name || '#' || k AS unit_name"] + [f"t.{col} || '#' || k AS {col}" for col in keys])
        con.execute(f"INSERT INTO {table} SELECT t.* REPLACE ({repl}) FROM c.{table} AS t, {rep}")
    con.execute("DETACH c")
    con.close()
    return db


def timed_build(clean: Path) -> dict:
    """Build a fresh copy of `clean` in a child process: wall and CPU time, the build's own figures, the child's
    peak RSS, and the load average around it."""
    db = clean.with_name("run-" + clean.name)
    for p in (db, db.with_name(db.stem + ".published.duckdb")):
        p.unlink(missing_ok=True)
    shutil.copyfile(clean, db)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(db)], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise SystemExit(f"build failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_seconds"] = round(wall, 2)  # the child process: interpreter, imports, build, publish
    res["cpu_seconds"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    res["peak_rss_mib"] = round(after.ru_maxrss / 1024, 1)  # max over children so far (KiB on Linux)
    res["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return res


def summary(runs: list[dict]) -> dict:
    keys = ("seconds", "build_cpu_seconds", "wall_seconds", "cpu_seconds")
    return {"runs": len(runs), **{f"median_{k}": round(statistics.median(r[k] for r in runs), 2) for k in keys},
            **{f"min_{k}": round(min(r[k] for r in runs), 2) for k in keys},
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "bench_build.json"))
    ap.add_argument("--copies", type=int, default=120)
    ap.add_argument("--county-runs", type=int, default=3)
    ap.add_argument("--province-runs", type=int, default=1)
    ap.add_argument("--skip-province", action="store_true")
    args = ap.parse_args()
    result = {"machine": {"cpus": os.cpu_count(), "load_1_5_15": [round(x, 2) for x in os.getloadavg()]},
              "targets": {"county_s": 5, "province_s": 60, "peak_gib": 4}}
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as tmp:
        work = Path(tmp)
        county = county_warehouse(work)
        timed_build(county)  # warm-up: file cache, imports
        runs = []
        for _ in range(args.county_runs):
            runs.append(timed_build(county))
            print(json.dumps({"county": runs[-1]["seconds"], "cpu": runs[-1]["cpu_seconds"],
                              "load": runs[-1]["load_1min"]}), flush=True)
        result["county"] = {**summary(runs), "last": runs[-1]}
        if not args.skip_province:
            province = province_warehouse(county, work, args.copies)
            runs = []
            for _ in range(args.province_runs):
                runs.append(timed_build(province))
                print(json.dumps({"province": runs[-1]["seconds"], "cpu": runs[-1]["cpu_seconds"],
                                  "load": runs[-1]["load_1min"]}), flush=True)
            result["province"] = {**summary(runs), "copies": args.copies, "last": runs[-1]}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
