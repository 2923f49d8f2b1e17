"""The local user store: accounts with argon2 hashes, roles, team scopes, login limits, sessions, audit.

SQLite (standard library) rather than DuckDB: the dashboard runs several sessions in threads, and possibly
several server processes, that each write a failed login, a session or an audit line; SQLite's WAL mode and
`BEGIN IMMEDIATE` serialise those short writers across threads and processes, while a DuckDB file would be
locked by one process. The file lives next to the warehouse (DB.users.sqlite) or at an explicit path; it
is never inside the published snapshot, so a rebuild cannot lose it.

Login limits hold under concurrency: an attempt takes its turn (the failure counter is incremented in one
serialised transaction) *before* the slow password check, so N simultaneous guesses can never check more
than the limit's worth of passwords. The same limits apply to names that do not exist, so neither the
messages nor the lockout tell an attacker which user names are real.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
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
LOCAL = "local"  # the address of a client on this machine (or unknown)
FOREVER = 253402300799.0  # 9999-12-31: an account locked by an administrator until unlocked


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise UserError(f"{name} must be greater than 0, not {raw}")
    return value


@dataclass(frozen=True)
class Policy:
    """Login limits and session lifetimes; defaults from the environment (see dashboards/README.md).

    max_failures wrong passwords in a row for one user name (each within lock_minutes of the previous)
    lock that name for lock_minutes; max_address_failures failures from one client address lock every
    login from it for as long. A session ends after idle_minutes without a page run, and in any case
    session_hours after sign-in."""

    max_failures: int = 5
    lock_minutes: float = 15.0
    max_address_failures: int = 20
    idle_minutes: float = 30.0
    session_hours: float = 12.0

    @classmethod
    def from_env(cls, **overrides) -> "Policy":
        values = {
            "max_failures": int(_env_float("ZHENGTAI_MAX_FAILURES", cls.max_failures)),
            "lock_minutes": _env_float("ZHENGTAI_LOCK_MINUTES", cls.lock_minutes),
            "max_address_failures": int(_env_float("ZHENGTAI_MAX_ADDRESS_FAILURES", cls.max_address_failures)),
            "idle_minutes": _env_float("ZHENGTAI_SESSION_IDLE_MINUTES", cls.idle_minutes),
            "session_hours": _env_float("ZHENGTAI_SESSION_HOURS", cls.session_hours),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def lock_seconds(self) -> float:
        return self.lock_minutes * 60.0

    @property
    def idle_seconds(self) -> float:
        return self.idle_minutes * 60.0

    @property
    def lifetime_seconds(self) -> float:
        return self.session_hours * 3600.0


# The store's own DDL: SQLite, not DuckDB, so it stays with the module that runs it.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    teams         TEXT NOT NULL,      -- JSON list of 派驻组 teams, or ["*"] for every team
    password_hash TEXT,               -- NULL for accounts that sign in through OIDC only
    created_at    REAL NOT NULL,
    last_login    REAL
);
-- Failed logins per user name as typed (known or not) and per client address. `failures` is taken
-- before the password is checked, so attempts in flight count; it restarts after a quiet lock period.
CREATE TABLE IF NOT EXISTS login_limits (
    scope         TEXT NOT NULL,      -- user | address
    key           TEXT NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_failure  REAL,
    locked_until  REAL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT PRIMARY KEY,   -- random; the browser holds it signed, in an HttpOnly cookie
    user_name     TEXT NOT NULL,
    created_at    REAL NOT NULL,
    last_seen     REAL NOT NULL,
    address       TEXT,
    ended_at      REAL,
    end_reason    TEXT,               -- logout | idle | lifetime | account_removed | account_locked | password_changed
    ticket        TEXT,               -- one-time, short-lived: exchanged by the browser for the cookie
    ticket_until  REAL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_name);
CREATE TABLE IF NOT EXISTS store_keys (
    name          TEXT PRIMARY KEY,
    value         BLOB NOT NULL       -- the session-signing key: never leaves this file
);
CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        REAL NOT NULL,
    user_name TEXT NOT NULL,
    role      TEXT,
    action    TEXT NOT NULL,   -- login | login_failed | login_locked | locked | logout | session_end | view_records | export ...
    target    TEXT,            -- what was viewed or exported: a warning id, a unit, a file name
    detail    TEXT             -- JSON: filters, row counts, snapshot identity, client address
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
"""

TICKET_SECONDS = 120.0  # how long the browser has to exchange a sign-in ticket for its cookie
_TOUCH_SECONDS = 15.0   # a session's last_seen is written at most this often (every run would be a write)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so the answer takes as long as for a real account.
_DUMMY_HASH = _hasher.hash("zhengtai-no-such-user")


def client_address(raw: str | None) -> str:
    """A client's address as the limits key it: IPv4-mapped IPv6 unwrapped, loopback and unknown → local."""
    if not raw:
        return LOCAL
    try:
        ip = ipaddress.ip_address(raw.strip())
    except ValueError:
        return LOCAL
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return LOCAL if ip.is_loopback else str(ip)


class LoginRejected(Exception):
    """Wrong user name or password (deliberately not saying which)."""


class LoginLocked(LoginRejected):
    """Too many failed logins for the name or from the address: refused until `until` (epoch seconds)."""

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
        max_failures: int | None = None,
        lock_minutes: float | None = None,
        max_address_failures: int | None = None,
        idle_minutes: float | None = None,
        session_hours: float | None = None,
        create: bool = True,
    ):
        self.path = Path(path)
        self.policy = Policy.from_env(max_failures=max_failures, lock_minutes=lock_minutes,
                                      max_address_failures=max_address_failures, idle_minutes=idle_minutes,
                                      session_hours=session_hours)
        if not self.path.exists():
            if not create:
                raise UserError(f"user store {self.path} does not exist: add a user with `zhengtai users add`")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Created owner-only: hashes, sessions and the audit trail are for the owner alone.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with closing(self._connect()) as con:
            con.executescript(_SCHEMA)
        for suffix in ("", "-wal", "-shm"):
            try:
                os.chmod(f"{self.path}{suffix}", 0o600)
            except OSError:
                pass

    @property
    def max_failures(self) -> int:
        return self.policy.max_failures

    @property
    def lock_seconds(self) -> float:
        return self.policy.lock_seconds

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=30000")
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
        """Create (or with replace=True, update) an account. teams=None gives every team.

        Updating an account lifts its lock; a new password ends its open sessions, while a new role or
        new teams apply to them at their next page run."""
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
            old = con.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
            if old and not replace:
                raise UserError(f"user {name!r} exists: remove it first or pass --replace")
            if old is None:
                password_changed = False
            elif password is None:
                password_changed = old["password_hash"] is not None
            else:
                password_changed = not (old["password_hash"] and _verify(old["password_hash"], password))
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                "INSERT INTO users(name, role, teams, password_hash, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = excluded.role, teams = excluded.teams, "
                "password_hash = excluded.password_hash",
                (name, role, teams_json, digest, time.time()),
            )
            con.execute("DELETE FROM login_limits WHERE scope = 'user' AND key = ?", (name,))
            if password_changed:
                self._end_sessions(con, name, "password_changed", time.time())
            con.execute("COMMIT")
        return User(name, role, None if team_list is None else tuple(team_list))

    def remove(self, name: str) -> None:
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute("DELETE FROM users WHERE name = ?", (name,))
            if cur.rowcount == 0:
                con.execute("ROLLBACK")
                raise UserError(f"no user {name!r}")
            con.execute("DELETE FROM login_limits WHERE scope = 'user' AND key = ?", (name,))
            self._end_sessions(con, name, "account_removed", time.time())
            con.execute("COMMIT")

    def lock(self, name: str) -> None:
        """Lock an account until an administrator unlocks it; its open sessions end at once."""
        now = time.time()
        with closing(self._connect()) as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise UserError(f"no user {name!r}")
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                "INSERT INTO login_limits(scope, key, failures, locked_until) VALUES ('user', ?, 0, ?) "
                "ON CONFLICT(scope, key) DO UPDATE SET locked_until = excluded.locked_until", (name, FOREVER))
            self._end_sessions(con, name, "account_locked", now)
            con.execute("COMMIT")

    def unlock(self, name: str) -> None:
        with closing(self._connect()) as con:
            con.execute("DELETE FROM login_limits WHERE scope = 'user' AND key = ?", (name,))

    def unblock_address(self, address: str) -> None:
        with closing(self._connect()) as con:
            con.execute("DELETE FROM login_limits WHERE scope = 'address' AND key = ?", (client_address(address),))

    def get(self, name: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT name, role, teams FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else User(row["name"], row["role"], _parse_teams(row["teams"]))

    def list(self) -> list[dict]:
        """Accounts for display: never the hashes."""
        now = time.time()
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT u.name, u.role, u.teams, u.last_login, u.created_at, u.password_hash IS NOT NULL AS has_password, "
                "       coalesce(l.failures, 0) AS failures, l.last_failure, l.locked_until, "
                "       (SELECT count(*) FROM sessions s WHERE s.user_name = u.name AND s.ended_at IS NULL "
                "          AND s.last_seen > ? AND s.created_at > ?) AS sessions "
                "FROM users u LEFT JOIN login_limits l ON l.scope = 'user' AND l.key = u.name ORDER BY u.name",
                (now - self.policy.idle_seconds, now - self.policy.lifetime_seconds),
            ).fetchall()
        out = []
        for r in rows:
            teams = _parse_teams(r["teams"])
            quiet = r["last_failure"] is None or now - r["last_failure"] > self.lock_seconds
            out.append(
                {
                    "name": r["name"],
                    "role": r["role"],
                    "teams": "*" if teams is None else ",".join(teams),
                    "locked": bool(r["locked_until"] and r["locked_until"] > now),
                    "failed_count": 0 if quiet and not r["locked_until"] else r["failures"],
                    "last_login": _fmt_ts(r["last_login"]),
                    "created_at": _fmt_ts(r["created_at"]),
                    "password": bool(r["has_password"]),
                    "sessions": r["sessions"],
                }
            )
        return out

    # ---- login ----------------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, *, address: str | None = None,
                     now: float | None = None) -> User:
        """The user on success; LoginLocked while the name or the address is locked; LoginRejected
        otherwise. Unknown names go through the same turn, check and limits as real ones. Audited."""
        now = time.time() if now is None else now
        name = name.strip()
        addr = client_address(address)
        with closing(self._connect()) as con:
            self._take_turn(con, name, addr, now)
            row = con.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
            digest = row["password_hash"] if row is not None else None
            # Same cost with or without such a user: no user-name probing by timing.
            ok = _verify(digest or _DUMMY_HASH, password) and digest is not None
            if not ok:
                self._failed(con, name, addr, row, now)
            self._succeeded(con, name, addr, row, password, now)
        return User(row["name"], row["role"], _parse_teams(row["teams"]))

    def _limits(self, con, scope: str, key: str, now: float) -> sqlite3.Row | None:
        """The limits row of (scope, key), restarted first if its lock ran out or it has been quiet for
        a lock period. Inside the caller's transaction."""
        row = con.execute("SELECT * FROM login_limits WHERE scope = ? AND key = ?", (scope, key)).fetchone()
        if row is None:
            return None
        expired = row["locked_until"] is not None and row["locked_until"] <= now
        quiet = row["locked_until"] is None and (row["last_failure"] is None
                                                 or now - row["last_failure"] > self.lock_seconds)
        if expired or (quiet and row["failures"]):
            con.execute("UPDATE login_limits SET failures = 0, locked_until = NULL WHERE scope = ? AND key = ?",
                        (scope, key))
            return con.execute("SELECT * FROM login_limits WHERE scope = ? AND key = ?", (scope, key)).fetchone()
        return row

    def _take_turn(self, con, name: str, addr: str, now: float) -> None:
        """Count this attempt before its password is checked, in one serialised transaction; refuse it
        (LoginLocked) when the name or the address is locked or its attempts in flight fill the limit."""
        con.execute("BEGIN IMMEDIATE")
        try:
            limits = {("user", name): self.max_failures, ("address", addr): self.policy.max_address_failures}
            untils = []
            for (scope, key), limit in limits.items():
                row = self._limits(con, scope, key, now)
                if row is None:
                    continue
                if row["locked_until"] is not None and row["locked_until"] > now:
                    untils.append(row["locked_until"])
                elif row["failures"] >= limit:  # the attempts that fill the limit are still being checked
                    untils.append(now + self.lock_seconds)
            if untils:
                self._audit(con, name or "?", None, "login_locked", None, {"address": addr}, now)
                con.execute("COMMIT")
                raise LoginLocked(max(untils))
            for scope, key in limits:
                con.execute(
                    "INSERT INTO login_limits(scope, key, failures, last_failure) VALUES (?, ?, 1, ?) "
                    "ON CONFLICT(scope, key) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure",
                    (scope, key, now))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    def _failed(self, con, name: str, addr: str, row, now: float) -> None:
        """A wrong password (or no such user): lock what reached its limit; raise for the caller."""
        con.execute("BEGIN IMMEDIATE")
        locked = {}
        for scope, key, limit in (("user", name, self.max_failures), ("address", addr, self.policy.max_address_failures)):
            r = con.execute("SELECT failures, locked_until FROM login_limits WHERE scope = ? AND key = ?",
                            (scope, key)).fetchone()
            if r is not None and r["failures"] >= limit and r["locked_until"] is None:
                locked[scope] = now + self.lock_seconds
                con.execute("UPDATE login_limits SET locked_until = ?, last_failure = ? WHERE scope = ? AND key = ?",
                            (locked[scope], now, scope, key))
        # Rows that have been quiet for a lock period count nothing any more.
        con.execute("DELETE FROM login_limits WHERE locked_until IS NULL AND last_failure < ?",
                    (now - self.lock_seconds,))
        con.execute("DELETE FROM login_limits WHERE locked_until IS NOT NULL AND locked_until < ?", (now,))
        role = row["role"] if row is not None else None
        detail = {"address": addr} if row is not None else {"address": addr, "reason": "unknown user"}
        self._audit(con, name or "?", role, "locked" if "user" in locked else "login_failed", None,
                    {**detail, **({"locked": sorted(locked)} if locked else {})}, now)
        con.execute("COMMIT")
        if locked:
            raise LoginLocked(max(locked.values()))
        raise LoginRejected("wrong user name or password")

    def _succeeded(self, con, name: str, addr: str, row, password: str, now: float) -> None:
        con.execute("BEGIN IMMEDIATE")
        con.execute("DELETE FROM login_limits WHERE scope = 'user' AND key = ? AND locked_until IS NOT ?",
                    (name, FOREVER))
        # The address gives back the turn it took: only failures count against it.
        con.execute("UPDATE login_limits SET failures = max(failures - 1, 0) WHERE scope = 'address' AND key = ?",
                    (addr,))
        if _hasher.check_needs_rehash(row["password_hash"]):
            con.execute("UPDATE users SET password_hash = ? WHERE name = ?", (_hasher.hash(password), name))
        con.execute("UPDATE users SET last_login = ? WHERE name = ?", (now, name))
        self._audit(con, name, row["role"], "login", None, {"address": addr}, now)
        con.execute("COMMIT")

    def user_for_identity(self, name: str) -> User | None:
        """An account signed in by OIDC (st.login): known by its e-mail or subject, role and teams from here."""
        user = self.get(name)
        with closing(self._connect()) as con:
            if user is not None and self._locked(con, name, time.time()):
                user = None
            self._audit(con, name, user.role if user else None, "login" if user else "login_failed",
                        None, {"via": "oidc"}, time.time())
        return user

    @staticmethod
    def _locked(con, name: str, now: float) -> bool:
        row = con.execute("SELECT locked_until FROM login_limits WHERE scope = 'user' AND key = ?", (name,)).fetchone()
        return row is not None and row["locked_until"] is not None and row["locked_until"] > now

    # ---- sessions -------------------------------------------------------------------------------

    def open_session(self, user: User, *, address: str | None = None, now: float | None = None) -> tuple[str, str]:
        """A new session for a signed-in user: (session id, one-time ticket the browser exchanges for the
        signed cookie within TICKET_SECONDS)."""
        now = time.time() if now is None else now
        sid, ticket = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with closing(self._connect()) as con:
            con.execute(
                "INSERT INTO sessions(id, user_name, created_at, last_seen, address, ticket, ticket_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sid, user.name, now, now, client_address(address), ticket, now + TICKET_SECONDS))
        return sid, ticket

    def redeem_ticket(self, ticket: str, *, now: float | None = None) -> str | None:
        """The signed session token for a one-time ticket (once, while fresh and the session is open)."""
        now = time.time() if now is None else now
        if not ticket or len(ticket) > 100:
            return None
        with closing(self._connect()) as con:
            row = con.execute(
                "UPDATE sessions SET ticket = NULL, ticket_until = NULL "
                "WHERE ticket = ? AND ticket_until >= ? AND ended_at IS NULL RETURNING id",
                (ticket, now)).fetchone()
            return None if row is None else self._sign(con, row["id"])

    def ticket_pending(self, sid: str) -> bool:
        with closing(self._connect()) as con:
            row = con.execute("SELECT ticket_until FROM sessions WHERE id = ? AND ticket IS NOT NULL", (sid,)).fetchone()
        return row is not None and row["ticket_until"] >= time.time()

    def session_id(self, token: str | None) -> str | None:
        """The session id a cookie token carries, if its signature is this store's."""
        if not token or token.count(".") != 1 or len(token) > 200:
            return None
        sid, _ = token.split(".")
        with closing(self._connect()) as con:
            return sid if hmac.compare_digest(self._sign(con, sid), token) else None

    def session_user(self, sid: str | None, *, now: float | None = None) -> tuple[User | None, str | None]:
        """(user, None) for a live session, the account re-read now; (None, reason) once it has ended:
        logout, idle, lifetime, account_removed, account_locked, password_changed, or unknown."""
        if not sid:
            return None, "unknown"
        now = time.time() if now is None else now
        p = self.policy
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT s.*, u.role, u.teams, l.locked_until FROM sessions s "
                "LEFT JOIN users u ON u.name = s.user_name "
                "LEFT JOIN login_limits l ON l.scope = 'user' AND l.key = s.user_name WHERE s.id = ?", (sid,)).fetchone()
            if row is None:
                return None, "unknown"
            if row["ended_at"] is not None:
                return None, row["end_reason"]
            reason = ("account_removed" if row["role"] is None
                      else "account_locked" if row["locked_until"] is not None and row["locked_until"] > now
                      else "lifetime" if now - row["created_at"] > p.lifetime_seconds
                      else "idle" if now - row["last_seen"] > p.idle_seconds
                      else None)
            if reason:
                self._end(con, sid, row["user_name"], row["role"], reason, now)
                return None, reason
            if now - row["last_seen"] > _TOUCH_SECONDS:
                con.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, sid))
        return User(row["user_name"], row["role"], _parse_teams(row["teams"])), None

    def end_session(self, sid: str | None, reason: str = "logout") -> None:
        if not sid:
            return
        with closing(self._connect()) as con:
            row = con.execute("SELECT s.user_name, u.role FROM sessions s LEFT JOIN users u ON u.name = s.user_name "
                              "WHERE s.id = ? AND s.ended_at IS NULL", (sid,)).fetchone()
            if row is not None:
                self._end(con, sid, row["user_name"], row["role"], reason, time.time())

    def _end(self, con, sid: str, name: str, role: str | None, reason: str, now: float) -> None:
        con.execute("UPDATE sessions SET ended_at = ?, end_reason = ?, ticket = NULL WHERE id = ? AND ended_at IS NULL",
                    (now, reason, sid))
        self._audit(con, name, role, "logout" if reason == "logout" else "session_end", None, {"reason": reason}, now)

    def _end_sessions(self, con, name: str, reason: str, now: float) -> None:
        """Inside the caller's transaction: every open session of the account ends."""
        n = con.execute("UPDATE sessions SET ended_at = ?, end_reason = ?, ticket = NULL "
                        "WHERE user_name = ? AND ended_at IS NULL", (now, reason, name)).rowcount
        if n:
            self._audit(con, name, None, "session_end", None, {"reason": reason, "sessions": n}, now)

    def _sign(self, con, sid: str) -> str:
        return f"{sid}.{hmac.new(self._key(con), sid.encode(), hashlib.sha256).hexdigest()}"

    @staticmethod
    def _key(con) -> bytes:
        """This store's session-signing key, made on first use; rotating it (deleting the row) signs
        everyone out."""
        row = con.execute("SELECT value FROM store_keys WHERE name = 'session'").fetchone()
        if row is None:
            con.execute("INSERT OR IGNORE INTO store_keys(name, value) VALUES ('session', ?)", (secrets.token_bytes(32),))
            row = con.execute("SELECT value FROM store_keys WHERE name = 'session'").fetchone()
        return bytes(row[0])

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
