"""A real county-scale warehouse for the dashboard tests, made the way a user makes one:
`zhengtai generate --scale county --seed 7` → `init` → `ingest` → `build` (with a lighter Monte Carlo).

Built once per test run: under xdist the first worker to take a lock file in the run's shared temp folder
builds it and the others wait (the xdist group alone does not keep the tests on one worker with pytest 9).
Its users only read it: user stores and servers' state live in each test's own folders.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import published_path

# Every grain, fewer Monte Carlo draws than the default: the dashboard shows them, it does not test them.
SETTINGS = """
grains: [month, quarter, half, year, rolling12]
uncertainty: {draws: 100, grains: [quarter, year]}
"""


def build_county(root: Path, seed: int = 7) -> Path:
    """Generate, ingest and build a synthetic county under `root`; returns the warehouse path."""
    from pipelines.cli import main

    root.mkdir(parents=True, exist_ok=True)
    ledgers, db = root / "ledgers", root / "county.duckdb"
    key = ["--key", str(root / "pseudonym.key")]
    assert main(["generate", "--scale", "county", "--seed", str(seed), "--out", str(ledgers)]) == 0
    assert main(["init", "--db", str(db), *key]) == 0
    files = sorted(ledgers.glob("*.xlsx")) + sorted(ledgers.glob("*.csv"))
    # One batch, as an analyst would run it (the roster loads first whatever the order); it must succeed.
    assert main(["ingest", "--db", str(db), "--quiet", *key, *map(str, files)]) == 0
    settings = root / "settings.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    assert main(["build", "--db", str(db), "--settings", str(settings)]) == 0
    assert published_path(db).exists()
    return db


def teams(db: Path) -> dict[str, list[str]]:
    """team → its units, from the published snapshot."""
    con = duckdb.connect(str(published_path(db)), read_only=True)
    try:
        rows = con.execute("SELECT team, unit_name FROM units ORDER BY team, unit_name").fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for team, unit in rows:
        out.setdefault(team, []).append(unit)
    return out


def foreign_names(text: str, own: list[str], others: list[str]) -> list[str]:
    """Units of other teams named in `text`, not counting a name that only occurs inside one of `own`."""
    for name in sorted(own, key=len, reverse=True):
        text = text.replace(name, "")
    return [u for u in others if u in text]


def shared_county(tmp_path_factory, name: str = "dashboard-county", timeout: float = 900) -> Path:
    """The county warehouse, built by one worker of the run and read by all."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root, ready, failed = shared / name, shared / f"{name}.ready", shared / f"{name}.failed"
    try:
        os.close(os.open(shared / f"{name}.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another worker builds it
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if failed.exists() or time.monotonic() > deadline:
                pytest.fail(f"another worker failed to build the county warehouse ({name})")
            time.sleep(1)
        return root / "county.duckdb"
    try:
        db = build_county(root)
    except BaseException:
        failed.touch()
        raise
    ready.touch()
    return db


@pytest.fixture(scope="session")
def county_db(tmp_path_factory) -> Path:
    return shared_county(tmp_path_factory)
