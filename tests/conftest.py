"""Shared fixtures: a private pseudonymisation key, a fresh warehouse, and the CLI run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own key, outside the repository, as a real install would."""
    path = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.setenv("ZHENGTAI_KEY_FILE", str(path))
    return path


@pytest.fixture
def zt(capsys: pytest.CaptureFixture[str]):
    """Run `zhengtai ARGS...` in-process; returns exit code and captured output."""
    from pipelines.cli import main

    def run(*args: object) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return run


@pytest.fixture
def db(tmp_path: Path, key_file: Path, zt) -> Path:
    path = tmp_path / "warehouse.duckdb"
    res = zt("init", "--db", path)
    assert res.code == 0, res.err
    return path
