"""Server-side timings of the dashboard pages (Streamlit script runs, through AppTest).

    python bench/bench_dashboard.py --scale county            # builds bench/results/work/county if missing
    python bench/bench_dashboard.py --db path/to/warehouse.duckdb --label mine

Measures, per page and for a county-wide admin and a team-scoped leader:
  first_run_s   the first render in a fresh interpreter after `zhengtai serve`'s pre-import of the heavy
                modules (snapshot open, every query, cold caches): what the first visitor waits for
  cold_s        a new session on a running server with empty caches (cache_data/cache_resource cleared)
  warm_s        the same page again (cached)
and on the overview: a period change (new period, uncached), a sector filter change and a sort change.
Targets (issue 4): county cold page < 2 s, filter change < 300 ms; province overview < 3 s.
Figures go to bench/results/dashboard_<label>.json (git-ignored) and to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"
PAGES = ["overview", "portrait", "warnings", "method", "quality"]
SETTINGS = "grains: [month, quarter, half, year, rolling12]\nuncertainty: {draws: 200, grains: [quarter, year]}\n"


def build(scale: str, seed: int = 7) -> Path:
    """generate → init → ingest → build into bench/results/work/<scale> (reused when present)."""
    from pipelines.cli import main

    root = RESULTS / "work" / scale
    db = root / "warehouse.duckdb"
    if (root / "warehouse.published.duckdb").exists():
        return db
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ZHENGTAI_KEY_FILE", str(root / "pseudonym.key"))
    ledgers = root / "ledgers"
    t = time.perf_counter()
    assert main(["generate", "--scale", scale, "--seed", str(seed), "--out", str(ledgers)]) == 0
    assert main(["init", "--db", str(db)]) == 0
    files = sorted(ledgers.glob("*.xlsx")) + sorted(ledgers.glob("*.csv"))
    files.sort(key=lambda p: "单位名册" not in p.name)
    for f in files:
        main(["ingest", "--db", str(db), "--quiet", str(f)])
    (root / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    assert main(["build", "--db", str(db), "--settings", str(root / "settings.yaml")]) == 0
    print(f"built {scale} warehouse in {time.perf_counter() - t:.0f} s: {db}", file=sys.stderr)
    return db


def _server_startup() -> None:
    """AppTest scans every installed package for Streamlit components on each new AppTest (about 1.3 s
    here); the real server does it once at startup, before any visitor. Do it once, as the server does."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    real = BidiComponentManager.discover_and_register_components
    done: list[bool] = []

    def once(self, **kw):
        if not done:
            done.append(True)
            real(self, **kw)

    BidiComponentManager.discover_and_register_components = once


def _app(db: Path, users: Path, user):
    from streamlit.testing.v1 import AppTest

    os.environ["ZHENGTAI_DB"] = str(db)
    os.environ["ZHENGTAI_USERS"] = str(users)
    from pipelines.access.store import UserStore

    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=300)
    store = UserStore(users)  # signed in as after the login form: an account and a session in the store
    if store.get(user.name) != user:
        store.add(user.name, "bench-password", user.role, user.teams, replace=True)
    at.session_state["_sid"] = store.open_session(user)[0]
    return at


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _users(db: Path) -> Path:
    from pipelines.access.store import UserStore

    path = RESULTS / "work" / "bench-users.sqlite"
    UserStore(path)
    return path


def _bench_user(db: Path, role: str):
    import duckdb

    from pipelines.access.store import User
    from pipelines.warehouse import published_path

    if role == "admin":
        return User("bench_admin", "admin", None)
    con = duckdb.connect(str(published_path(db)), read_only=True)
    team = con.execute("SELECT min(team) FROM units").fetchone()[0]
    con.close()
    return User("bench_leader", "leader", (team,))


def first_run(db: Path, page: str, role: str) -> float:
    """Time of the first render of `page` in this (fresh) interpreter."""
    import streamlit  # noqa: F401  (the server has Streamlit loaded before any visitor)
    from streamlit.testing.v1 import AppTest  # noqa: F401

    from pipelines.access.commands import _prewarm

    _prewarm()  # as `zhengtai serve` does before it listens
    _server_startup()
    AppTest.from_string("import streamlit as st").run()

    at = _app(db, _users(db), _bench_user(db, role))
    if page == "overview":
        return _timed(at.run)
    at.run()  # the navigation must exist before switching; then time a second page on cold caches
    import streamlit as st

    st.cache_data.clear()
    return _timed(lambda: at.switch_page(f"views/{page}.py").run())


def in_process(db: Path, role: str, repeat: int) -> dict:
    import streamlit as st

    _server_startup()
    users = _users(db)
    user = _bench_user(db, role)
    out: dict = {"pages": {}}
    for page in PAGES:
        cold, warm = [], []
        for _ in range(repeat):
            st.cache_data.clear()
            st.cache_resource.clear()
            at = _app(db, users, user)
            if page == "overview":
                cold.append(_timed(at.run))
            else:
                at.run()
                st.cache_data.clear()
                cold.append(_timed(lambda: at.switch_page(f"views/{page}.py").run()))
            warm.append(_timed(at.run))
            assert not at.exception, [e.value for e in at.exception]
        out["pages"][page] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
    # Interactions on the overview, each on a fresh combination (no cache hit for the new period).
    at = _app(db, users, user)
    at.run()
    from pipelines.board import Board
    from pipelines.warehouse import published_path

    board = Board(published_path(db))
    periods = list(board.q("periods").query("grain == 'quarter'").period)[::-1]  # newest first, as offered
    dims = ["index"] + list(board.q("dimensions").dimension)
    board.close()
    sectors = at.multiselect(key="sectors").options
    period_change, sector_change, sort_change = [], [], []
    for i in range(min(repeat, len(periods) - 1)):
        period_change.append(_timed(lambda: at.selectbox(key="period").set_value(periods[i + 1]).run()))
    for i in range(min(repeat, len(sectors))):
        sector_change.append(_timed(lambda: at.multiselect(key="sectors").set_value([sectors[i]]).run()))
    for i in range(min(repeat, len(dims) - 1)):
        sort_change.append(_timed(lambda: at.selectbox(key="sort_by").set_value(dims[i + 1]).run()))
    assert not at.exception, [e.value for e in at.exception]
    out["overview_period_change_s"] = statistics.median(period_change)
    out["overview_sector_filter_s"] = statistics.median(sector_change)
    out["overview_sort_change_s"] = statistics.median(sort_change)
    return out


def main() -> None:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "No runtime found" on every AppTest
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing warehouse (its published snapshot is read)")
    ap.add_argument("--scale", choices=["county", "city", "province", "national"], default="county")
    ap.add_argument("--label", help="name of the results file (default: the scale)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--first-run", nargs=2, metavar=("PAGE", "ROLE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    db = args.db or build(args.scale)
    if args.first_run:  # child process: one cold first render
        print(json.dumps(first_run(db, *args.first_run)))
        return
    import duckdb

    from pipelines.warehouse import published_path

    con = duckdb.connect(str(published_path(db)), read_only=True)
    units = con.execute("SELECT count(*) FROM units").fetchone()[0]
    rows = con.execute("SELECT count(*) FROM unit_scores").fetchone()[0]
    con.close()
    result = {"db": str(db), "units": units, "unit_scores_rows": rows, "cpus": os.cpu_count(),
              "load_avg_1m": os.getloadavg()[0], "roles": {}}
    for role in ("admin", "leader"):
        first = {}
        for page in PAGES:
            proc = subprocess.run([sys.executable, __file__, "--db", str(db), "--first-run", page, role],
                                  capture_output=True, text=True, check=True)
            first[page] = json.loads(proc.stdout.strip().splitlines()[-1])
        res = in_process(db, role, args.repeat)
        for page, t in first.items():
            res["pages"][page]["first_run_s"] = t
        result["roles"][role] = res
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dashboard_{args.label or args.scale}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
