"""The warehouse's own guarantees: owner-only files, what a killed writer leaves is cleared by the next,
a publish cut short is finished, and a lock names the program that holds it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.errors import UserError
from tests.board_fixture import BUILD, build_fixture

REPO = Path(__file__).resolve().parent.parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _new_build(db: Path, build_id: str, *, publish: bool) -> None:
    """What `zhengtai build` commits in its swap transaction: a complete build, asked to be published or not."""
    con = duckdb.connect(str(db))
    try:
        warehouse.apply_schema(con, ("results.sql",))
        with warehouse.transaction(con):
            con.execute("INSERT INTO build_runs SELECT ?, built_at + INTERVAL 1 HOUR, catalogue_version, "
                        "catalogue_sha256, settings, 'complete', seconds FROM build_runs "
                        "ORDER BY built_at DESC LIMIT 1", [build_id])
            if publish:
                warehouse.request_publish(con, build_id)
    finally:
        con.close()


@pytest.fixture
def shell_umask():
    """As a shell would leave it (0022): zhengtai must not rely on a stricter one."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_init_and_publish_write_owner_only_files(tmp_path, zt, key_file, shell_umask):
    db = tmp_path / "w.duckdb"
    assert zt("init", "--db", db).code == 0
    assert _mode(db) == 0o600
    fixture = build_fixture(tmp_path / "f.duckdb")  # published by warehouse.publish
    assert _mode(fixture) == 0o600
    old = tmp_path / "old.duckdb"  # a warehouse made before: world-readable until a writer opens it
    duckdb.connect(str(old)).close()
    os.chmod(old, 0o644)
    warehouse.connect(old).close()
    assert _mode(old) == 0o600


def test_a_killed_builds_leftovers_are_cleared_by_the_next_writer(tmp_path):
    db = tmp_path / "w.duckdb"
    build_fixture(db)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE unit_scores__build AS SELECT * FROM unit_scores")
    con.execute("CREATE TABLE warnings__build AS SELECT * FROM warnings")
    con.close()
    tmp = warehouse.published_path(db).with_name(warehouse.published_path(db).name + ".tmp")
    tmp.write_bytes(b"\0" * 4096)
    con = warehouse.connect(db)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert not {t for t in tables if t.endswith("__build")} and "unit_scores" in tables
    assert not tmp.exists()


_KILLED_PUBLISH = """
import os, sys
from pipelines import warehouse
def die(src, dst):  # the process is killed after the copy is written, before it replaces the snapshot
    os._exit(137)
os.replace = die
warehouse.publish(sys.argv[1])
"""


def test_a_publish_killed_midway_is_finished_by_the_next_start(tmp_path, zt):
    db = tmp_path / "w.duckdb"
    build_fixture(db)
    snapshot = warehouse.published_path(db)
    assert warehouse.snapshot_build(snapshot) == BUILD
    _new_build(db, "second-build", publish=True)
    proc = subprocess.run([sys.executable, "-c", _KILLED_PUBLISH, str(db)], cwd=REPO, capture_output=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert proc.returncode == 137, proc.stderr
    assert warehouse.snapshot_build(snapshot) == BUILD  # the dashboard still shows the previous build, whole
    assert snapshot.with_name(snapshot.name + ".tmp").exists()
    con = warehouse.connect(db)  # the next writer (ingest, build, serve) finishes the publication
    con.close()
    assert warehouse.snapshot_build(snapshot) == "second-build"
    assert not snapshot.with_name(snapshot.name + ".tmp").exists()
    assert _mode(snapshot) == 0o600


def test_a_build_not_meant_for_publishing_stays_unpublished(tmp_path):
    db = tmp_path / "w.duckdb"
    build_fixture(db)
    _new_build(db, "trial-build", publish=False)  # `zhengtai build --no-publish`
    warehouse.connect(db).close()
    assert warehouse.snapshot_build(warehouse.published_path(db)) == BUILD


_HOLD = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"


@pytest.mark.parametrize("argv0, says", [
    ("python3", "locked by another program"),
    ("zhengtai", "in use by another zhengtai process"),
])
def test_a_lock_names_its_holder(tmp_path, argv0, says):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    # exec -a sets the holder's program name as a process list shows it
    holder = subprocess.Popen(["bash", "-c", f'exec -a {argv0} "{sys.executable}" -c "$0" "$1"', _HOLD, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              # renamed, the interpreter no longer finds its virtual environment by itself
                              env=dict(os.environ, PYTHONPATH=str(Path(duckdb.__file__).parent.parent)))
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError) as exc:
            warehouse.connect(db)
        message = str(exc.value)
        assert says in message and f"PID {holder.pid}" in message and "\n" not in message
        if argv0 != "zhengtai":
            assert "zhengtai process" not in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
