"""The local user store: argon2 hashes, roles and teams, lockout, audit trail."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from pipelines.access.store import LoginLocked, LoginRejected, Scope, UserStore, default_users_path
from pipelines.errors import UserError


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "users.sqlite", max_failures=3, lock_minutes=10)


def test_password_is_stored_only_as_argon2_hash(store):
    store.add("zhang", "correct horse", "analyst", ["第一派驻组"])
    raw = sqlite3.connect(store.path).execute("SELECT password_hash FROM users WHERE name='zhang'").fetchone()[0]
    assert raw.startswith("$argon2id$")
    assert "correct horse" not in raw
    user = store.authenticate("zhang", "correct horse")
    assert (user.name, user.role, user.teams) == ("zhang", "analyst", ("第一派驻组",))
    assert user.can_see_records and not user.is_admin


def test_roles_teams_and_scope(store):
    leader = store.add("li", "password-1", "leader", ["第二派驻组", "第一派驻组"])
    admin = store.add("root", "password-2", "admin", None)
    assert leader.teams == ("第一派驻组", "第二派驻组") and not leader.can_see_records
    assert admin.scope.all_teams and admin.scope.allows_team("任何组")
    assert Scope(("第一派驻组",)).allows_team("第一派驻组") and not Scope(("第一派驻组",)).allows_team("第二派驻组")
    with pytest.raises(UserError, match="unknown role"):
        store.add("x", "password-3", "boss", None)
    with pytest.raises(UserError, match="at least one"):
        store.add("x", "password-3", "leader", [])
    with pytest.raises(UserError, match="too short"):
        store.add("x", "short", "leader", ["第一派驻组"])
    with pytest.raises(UserError, match="exists"):
        store.add("li", "password-1", "leader", ["第一派驻组"])
    names = [u["name"] for u in store.list()]
    assert names == ["li", "root"]
    assert all("hash" not in k for u in store.list() for k in u)
    store.remove("li")
    assert store.get("li") is None
    with pytest.raises(UserError):
        store.remove("li")


def test_wrong_password_and_unknown_user_are_rejected_alike(store):
    store.add("wang", "right-password", "leader", ["第一派驻组"])
    with pytest.raises(LoginRejected) as a:
        store.authenticate("wang", "wrong-password")
    with pytest.raises(LoginRejected) as b:
        store.authenticate("nobody", "whatever-pass")
    assert str(a.value) == str(b.value)  # no hint which of the two was wrong
    assert not isinstance(a.value, LoginLocked)


def test_lockout_after_repeated_failures_then_expiry(store):
    store.add("zhao", "right-password", "analyst", ["第一派驻组"])
    t0 = 1_000_000.0
    for i in range(2):
        with pytest.raises(LoginRejected) as exc:
            store.authenticate("zhao", "bad", now=t0 + i)
        assert not isinstance(exc.value, LoginLocked)
    with pytest.raises(LoginLocked) as locked:
        store.authenticate("zhao", "bad", now=t0 + 2)  # third failure locks
    assert locked.value.until == pytest.approx(t0 + 2 + 600)
    # While locked even the right password is refused.
    with pytest.raises(LoginLocked):
        store.authenticate("zhao", "right-password", now=t0 + 300)
    # After the lock period the right password works and the counter is reset.
    user = store.authenticate("zhao", "right-password", now=t0 + 2 + 601)
    assert user.name == "zhao"
    with pytest.raises(LoginRejected) as again:
        store.authenticate("zhao", "bad", now=t0 + 700)
    assert not isinstance(again.value, LoginLocked)


def test_success_resets_the_failure_count(store):
    store.add("qian", "right-password", "leader", ["第一派驻组"])
    for i in range(2):
        with pytest.raises(LoginRejected):
            store.authenticate("qian", "bad", now=100.0 + i)
    store.authenticate("qian", "right-password", now=103.0)
    for i in range(2):  # two more failures do not lock: the count started again
        with pytest.raises(LoginRejected) as exc:
            store.authenticate("qian", "bad", now=104.0 + i)
        assert not isinstance(exc.value, LoginLocked)


def test_unlock(store):
    store.add("sun", "right-password", "leader", ["第一派驻组"])
    for _ in range(3):
        with pytest.raises(LoginRejected):
            store.authenticate("sun", "bad")
    assert store.list()[0]["locked"]
    store.unlock("sun")
    assert not store.list()[0]["locked"]
    assert store.authenticate("sun", "right-password").name == "sun"


def test_audit_log_records_logins_failures_and_views(store):
    user = store.add("zhou", "right-password", "analyst", ["第一派驻组"])
    store.authenticate("zhou", "right-password")
    with pytest.raises(LoginRejected):
        store.authenticate("zhou", "nope")
    store.audit(user, "view_records", "县教育局", {"rows": 3})
    store.audit(user, "export", "预警清单.xlsx", {"rows": 10})
    log = store.audit_log()
    assert [e["action"] for e in log] == ["export", "view_records", "login_failed", "login"]
    assert log[1] == {**log[1], "user": "zhou", "role": "analyst", "target": "县教育局", "detail": {"rows": 3}}
    assert [e["action"] for e in store.audit_log(action="export")] == ["export"]


def test_default_path_is_beside_the_warehouse_not_the_snapshot(tmp_path):
    assert default_users_path(tmp_path / "county.duckdb") == tmp_path / "county.users.sqlite"


def test_missing_store_is_a_user_error_when_not_creating(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        UserStore(tmp_path / "none.sqlite", create=False)


def test_oidc_identity_maps_to_a_registered_account_only(store):
    """st.login authenticates at the provider; role and teams still come from the local store."""
    store.add("li@county.gov.cn", "unused-password", "leader", ["第一派驻组"])
    user = store.user_for_identity("li@county.gov.cn")
    assert user.role == "leader" and user.teams == ("第一派驻组",)
    assert store.user_for_identity("stranger@example.org") is None
    actions = [(e["user"], e["action"], e["detail"]) for e in store.audit_log()]
    assert actions[:2] == [("stranger@example.org", "login_failed", {"via": "oidc"}),
                           ("li@county.gov.cn", "login", {"via": "oidc"})]


# ---- lockout under concurrency ---------------------------------------------------------------------------


def _guess(path: str, name: str, password: str, address: str | None, start, results, policy: dict) -> None:
    """One login attempt, released together with the others (threads of one process or several processes)."""
    store = UserStore(path, **policy)
    start.wait(timeout=60)
    try:
        store.authenticate(name, password, address=address)
        results.put("ok")
    except LoginLocked:
        results.put("locked")
    except LoginRejected:
        results.put("rejected")


def _guesses_in_threads(path: str, name: str, password: str, address: str | None, n: int, start, results,
                        policy: dict) -> None:
    import threading

    threads = [threading.Thread(target=_guess, args=(path, name, password, address, start, results, policy))
               for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _parallel(path, attempts: list[tuple[str, str, str | None]], processes: int = 4, **policy) -> list[str]:
    """Fire `attempts` at once: spread over `processes` processes, each running its share in threads."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        start, results = manager.Event(), manager.Queue()
        shares = [attempts[i::processes] for i in range(processes)]
        procs = []
        for share in shares:
            # One (name, password, address) per process share keeps the worker simple: shares are uniform here.
            (name, password, address), n = share[0], len(share)
            assert all(a == share[0] for a in share)
            procs.append(ctx.Process(target=_guesses_in_threads, args=(str(path), name, password, address, n, start, results, policy)))
        for p in procs:
            p.start()
        start.set()
        for p in procs:
            p.join(timeout=300)
            assert p.exitcode == 0
        return [results.get(timeout=5) for _ in attempts]


def _outcomes(results: list[str]) -> dict[str, int]:
    return {k: results.count(k) for k in ("ok", "rejected", "locked")}


def test_parallel_guesses_from_processes_and_threads_check_exactly_the_limit(tmp_path):
    """24 wrong passwords fired at once from 4 processes × 6 threads: exactly 5 are checked, the 5th locks,
    and the right password is refused afterwards."""
    path = tmp_path / "users.sqlite"
    store = UserStore(path, max_failures=5, lock_minutes=10)
    store.add("victim", "right-password", "analyst", ["第一派驻组"])
    results = _parallel(path, [("victim", "wrong-password", "10.0.0.7")] * 24, max_failures=5, lock_minutes=10)
    assert _outcomes(results) == {"ok": 0, "rejected": 4, "locked": 20}
    actions = [e["action"] for e in store.audit_log(user="victim")]
    assert actions.count("login_failed") == 4 and actions.count("locked") == 1  # 5 passwords checked, no more
    assert actions.count("login_locked") == 19
    with pytest.raises(LoginLocked):
        store.authenticate("victim", "right-password", address="10.0.0.8")
    assert {u["name"]: u for u in store.list()}["victim"]["locked"]


def test_unknown_names_lock_exactly_like_real_ones(tmp_path):
    """The same parallel burst at a name that does not exist gets the same answers in the same numbers:
    neither the messages nor the lockout reveal which names are real."""
    path = tmp_path / "users.sqlite"
    store = UserStore(path, max_failures=5, lock_minutes=10)
    store.add("real", "right-password", "analyst", ["第一派驻组"])
    real = _parallel(path, [("real", "wrong-password", "10.0.0.7")] * 12, processes=2, max_failures=5, lock_minutes=10)
    ghost = _parallel(path, [("ghost", "wrong-password", "10.0.0.8")] * 12, processes=2, max_failures=5, lock_minutes=10)
    assert _outcomes(real) == _outcomes(ghost) == {"ok": 0, "rejected": 4, "locked": 8}
    with pytest.raises(LoginLocked) as a:
        store.authenticate("real", "wrong-password", address="10.0.0.9")
    with pytest.raises(LoginLocked) as b:
        store.authenticate("ghost", "wrong-password", address="10.0.0.9")
    assert type(a.value) is type(b.value)
    # The same words but for the lock's end, which differs only by when each burst ran.
    assert re.sub(r"\d", "0", str(a.value)) == re.sub(r"\d", "0", str(b.value))
    now = time.time()
    assert all(now < e.value.until <= now + 10 * 60 for e in (a, b))


def test_one_address_spraying_many_names_is_limited(tmp_path):
    """Spraying: one wrong password for each of 16 names from one address, fired in parallel threads.
    The address is limited to 6 checks; other addresses are unaffected; an admin can lift it."""
    import queue
    import threading

    path = tmp_path / "users.sqlite"
    policy = dict(max_failures=5, max_address_failures=6, lock_minutes=10)
    store = UserStore(path, **policy)
    store.add("clerk", "right-password", "leader", ["第一派驻组"])
    start, results = threading.Event(), queue.Queue()
    threads = [threading.Thread(target=_guess, args=(str(path), f"name{i}", "guess-123", "192.0.2.5", start, results,
                                                     policy)) for i in range(16)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join()
    outcomes = _outcomes([results.get() for _ in threads])
    assert outcomes == {"ok": 0, "rejected": 5, "locked": 11}
    with pytest.raises(LoginLocked):  # even the right password, from that address
        store.authenticate("clerk", "right-password", address="192.0.2.5")
    assert store.authenticate("clerk", "right-password", address="192.0.2.6").name == "clerk"
    assert store.authenticate("clerk", "right-password", address="::ffff:192.0.2.7").name == "clerk"
    store.unblock_address("::ffff:192.0.2.5")  # IPv4-mapped IPv6 is the same client
    assert store.authenticate("clerk", "right-password", address="192.0.2.5").name == "clerk"


def test_successful_logins_do_not_use_up_the_address(tmp_path):
    store = UserStore(tmp_path / "users.sqlite", max_address_failures=3)
    store.add("busy", "right-password", "leader", ["第一派驻组"])
    for i in range(6):  # a shared office address: many good logins, a few typos
        store.authenticate("busy", "right-password", address="198.51.100.1", now=1000.0 + i)
    for i in range(2):
        with pytest.raises(LoginRejected) as exc:
            store.authenticate("busy", "typo-typo", address="198.51.100.1", now=1010.0 + i)
        assert not isinstance(exc.value, LoginLocked)
    assert store.authenticate("busy", "right-password", address="198.51.100.1", now=1020.0).name == "busy"


def test_failures_are_forgotten_after_a_quiet_lock_period(store):
    store.add("wu", "right-password", "leader", ["第一派驻组"])
    for i in range(2):
        with pytest.raises(LoginRejected):
            store.authenticate("wu", "bad", now=1000.0 + i)
    # 3 failures lock this store; the third comes more than the lock period (10 min) after the second.
    with pytest.raises(LoginRejected) as exc:
        store.authenticate("wu", "bad", now=1001.0 + 601)
    assert not isinstance(exc.value, LoginLocked)


def test_admin_lock_holds_until_unlocked(store):
    store.add("zheng", "right-password", "analyst", ["第一派驻组"])
    store.lock("zheng")
    with pytest.raises(LoginLocked):
        store.authenticate("zheng", "right-password", now=time.time() + 86400 * 365)
    store.unlock("zheng")
    assert store.authenticate("zheng", "right-password").name == "zheng"
    with pytest.raises(UserError):
        store.lock("nobody")


# ---- sessions -----------------------------------------------------------------------------------------


@pytest.fixture
def sessions(tmp_path):
    s = UserStore(tmp_path / "users.sqlite", idle_minutes=30, session_hours=8)
    s.add("feng", "right-password", "admin", None)
    return s


def test_a_session_is_signed_and_its_ticket_is_used_once(sessions, tmp_path):
    user = sessions.get("feng")
    sid, ticket = sessions.open_session(user, address="10.1.1.1")
    assert sessions.ticket_pending(sid)
    token = sessions.redeem_ticket(ticket)
    assert token and sessions.session_id(token) == sid and not sessions.ticket_pending(sid)
    assert sessions.redeem_ticket(ticket) is None  # once only
    assert sessions.session_id(token[:-1] + ("0" if token[-1] != "0" else "1")) is None  # forged signature
    assert sessions.session_id(f"{sid}.{'0' * 64}") is None
    other = UserStore(tmp_path / "other.sqlite")  # another store's key does not sign this store's sessions
    assert other.session_id(token) is None
    _, late = sessions.open_session(user, now=time.time() - 3600)
    assert sessions.redeem_ticket(late) is None  # an old ticket is worthless


def test_session_idle_and_absolute_lifetime(sessions):
    user = sessions.get("feng")
    t0 = 1_000_000.0
    sid, _ = sessions.open_session(user, now=t0)
    for k in range(1, 20):  # active every 29 minutes: idle never trips, until the 8-hour lifetime ends it
        now = t0 + k * 29 * 60
        got, reason = sessions.session_user(sid, now=now)
        if now - t0 <= 8 * 3600:
            assert got == user and reason is None, k
        else:
            assert got is None and reason == "lifetime", k
            break
    else:
        raise AssertionError("the session outlived its lifetime")
    sid2, _ = sessions.open_session(user, now=t0)
    assert sessions.session_user(sid2, now=t0 + 29 * 60)[0] == user
    assert sessions.session_user(sid2, now=t0 + 29 * 60 + 30 * 60 + 1) == (None, "idle")
    assert sessions.session_user(sid2, now=t0 + 29 * 60 + 60) == (None, "idle")  # ended stays ended
    assert [e["detail"]["reason"] for e in sessions.audit_log(action="session_end")][:2] == ["idle", "lifetime"]


def test_session_follows_the_account_at_once(sessions):
    sid, _ = sessions.open_session(sessions.get("feng"))
    assert sessions.session_user(sid)[0].is_admin
    sessions.add("feng", "right-password", "leader", ["第一派驻组"], replace=True)  # demoted, same password
    user, _ = sessions.session_user(sid)
    assert user.role == "leader" and user.teams == ("第一派驻组",)
    sessions.add("feng", "a-new-password", "leader", ["第一派驻组"], replace=True)  # new password: signed out
    assert sessions.session_user(sid) == (None, "password_changed")

    sid, _ = sessions.open_session(sessions.get("feng"))
    sessions.lock("feng")
    assert sessions.session_user(sid) == (None, "account_locked")
    sessions.unlock("feng")
    assert sessions.session_user(sid) == (None, "account_locked")  # unlocking does not revive it

    sessions.unlock("feng")
    sid, _ = sessions.open_session(sessions.get("feng"))
    for _ in range(sessions.max_failures):  # a lockout by wrong passwords also ends open sessions
        with pytest.raises(LoginRejected):
            sessions.authenticate("feng", "wrong-password")
    assert sessions.session_user(sid) == (None, "account_locked")
    sessions.unlock("feng")
    sid, _ = sessions.open_session(sessions.get("feng"))
    sessions.remove("feng")
    assert sessions.session_user(sid)[0] is None


def test_logout_ends_the_session(sessions):
    sid, ticket = sessions.open_session(sessions.get("feng"))
    sessions.end_session(sid)
    assert sessions.session_user(sid) == (None, "logout")
    assert sessions.redeem_ticket(ticket) is None
    assert sessions.audit_log(action="logout")[0]["user"] == "feng"
