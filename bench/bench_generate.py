"""Benchmark of the synthetic ledger generator: wall and CPU seconds, peak memory, records and bytes
written per scale, each scale in its own process (so peak RSS is that scale's own).

    python bench/bench_generate.py [--scales county,city,province] [--seed 7] [--out bench/results/generate.json]
                                   [--keep DIR]

The brief's targets: county in a few seconds; province (~5,000 units) in a couple of minutes under 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from pipelines.synth import generate
t0, c0 = time.perf_counter(), time.process_time()
s = generate({scale!r}, {seed}, {out!r})
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
from pathlib import Path
size = sum(p.stat().st_size for p in Path({out!r}).iterdir())
print(json.dumps({{"scale": {scale!r}, "units": s["units"], "records": s["records"], "files": len(s["files"]),
                  "bad_rows": sum(f["bad_rows"] for f in s["files"]), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                  "records_per_cpu_s": round(s["records"] / max(cpu, 1e-9)), "bytes": size,
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="county,city")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "generate.json"))
    ap.add_argument("--keep", help="write the ledgers under this directory instead of a temporary one")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        for scale in args.scales.split(","):
            out = base / scale
            code = CHILD.format(root=str(ROOT), scale=scale, seed=args.seed, out=str(out))
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(row)
            print(f"{scale:9s} {row['units']:>7,} units {row['records']:>11,} records  wall {row['wall_s']:>8.2f}s  "
                  f"cpu {row['cpu_s']:>8.2f}s  peak {row['peak_rss_mib']:>7.1f} MiB  {row['bytes'] / 2**20:>8.1f} MiB written")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                          "seed": args.seed, "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
