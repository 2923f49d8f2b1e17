"""Benchmark of `zhengtai build`: county and province scale, wall time and peak memory, written to JSON.

    .venv/bin/python bench/bench_build.py [--out bench/results/bench_build.json] [--copies 120] [--skip-province]

County: the synthetic county (seed 7) is generated, ingested and built. Province: the ingested county is
replicated `copies` times in SQL (units renamed 县X#k, natural keys suffixed, dates unchanged), which gives
~5,000 units over three years with the county's realistic mix, without spending minutes in the generator
and the Excel reader. Each build runs in a child process so its peak RSS is measured on its own.
Targets (issue 3): county < 5 s, province < 60 s, peak < 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def county_warehouse(work: Path) -> Path:
    from pipelines.cli import main
    from pipelines.synth.generator import generate

    os.environ.setdefault("ZHENGTAI_KEY_FILE", str(work / "pseudonym.key"))
    out = work / "county"
    generate("county", 7, out)
    db = work / "county.duckdb"
    main(["init", "--db", str(db)])
    files = sorted(out.glob("*.xlsx")) + sorted(out.glob("*.csv"))
    files.sort(key=lambda p: "单位名册" not in p.name)  # the roster first
    for f in files:  # one by one, so a file the reader cannot take does not stop the rest
        main(["ingest", "--db", str(db), "--quiet", str(f)])
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


def timed_build(db: Path) -> dict:
    """Build in a child process; wall time, the build's own timings and the child's peak RSS."""
    code = ("import json, sys; from pipelines.analysis.build import build; "
            "s = build(sys.argv[1]); print(json.dumps({'seconds': s.seconds, 'timings': s.timings, "
            "'units': s.units, 'periods': s.periods, 'warnings': s.warnings}))")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(db)], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"build failed:\n{out.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_seconds"] = round(wall, 2)
    res["peak_rss_mib"] = round(max(peak_kib, before) / 1024, 1)  # ru_maxrss is KiB on Linux; max over children
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "bench_build.json"))
    ap.add_argument("--copies", type=int, default=120)
    ap.add_argument("--skip-province", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as tmp:
        work = Path(tmp)
        county = county_warehouse(work)
        timed_build(county)  # warm-up: file cache, imports
        result = {"county": timed_build(county), "targets": {"county_s": 5, "province_s": 60, "peak_gib": 4}}
        print(json.dumps(result["county"]), flush=True)
        if not args.skip_province:
            province = province_warehouse(county, work, args.copies)
            result["province"] = timed_build(province)
            result["province"]["copies"] = args.copies
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
