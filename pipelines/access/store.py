"""The local user store: accounts with argon2 hashes, roles, team scopes, lockout and the audit trail.

SQLite (standard library) rather than DuckDB: the dashboard runs several sessions in threads that each
write a failed login or an audit line, and SQLite's WAL mode handles short concurrent writers well, while
a DuckDB file would be locked by one process. The file lives next to the warehouse (DB.users.sqlite) or
at an explicit path; it is never inside the published snapshot, so a rebuild cannot lose it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines import vocabulary
from pipelines.errors import UserError

ROLES = ("leader", "analyst", "admin")
ROLE_ZH = {r: vocabulary.word("role", r) for r in ROLES}
ALL_TEAMS = "*"
MIN_PASSWORD = 8

# Defaults for the lockout: 5 wrong passwords in a row lock the account for 15 minutes.
MAX_FAILURES = int(os.environ.get("ZHENGTAI_MAX_FAILURES", "5"))
LOCK_MINUTES = float(os.environ.get("ZHENGTAI_LOCK_MINUTES", "15"))

# The store's own DDL: SQLite, not DuckDB, so it stays with the module that runs it.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    teams         TEXT NOT NULL,      -- JSON list of 派驻组 teams, or ["*"] for every team
    password_hash TEXT,               -- NULL for accounts that sign in through OIDC only
    created_at    REAL NOT NULL,
    failed_count  INTEGER NOT NULL DEFAULT 0,
    locked_until  REAL,
    last_login    REAL
);
CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        REAL NOT NULL,
    user_name TEXT NOT NULL,
    role      TEXT,
    action    TEXT NOT NULL,   -- login | login_failed | login_locked | view_records | export | denied | user_add ...
    target    TEXT,            -- what was viewed or exported: a warning id, a unit, a file name
    detail    TEXT             -- JSON: filters, row counts, snapshot identity
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
"""

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so the answer takes as long as for a real account.
_DUMMY_HASH = _hasher.hash("zhengtai-no-such-user")


class LoginRejected(Exception):
    """Wrong user name or password (deliberately not saying which)."""


class LoginLocked(LoginRejected):
    """Too many failed logins: the account is locked until `until` (epoch seconds)."""

    def __init__(self, until: float):
        super().__init__(f"locked until {datetime.fromtimestamp(until):%H:%M}")
        self.until = until


class AccessDenied(Exception):
    """The user asked for a unit or data outside their role or team scope."""


@dataclass(frozen=True)
class Scope:
    """The 派驻组 teams whose units a user may see; teams=None means every team (county-wide)."""

    teams: tuple[str, ...] | None

    @property
    def all_teams(self) -> bool:
        return self.teams is None

    def allows_team(self, team: str | None) -> bool:
        return self.teams is None or (team is not None and team in self.teams)

    @property
    def key(self) -> str:
        """A stable, hashable identity for caches."""
        return ALL_TEAMS if self.teams is None else "|".join(sorted(self.teams))

    def team_list(self) -> list[str]:
        return [] if self.teams is None else list(self.teams)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    teams: tuple[str, ...] | None  # None = all teams

    @property
    def scope(self) -> Scope:
        return Scope(self.teams)

    @property
    def can_see_records(self) -> bool:
        """Pseudonymised ledger records (evidence, timelines of single records): analysts and admins."""
        return self.role in ("analyst", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_zh(self) -> str:
        return ROLE_ZH[self.role]

    @property
    def teams_zh(self) -> str:
        return "全部派驻组" if self.teams is None else "、".join(self.teams)


def default_users_path(db: str | os.PathLike) -> Path:
    """Beside the warehouse: county.duckdb → county.users.sqlite (not the snapshot, which is replaced)."""
    path = Path(db)
    return path.with_name(path.stem + ".users.sqlite")


def _parse_teams(raw: str) -> tuple[str, ...] | None:
    teams = json.loads(raw)
    return None if ALL_TEAMS in teams else tuple(teams)


class UserStore:
    def __init__(
        self,
        path: str | os.PathLike,
        *,
        max_failures: int = MAX_FAILURES,
        lock_minutes: float = LOCK_MINUTES,
        create: bool = True,
    ):
        self.path = Path(path)
        self.max_failures = max_failures
        self.lock_seconds = lock_minutes * 60.0
        if not self.path.exists():
            if not create:
                raise UserError(f"user store {self.path} does not exist: add a user with `zhengtai users add`")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con:
            con.executescript(_SCHEMA)
        try:
            os.chmod(self.path, 0o600)  # hashes and the audit trail are for the owner only
        except OSError:
            pass

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.row_factory = sqlite3.Row
        return con

    # ---- accounts -------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        password: str | None,
        role: str,
        teams: Iterable[str] | None,
        *,
        replace: bool = False,
    ) -> User:
        """Create (or with replace=True, update) an account. teams=None gives every team."""
        name = name.strip()
        if not name:
            raise UserError("user name is empty")
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        team_list = None if teams is None else sorted({t.strip() for t in teams if t.strip()})
        if team_list is not None and not team_list:
            raise UserError("give at least one --team, or --all-teams for a county-wide account")
        if password is not None and len(password) < MIN_PASSWORD:
            raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
        digest = _hasher.hash(password) if password is not None else None
        teams_json = json.dumps([ALL_TEAMS] if team_list is None else team_list, ensure_ascii=False)
        with closing(self._connect()) as con:
            exists = con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise UserError(f"user {name!r} exists: remove it first or pass --replace")
            con.execute(
                "INSERT INTO users(name, role, teams, password_hash, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = excluded.role, teams = excluded.teams, "
                "password_hash = excluded.password_hash, failed_count = 0, locked_until = NULL",
                (name, role, teams_json, digest, time.time()),
            )
        return User(name, role, None if team_list is None else tuple(team_list))

    def remove(self, name: str) -> None:
        with closing(self._connect()) as con:
            cur = con.execute("DELETE FROM users WHERE name = ?", (name,))
            if cur.rowcount == 0:
                raise UserError(f"no user {name!r}")

    def unlock(self, name: str) -> None:
        with closing(self._connect()) as con:
            con.execute("UPDATE users SET failed_count = 0, locked_until = NULL WHERE name = ?", (name,))

    def get(self, name: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT name, role, teams FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else User(row["name"], row["role"], _parse_teams(row["teams"]))

    def list(self) -> list[dict]:
        """Accounts for display: never the hashes."""
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT name, role, teams, failed_count, locked_until, last_login, created_at, "
                "password_hash IS NOT NULL AS has_password FROM users ORDER BY name"
            ).fetchall()
        out = []
        now = time.time()
        for r in rows:
            teams = _parse_teams(r["teams"])
            out.append(
                {
                    "name": r["name"],
                    "role": r["role"],
                    "teams": "*" if teams is None else ",".join(teams),
                    "locked": bool(r["locked_until"] and r["locked_until"] > now),
                    "failed_count": r["failed_count"],
                    "last_login": _fmt_ts(r["last_login"]),
                    "created_at": _fmt_ts(r["created_at"]),
                    "password": bool(r["has_password"]),
                }
            )
        return out

    # ---- login ----------------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, *, now: float | None = None) -> User:
        """The user on success; LoginLocked while locked; LoginRejected otherwise. Failures are audited."""
        now = time.time() if now is None else now
        name = name.strip()
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
            if row is None or row["password_hash"] is None:
                _verify(_DUMMY_HASH, password)  # same cost as a real check: no user-name probing by timing
                self._audit(con, name or "?", None, "login_failed", None, {"reason": "unknown user"}, now)
                raise LoginRejected("wrong user name or password")
            if row["locked_until"] and row["locked_until"] > now:
                self._audit(con, name, row["role"], "login_locked", None, {}, now)
                raise LoginLocked(row["locked_until"])
            if not _verify(row["password_hash"], password):
                failures = row["failed_count"] + 1
                if failures >= self.max_failures:
                    until = now + self.lock_seconds
                    con.execute(
                        "UPDATE users SET failed_count = 0, locked_until = ? WHERE name = ?", (until, name)
                    )
                    self._audit(con, name, row["role"], "locked", None, {"failures": failures}, now)
                    raise LoginLocked(until)
                con.execute("UPDATE users SET failed_count = ? WHERE name = ?", (failures, name))
                self._audit(con, name, row["role"], "login_failed", None, {"failures": failures}, now)
                raise LoginRejected("wrong user name or password")
            if _hasher.check_needs_rehash(row["password_hash"]):
                con.execute("UPDATE users SET password_hash = ? WHERE name = ?", (_hasher.hash(password), name))
            con.execute(
                "UPDATE users SET failed_count = 0, locked_until = NULL, last_login = ? WHERE name = ?",
                (now, name),
            )
            self._audit(con, name, row["role"], "login", None, {}, now)
        return User(row["name"], row["role"], _parse_teams(row["teams"]))

    def user_for_identity(self, name: str) -> User | None:
        """An account signed in by OIDC (st.login): known by its e-mail or subject, role and teams from here."""
        user = self.get(name)
        with closing(self._connect()) as con:
            self._audit(con, name, user.role if user else None, "login" if user else "login_failed",
                        None, {"via": "oidc"}, time.time())
        return user

    # ---- audit ----------------------------------------------------------------------------------

    def audit(self, user: User | str, action: str, target: str | None = None, detail: dict | None = None) -> None:
        name, role = (user.name, user.role) if isinstance(user, User) else (user, None)
        with closing(self._connect()) as con:
            self._audit(con, name, role, action, target, detail or {}, time.time())

    @staticmethod
    def _audit(con, name, role, action, target, detail, at) -> None:
        con.execute(
            "INSERT INTO audit_log(at, user_name, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (at, name, role, action, target, json.dumps(detail, ensure_ascii=False, default=str)),
        )

    def audit_log(self, *, limit: int = 500, action: str | None = None, user: str | None = None) -> list[dict]:
        sql = "SELECT at, user_name, role, action, target, detail FROM audit_log WHERE 1=1"
        args: list = []
        if action:
            sql += " AND action = ?"
            args.append(action)
        if user:
            sql += " AND user_name = ?"
            args.append(user)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with closing(self._connect()) as con:
            rows = con.execute(sql, args).fetchall()
        return [
            {
                "at": _fmt_ts(r["at"]),
                "user": r["user_name"],
                "role": r["role"],
                "action": r["action"],
                "target": r["target"],
                "detail": json.loads(r["detail"]) if r["detail"] else {},
            }
            for r in rows
        ]


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _fmt_ts(ts: float | None) -> str:
    return "" if not ts else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
