"""The local user store: argon2 hashes, roles and teams, lockout, audit trail."""

from __future__ import annotations

import sqlite3

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
