"""The dashboard's session: configuration, login, the signed-in user, the pinned snapshot, cached data.

Pages call `context()` for (user, board, identity) and the cached accessors below; every accessor is
keyed on the snapshot identity and the user's scope, so a rebuild or another team never hits a stale or
foreign cache entry.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))

import browser_session  # noqa: E402
import plain  # noqa: E402
from pipelines import vocabulary  # noqa: E402
from pipelines.access.store import (  # noqa: E402
    AccessDenied,
    LoginLocked,
    LoginRejected,
    Scope,
    User,
    UserStore,
    default_users_path,
)
from pipelines.board import Board, alerts, method, overview  # noqa: E402
from pipelines.board import portrait as portrait_mod  # noqa: E402
from pipelines.board.periods import default_grain, grain_zh, period_zh  # noqa: E402
from pipelines.warehouse import published_path  # noqa: E402

DISCLAIMER = "评分仅提示需关注的风险，不代表存在违纪违法问题。"


@dataclass(frozen=True)
class Config:
    snapshot: Path
    users: Path


def config() -> Config:
    """From the environment `zhengtai serve` sets: ZHENGTAI_DB (the warehouse; the snapshot beside it is
    served) or ZHENGTAI_SNAPSHOT, and ZHENGTAI_USERS (defaults to DB.users.sqlite)."""
    snap = os.environ.get("ZHENGTAI_SNAPSHOT")
    db = os.environ.get("ZHENGTAI_DB")
    if not snap and not db:
        st.error("未配置数据库：请用 `zhengtai serve --db DB` 启动。")
        st.stop()
    snapshot = Path(snap) if snap else published_path(db)
    users = os.environ.get("ZHENGTAI_USERS") or str(default_users_path(db or snapshot))
    return Config(snapshot=snapshot, users=Path(users))


@st.cache_resource(show_spinner=False)
def get_board(path: str) -> Board:
    return Board(path)


@st.cache_resource(show_spinner=False)
def get_store(path: str) -> UserStore:
    return UserStore(path)


# ---- login and the signed-in session -----------------------------------------------------------------

# Why a session ended → the login page's notice (data/vocabulary.yaml, group login). A logout says nothing.
ENDED = {"idle": "ended_idle", "lifetime": "ended_lifetime", "account_removed": "ended_account",
         "account_locked": "ended_account", "password_changed": "ended_account"}


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def client_address() -> str | None:
    return st.context.ip_address


def current_user() -> User | None:
    return st.session_state.get("user")


def _clear() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def signed_in_user() -> User | None:
    """Called first on every run: the user of this browser session, re-read from the account store, or
    None. The session signed in on this connection comes first, else the one whose signed cookie the
    browser sent when it connected (after a refresh). A removed, locked or demoted account, an idle or
    too old session take effect at the next run."""
    store = get_store(str(config().users))
    sid = st.session_state.get("_sid")
    user, reason = store.session_user(sid) if sid else (None, None)
    if user is None and not st.session_state.get("_signed_out"):
        cookie_sid = store.session_id(st.context.cookies.get(browser_session.cookie_name()))
        if cookie_sid and cookie_sid != sid:
            user, cookie_reason = store.session_user(cookie_sid)
            sid, reason = (cookie_sid, None) if user else (sid, reason or cookie_reason)
    if user is not None:
        st.session_state["_sid"] = sid
        st.session_state["user"] = user
        return user
    if "_sid" in st.session_state or "user" in st.session_state:
        _clear()  # nothing of the ended session's pages stays behind
    if not st.session_state.get("_signed_out"):
        # Once per connection: later runs neither re-read the cookie it came with nor repeat the notice.
        st.session_state["_signed_out"] = True
        if reason in ENDED:
            st.session_state["_ended"] = reason
    return None


def sign_in(store: UserStore, user: User) -> None:
    sid, ticket = store.open_session(user, address=client_address())
    _clear()
    st.session_state.update({"_sid": sid, "_ticket": ticket, "user": user})


def remember_browser() -> None:
    """Until the browser has traded this sign-in's ticket for its cookie, render the script that does it
    (a rerun may drop the element before its script ran, so it is rendered on every run until then)."""
    ticket = st.session_state.get("_ticket")
    if not ticket:
        return
    if not get_store(str(config().users)).ticket_pending(st.session_state["_sid"]):
        del st.session_state["_ticket"]
        return
    with st.sidebar:
        st.html(browser_session.exchange_script(ticket), unsafe_allow_javascript=True)


def login_view() -> None:
    """The login page: local accounts (argon2, limits), and OIDC through st.login when configured."""
    cfg = config()
    store = get_store(str(cfg.users))
    st.title("政态 · 政治生态分析研判")
    st.caption(DISCLAIMER)
    ended = st.session_state.pop("_ended", None)
    if ended:
        st.info(vocabulary.word("login", ENDED[ended]))
    if st.session_state.pop("_forget", False):
        st.html(browser_session.forget_script(), unsafe_allow_javascript=True)
    if oidc_configured():
        # OIDC: the identity provider authenticates; role and teams still come from the local store.
        if getattr(st.user, "is_logged_in", False):
            ident = st.user.get("email") or st.user.get("sub")
            user = store.user_for_identity(str(ident))
            if user is None:
                st.error(f"账号 {plain.md(ident)} 未在本系统授权，请联系管理员添加。")
                st.button("退出", on_click=st.logout)
                return
            sign_in(store, user)
            st.rerun()
        st.button("使用统一身份认证登录", on_click=st.login, type="primary")
        st.divider()
    with st.form("login"):
        name = st.text_input("用户名", key="login_name")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            user = store.authenticate(name, password, address=client_address())
        except LoginLocked as exc:
            # The same words for a real or an unknown name: the lock does not tell which names exist.
            st.error(vocabulary.template("login", "locked", until=time.strftime("%H:%M", time.localtime(exc.until))))
            return
        except LoginRejected:
            st.error(vocabulary.word("login", "rejected"))
            return
        sign_in(store, user)
        st.rerun()


def login_view_for(path: str):
    """A distinct callable per address (st.Page tells pages apart by their function)."""

    def view() -> None:
        login_view()

    view.__name__ = f"login_{path}"
    view.__qualname__ = f"login_{path}"
    return view


def logout() -> None:
    get_store(str(config().users)).end_session(st.session_state.get("_sid"), "logout")
    _clear()
    st.session_state.update({"_signed_out": True, "_forget": True})
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


# ---- per-run context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    user: User
    board: Board
    store: UserStore
    identity: str  # the snapshot this render reads, pinned once per run
    path: str

    def audit(self, action: str, target: str | None, detail: dict) -> None:
        """Audit a record-level view or an export. A view repeated by a rerun of the same session on the
        same snapshot is logged once; exports are always logged."""
        if action != "export":
            key = (action, target, self.identity)
            seen = st.session_state.setdefault("_audited", set())
            if key in seen:
                return
            seen.add(key)
        self.store.audit(self.user, action, target, {**detail, "snapshot": self.identity})

    def audit_always(self, action: str, target: str | None, detail: dict) -> None:
        """For callbacks that run outside the script thread (download generation)."""
        self.store.audit(self.user, action, target, {**detail, "snapshot": self.identity})


def context() -> Context:
    cfg = config()
    user = current_user()
    if user is None or "_sid" not in st.session_state:
        st.stop()
    board = get_board(str(cfg.snapshot))
    ctx = Context(user, board, get_store(str(cfg.users)), st.session_state["_identity"], str(cfg.snapshot))
    from pipelines.board.quality import empty_scope_reason

    reason = empty_scope_reason(board, user, ctx.identity)
    if reason:
        st.warning(plain.md(reason))  # team names come from the unit roster, a ledger
    return ctx


def pin_snapshot() -> str:
    """Called once per run by app.py: the snapshot identity every query of this render uses."""
    board = get_board(str(config().snapshot))
    identity = board.identity()
    st.session_state["_identity"] = identity
    return identity


def header(title: str) -> None:
    st.title(title)
    st.info(DISCLAIMER, icon="⚠️")


def deny(ctx: Context, exc: AccessDenied, target: str | None, *, stop: bool = True) -> None:
    """Audit and show a refusal; the page stops unless it offers a way on (stop=False)."""
    ctx.store.audit(ctx.user, "denied", target, {"reason": str(exc)})
    st.error(plain.md(exc))
    if stop:
        st.stop()


# ---- cached data ----------------------------------------------------------------------------------
# Keyed on (snapshot path, identity, teams): st.cache_data hashes the arguments.


def _scope(teams: tuple[str, ...] | None) -> Scope:
    return Scope(teams)


@st.cache_data(show_spinner=False, max_entries=64)
def options(path: str, identity: str, teams) -> overview.Options:
    return overview.options(get_board(path), _scope(teams), identity)


@st.cache_data(show_spinner=False, max_entries=128)
def period_scores(path: str, identity: str, teams, grain: str, period: str):
    return overview.period_scores(get_board(path), _scope(teams), grain, period, identity)


@st.cache_data(show_spinner=False, max_entries=128)
def grid_cells(path: str, identity: str, teams, grain: str, period: str, sectors: tuple, kinds: tuple, sort_by: str,
               top_n: int):
    """The overview grid's cells for one filter combination."""
    frame = period_scores(path, identity, teams, grain, period)
    dims = options(path, identity, teams).dimensions
    return overview.grid(frame, dims, sectors=sectors, kinds=kinds, sort_by=sort_by, top_n=top_n)


@st.cache_data(show_spinner=False, max_entries=128)
def trend(path: str, identity: str, teams, grain: str, sectors: tuple, kinds: tuple):
    return overview.trend(get_board(path), _scope(teams), grain, sectors=sectors, kinds=kinds, identity=identity)


@st.cache_data(show_spinner=False, max_entries=128)
def period_warnings(path: str, identity: str, user: User, grain: str, period: str):
    return alerts.period_warnings(get_board(path), user, grain, period, identity)


@st.cache_data(show_spinner=False, max_entries=128)
def portrait(path: str, identity: str, user: User, unit: str, grain: str, period: str):
    return portrait_mod.portrait(get_board(path), user, unit, grain, period, identity)


@st.cache_data(show_spinner=False, max_entries=16)
def catalogue(path: str, identity: str):
    return method.catalogue(get_board(path), identity)


@st.cache_data(show_spinner=False, max_entries=16)
def indicator_units(path: str, identity: str) -> dict[str, str]:
    return alerts.indicator_units(get_board(path), identity)


@st.cache_data(show_spinner=False, max_entries=64)
def whatif(path: str, identity: str, teams, grain: str, period: str, ind_w: tuple, dim_w: tuple):
    return method.whatif(get_board(path), _scope(teams), grain, period, dict(ind_w), dict(dim_w), identity)


# ---- the shared period and filter controls --------------------------------------------------------


def period_controls(ctx: Context) -> tuple[str, str, overview.Options]:
    """Grain and period in the sidebar, shared by every page; defaults to the latest period."""
    opts = options(ctx.path, ctx.identity, ctx.user.teams)
    if not opts.grains:
        st.warning("当前快照没有评分结果：请先运行 `zhengtai build`。")
        st.stop()
    grain = st.sidebar.selectbox("统计粒度", opts.grains, index=opts.grains.index(default_grain(opts.grains)),
                                 format_func=grain_zh, key="grain")
    periods = opts.periods[grain]
    if st.session_state.get("period") not in periods:
        st.session_state["period"] = periods[-1]
    period = st.sidebar.selectbox(
        "期间", periods[::-1], format_func=period_zh, key="period"
    )
    return grain, period, opts


def unit_filters(opts: overview.Options) -> tuple[tuple, tuple]:
    sectors = st.sidebar.multiselect("领域", opts.sectors, key="sectors", placeholder="全部领域")
    kinds = st.sidebar.multiselect("单位类别", opts.kinds, key="kinds", placeholder="全部类别")
    return tuple(sectors), tuple(kinds)


@dataclass(frozen=True)
class View:
    grain: str
    period: str
    opts: overview.Options
    sectors: tuple
    kinds: tuple


def sidebar_controls(ctx: Context) -> View:
    """Rendered by app.py on every run, before the page: the selection survives page switches."""
    grain, period, opts = period_controls(ctx)
    sectors, kinds = unit_filters(opts)
    view = View(grain, period, opts, sectors, kinds)
    st.session_state["_view"] = view
    return view


def view() -> View:
    return st.session_state["_view"]


PORTRAIT_PAGE = "views/portrait.py"


def open_portrait(unit: str) -> None:
    """Go to the portrait of `unit` (one of the user's units: the caller offers only those)."""
    st.session_state["_goto_unit"] = unit
    st.switch_page(PORTRAIT_PAGE)
