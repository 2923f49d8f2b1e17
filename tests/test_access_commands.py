"""`zhengtai users add|remove|list|lock|unlock` and `zhengtai serve`'s checks, run in-process."""

from __future__ import annotations

import sys

from pipelines.access.commands import streamlit_args
from pipelines.access.store import UserStore


def _stdin(monkeypatch, text: str) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_users_add_list_remove_unlock(tmp_path, zt, monkeypatch):
    db = tmp_path / "county.duckdb"
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "liu", "--role", "analyst", "--team", "第一派驻组", "--password-stdin", "--db", db)
    assert res.code == 0, res.err
    store = UserStore(tmp_path / "county.users.sqlite")
    assert store.authenticate("liu", "s3cret-pass").teams == ("第一派驻组",)

    _stdin(monkeypatch, "another-pass\n")
    res = zt("users", "add", "chen", "--role", "admin", "--all-teams", "--password-stdin", "--db", db)
    assert res.code == 0, res.err
    res = zt("users", "list", "--db", db)
    assert res.code == 0 and "liu" in res.out and "chen" in res.out and "argon2" not in res.out

    res = zt("users", "lock", "liu", "--db", db)
    assert res.code == 0 and {u["name"]: u for u in store.list()}["liu"]["locked"]
    res = zt("users", "unlock", "liu", "--db", db)
    assert res.code == 0 and not {u["name"]: u for u in store.list()}["liu"]["locked"]
    res = zt("users", "remove", "liu", "--db", db)
    assert res.code == 0
    assert store.get("liu") is None
    assert [e["action"] for e in store.audit_log(user="cli")][:3] == ["user_remove", "user_unlock", "user_lock"]
    assert zt("users", "lock", "nobody", "--db", db).code == 2


def test_users_add_needs_a_team_and_a_location(tmp_path, zt, monkeypatch):
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--password-stdin", "--db", tmp_path / "d.duckdb")
    assert res.code == 2 and "--team" in res.err
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--team", "A", "--all-teams", "--password-stdin",
             "--db", tmp_path / "d.duckdb")
    assert res.code == 2 and "not both" in res.err
    monkeypatch.delenv("ZHENGTAI_USERS", raising=False)
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--team", "A", "--password-stdin")
    assert res.code == 2 and "--users" in res.err
    res = zt("users", "remove", "x", "--users", tmp_path / "missing.sqlite")
    assert res.code == 2 and "does not exist" in res.err


def test_serve_refuses_without_a_published_snapshot(tmp_path, zt):
    res = zt("serve", "--db", tmp_path / "county.duckdb")
    assert res.code == 2 and "zhengtai build" in res.err


def test_serve_runs_streamlit_headless_without_telemetry(tmp_path):
    cmd = streamlit_args(8765, "127.0.0.1")
    args = dict(zip(cmd[::1], cmd[1::1]))
    assert cmd[0] == "run" and cmd[1].endswith("dashboards/server.py")  # app.py plus the session-cookie routes
    assert args["--client.disableDataExport"] == "true"  # no table's own CSV download or copy
    assert args["--server.headless"] == "true"
    assert args["--browser.gatherUsageStats"] == "false"
    assert args["--server.port"] == "8765" and args["--server.address"] == "127.0.0.1"


def test_serve_on_a_taken_port_says_which_port_to_use_instead(tmp_path, zt):
    import socket

    from pipelines.warehouse import published_path

    db = tmp_path / "county.duckdb"
    published_path(db).write_bytes(b"")  # serve checks the snapshot exists before anything else
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = zt("serve", "--db", db, "--port", port)
    assert res.code == 2
    assert f"端口 {port} 已被占用" in res.err and f"--port {port + 1}" in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_users_add_checks_the_team_against_the_unit_master(tmp_path, zt, monkeypatch, key_file):
    from tests.ledger_files import roster

    db = tmp_path / "county.duckdb"
    assert zt("init", "--db", db).code == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--team", "第一派驻组", "--password-stdin", "--db", db)
    assert res.code == 2 and "单位名册" in res.err  # nothing to check against yet
    assert zt("ingest", "--db", db, roster(tmp_path)).code == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--team", "第一派组", "--password-stdin", "--db", db)
    assert res.code == 2 and "did you mean 第一派驻组" in res.err and len(res.err.strip().splitlines()) == 1
    assert UserStore(tmp_path / "county.users.sqlite").get("x") is None
    _stdin(monkeypatch, "s3cret-pass\n")
    res = zt("users", "add", "x", "--role", "leader", "--team", "第二派驻组", "--password-stdin", "--db", db)
    assert res.code == 0, res.err
