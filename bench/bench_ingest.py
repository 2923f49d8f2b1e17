"""Benchmark: ingest throughput against the tools it is built on, then generate and ingest whole scales.

    python bench/bench_ingest.py [--scales county,province] [--rows 400000] [--xlsx-rows 60000] [--repeats 3]
                                 [--out bench/results/ingest.json]

Throughput: one big petitions ledger, ingested by `zhengtai ingest` (reading, validation, pseudonymisation, unit
resolution, merge and commit) and read by its anchor in the same run, in turns: DuckDB's read_csv into a table for
the CSV, fastexcel into Arrow for the xlsx. Reported as zhengtai's share of the anchor's rows/s (goals: CSV ≥ 0.2,
xlsx ≥ 0.33). Every step runs as its own process, so its wall time and peak memory (max RSS of the child) are what
a user would see. Scales: generate, ingest and reingest each scale, with rows/s and peak memory.
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


def file_seconds(db: Path, path: Path) -> float:
    """The ingest of one file as ingest_runs timed it: reading, validation, pseudonymisation, merge (no commit)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return round(con.execute("SELECT sum(epoch(finished_at - started_at)) FROM ingest_runs WHERE path = ?",
                                 [str(path)]).fetchall()[0][0], 2)
    finally:
        con.close()


def bench_scale(scale: str, work: Path, env: dict[str, str]) -> dict:
    ledgers, db = work / scale, work / f"{scale}.duckdb"
    out = {"scale": scale, "generate": run(["generate", "--scale", scale, "--seed", "7", "--out", str(ledgers)], env)}
    files = sorted(str(p) for p in ledgers.iterdir() if p.suffix in (".csv", ".xlsx", ".xls"))
    out["files"] = len(files)
    out["bytes"] = sum(os.path.getsize(f) for f in files)
    run(["init", "--db", str(db)], env)
    out["ingest"] = run(["ingest", "--db", str(db), "--quiet", str(ledgers)], env)
    con = duckdb.connect(str(db), read_only=True)
    out["rows_read"] = int(con.execute("SELECT sum(rows_read) FROM ingest_runs").fetchall()[0][0])
    out["rows_rejected"] = int(con.execute("SELECT sum(rows_rejected) FROM ingest_runs").fetchall()[0][0])
    con.close()
    out["ingest"]["rows_per_s"] = round(out["rows_read"] / out["ingest"]["seconds"])
    out["ingest"]["rows_per_cpu_s"] = round(out["rows_read"] / out["ingest"]["cpu_seconds"])
    out["per_format"] = per_format(db)
    # the same files again: idempotent reruns should be cheap too
    out["reingest"] = run(["ingest", "--db", str(db), "--quiet", str(ledgers)], env)
    return out


def child(code: str, env: dict[str, str]) -> dict:
    """Run a Python snippet as a child: the anchors pay for their process as zhengtai does."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"anchor failed: {code}")
    return {"seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def petition_rows(n: int, units: list[str]):
    """Petition rows as offices write them: names, phone numbers and names inside the text, to pseudonymise and mask."""
    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜敏静丽强磊军洋"
    for i in range(n):
        who = surnames[i % 10] + given[(i // 10) % 10]
        reporter = surnames[(i // 7) % 10] + given[(i // 3) % 10] + given[i % 10]
        yield [f"XF-{i}", f"2024年{1 + i % 12}月{1 + i % 28}日", ("来信", "来访", "网络", "电话")[i % 4],
               "实名" if i % 3 else "匿名", reporter if i % 3 else "", f"138{i % 100000000:08d}" if i % 3 else "",
               units[i % len(units)], who, "科长", "否" if i % 5 else "是", ("工作纪律", "廉洁纪律", "群众纪律")[i % 3],
               f"反映{who}在项目审批中违规收受礼金，联系电话139{i % 100000000:08d}，第{i}件", "初步核实" if i % 2 else "",
               "属实" if i % 4 == 0 else "", f"2024-{1 + i % 12:02d}-28" if i % 2 else ""]


def bench_throughput(rows: int, xlsx_rows: int, repeats: int, work: Path, env: dict[str, str]) -> dict:
    """One big petitions ledger as UTF-8 CSV and as xlsx. zhengtai ingest (reading, validation, pseudonymisation,
    unit resolution, merge, commit) against its anchors on the same file, in turns, in the same run: DuckDB's
    read_csv into a table, and fastexcel reading the workbook into Arrow. Each figure is the median of `repeats`."""
    import csv

    from tests.ledger_files import PETITION_HEADER, roster, write_xlsx

    units = ["县教育局", "县卫健局", "城关镇", "县市场监督管理局", "县卫生健康局"]
    csv_path = work / "big.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        fh.write("信访举报登记台账\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(PETITION_HEADER)
        w.writerows(petition_rows(rows, units))
    xlsx_path = write_xlsx(work / "big.xlsx", PETITION_HEADER, list(petition_rows(xlsx_rows, units)), title="信访举报登记台账")
    anchors = {
        "csv": ("duckdb read_csv",
                "import duckdb; con = duckdb.connect({db!r}); "
                f"con.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}', skip=1, header=true, delim=',')\"); "
                "assert con.execute('SELECT count(*) FROM t').fetchall()[0][0] == " + str(rows)),
        "xlsx": ("fastexcel to Arrow",
                 f"import fastexcel; t = fastexcel.read_excel({str(xlsx_path)!r}).load_sheet(0, header_row=1).to_arrow(); "
                 f"assert t.num_rows == {xlsx_rows}"),
    }
    out = {}
    for fmt, path, n in (("csv", csv_path, rows), ("xlsx", xlsx_path, xlsx_rows)):
        zt, anchor = [], []
        for k in range(repeats):
            db = work / f"tp_{fmt}_{k}.duckdb"
            run(["init", "--db", str(db)], env)
            run(["ingest", "--db", str(db), "--quiet", str(roster(work))], env)
            res = run(["ingest", "--db", str(db), "--quiet", str(path)], env)
            res["file_seconds"] = file_seconds(db, path)
            zt.append(res)
            anchor.append(child(anchors[fmt][1].format(db=str(work / f"anchor_{fmt}_{k}.duckdb")), env))

        def median(runs, key):
            return sorted(r[key] for r in runs)[len(runs) // 2]

        z, a = median(zt, "seconds"), median(anchor, "seconds")
        out[fmt] = {
            "rows": n, "bytes": path.stat().st_size, "anchor": anchors[fmt][0],
            "zhengtai": {"seconds": z, "cpu_seconds": median(zt, "cpu_seconds"), "rows_per_s": round(n / z),
                         "file_seconds": median(zt, "file_seconds"), "peak_rss_mib": max(r["peak_rss_mib"] for r in zt)},
            "anchor_run": {"seconds": a, "cpu_seconds": median(anchor, "cpu_seconds"), "rows_per_s": round(n / a),
                           "peak_rss_mib": max(r["peak_rss_mib"] for r in anchor)},
            # zhengtai's rows/s as a share of the anchor's (goal: CSV ≥ 0.2, xlsx ≥ 0.33)
            "ratio": round(a / z, 3),
            "ratio_cpu": round(median(anchor, "cpu_seconds") / median(zt, "cpu_seconds"), 3),
            "runs": {"zhengtai": zt, "anchor": anchor},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="county,province")
    ap.add_argument("--rows", type=int, default=400_000, help="rows of the CSV throughput ledger")
    ap.add_argument("--xlsx-rows", type=int, default=60_000, help="rows of the xlsx throughput ledger")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each throughput measurement (median reported)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "ZHENGTAI_KEY_FILE": str(work / "bench.key"), "PYTHONPATH": str(ROOT)}
        result = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "throughput": bench_throughput(args.rows, args.xlsx_rows, args.repeats, work, env),
            "scales": [bench_scale(s, work, env) for s in args.scales.split(",") if s],
        }
        result["machine"]["load_avg_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
