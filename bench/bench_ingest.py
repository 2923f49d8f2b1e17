"""Benchmark: generate and ingest at county and province scale, plus raw CSV and xlsx throughput.

    python bench/bench_ingest.py [--scales county,province] [--rows 1000000] [--out bench/results/ingest.json]

Each step runs as its own process (`zhengtai generate`, `zhengtai ingest`) so its wall time and peak memory
(max RSS of the child) are what a user would see. Throughput is rows read per second of the whole ingest
command, and per format from ingest_runs (reading + validating + merging each file). Targets (issue 2):
≥ 200,000 rows/s from CSV, ≥ 50,000 rows/s from xlsx, peak memory < 2 GiB at province scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(args: list[str], env: dict[str, str]) -> dict:
    """Run a zhengtai command as a child; wall seconds and that child's own peak RSS (os.wait4) in MiB."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args[:2])} failed:\n{err.read().decode(errors='replace')[-2000:]}")
    # CPU seconds as well as wall: on a shared machine the wall time says more about the neighbours.
    return {"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def per_format(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("""
        SELECT CASE WHEN lower(path) LIKE '%.csv' THEN 'csv' ELSE 'xlsx' END AS fmt,
               sum(rows_read) AS rows, sum(epoch(finished_at - started_at)) AS seconds
        FROM ingest_runs GROUP BY 1 ORDER BY 1
    """).fetchall()
    con.close()
    return {fmt: {"rows": int(n), "seconds": round(s, 2), "rows_per_s": round(n / s) if s else None} for fmt, n, s in rows}


def bench_scale(scale: str, work: Path, env: dict[str, str]) -> dict:
    ledgers, db = work / scale, work / f"{scale}.duckdb"
    out = {"scale": scale, "generate": run(["generate", "--scale", scale, "--seed", "7", "--out", str(ledgers)], env)}
    files = sorted(str(p) for p in ledgers.iterdir() if p.suffix in (".csv", ".xlsx", ".xls"))
    out["files"] = len(files)
    out["bytes"] = sum(os.path.getsize(f) for f in files)
    run(["init", "--db", str(db)], env)
    out["ingest"] = run(["ingest", "--db", str(db), "--quiet", *files], env)
    con = duckdb.connect(str(db), read_only=True)
    out["rows_read"] = int(con.execute("SELECT sum(rows_read) FROM ingest_runs").fetchall()[0][0])
    out["rows_rejected"] = int(con.execute("SELECT sum(rows_rejected) FROM ingest_runs").fetchall()[0][0])
    con.close()
    out["ingest"]["rows_per_s"] = round(out["rows_read"] / out["ingest"]["seconds"])
    out["ingest"]["rows_per_cpu_s"] = round(out["rows_read"] / out["ingest"]["cpu_seconds"])
    out["per_format"] = per_format(db)
    # the same files again: idempotent reruns should be cheap too
    out["reingest"] = run(["ingest", "--db", str(db), "--quiet", *files], env)
    return out


def bench_throughput(rows: int, work: Path, env: dict[str, str]) -> dict:
    """One big petitions ledger, as CSV (GBK, the harder case) and as xlsx, into a warehouse with a unit master."""
    from tests.ledger_files import PETITION_HEADER, roster, write_xlsx

    units = ["县教育局", "县卫健局", "城关镇", "县市场监督管理局"]
    csv_path = work / "big.csv"
    with open(csv_path, "w", encoding="gb18030") as fh:
        fh.write("信访举报登记台账\n" + ",".join(PETITION_HEADER) + "\n")
        line = "XF-{i},2024年3月{d}日,来信,匿名,,,{u},,,否,工作纪律,反映工作作风问题第{i}件，电话1380000{p:04d},,,\n"
        fh.writelines(line.format(i=i, d=1 + i % 28, u=units[i % 4], p=i % 10000) for i in range(rows))
    xlsx_rows = min(rows, 300_000)
    xlsx_path = write_xlsx(work / "big.xlsx", PETITION_HEADER,
                           [[f"XX-{i}", f"2024-03-{1 + i % 28:02d}", "电话", "匿名", "", "", units[i % 4], "", "", "否", "廉洁纪律",
                             f"反映问题第{i}件", "", "", ""] for i in range(xlsx_rows)], title="信访举报登记台账")
    out = {}
    for name, path, n in (("csv_gbk", csv_path, rows), ("xlsx", xlsx_path, xlsx_rows)):
        db = work / f"tp_{name}.duckdb"
        run(["init", "--db", str(db)], env)
        run(["ingest", "--db", str(db), "--quiet", str(roster(work))], env)
        res = run(["ingest", "--db", str(db), "--quiet", str(path)], env)
        res["rows"] = n
        res["rows_per_s"] = round(n / res["seconds"])
        res["rows_per_cpu_s"] = round(n / res["cpu_seconds"])
        res["per_file"] = per_format(db)
        out[name] = res
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="county,province")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the raw-throughput ledgers")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "ZHENGTAI_KEY_FILE": str(work / "bench.key"), "PYTHONPATH": str(ROOT)}
        result = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "throughput": bench_throughput(args.rows, work, env),
            "scales": [bench_scale(s, work, env) for s in args.scales.split(",") if s],
        }
        result["machine"]["load_avg_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
