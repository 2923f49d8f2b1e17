"""End-to-end fixtures: `zhengtai serve` in a subprocess on a free localhost port, and Debian's chromium
driven by Playwright. In CI (CI=true) a missing browser fails the run loudly instead of skipping."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.access.store import UserStore
from tests.dashboard_county import county_db, teams  # noqa: F401 (fixture)

CHROMIUM = os.environ.get("ZHENGTAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
PASSWORDS = {"e2e_analyst": "analyst-pass-1", "e2e_leader": "leader-pass-1", "e2e_session": "session-pass-1",
             "e2e_victim": "victim-pass-1", "e2e_admin": "admin-pass-1"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        msg = (f"chromium not found at {CHROMIUM}: install Debian's chromium and fonts-noto-cjk "
               "(apt-get install -y chromium fonts-noto-cjk); ./run test does this")
        if _in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # a CI run must not pass without its browser tests
        if _in_ci():
            pytest.fail(f"playwright is not installed: {exc}", pytrace=False)
        pytest.skip("playwright is not installed")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"zhengtai serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"zhengtai serve did not answer within {timeout}s:\n{log.read_text()}")


# The served test server's login limits: the lockout test counts to 5 for one name; every test shares the
# one address (127.0.0.1), so the per-address limit is raised out of the way (the store's tests cover it).
SERVER_ENV = {"ZHENGTAI_MAX_FAILURES": "5", "ZHENGTAI_LOCK_MINUTES": "15", "ZHENGTAI_MAX_ADDRESS_FAILURES": "500"}


@contextmanager
def serving(db: Path, users: Path, log: Path):
    """`zhengtai serve` on db with users, on a free localhost port, for the block; yields its base URL."""
    port = _free_port()
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--db", str(db), "--port", str(port), "--users", str(users)],
            cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(REPO), **SERVER_ENV),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()  # only the process this fixture started, by its handle
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def served(county_db, tmp_path_factory, chromium):
    """(base URL, db, users path, team → units) of `zhengtai serve` running on the county warehouse."""
    db = county_db
    by_team = teams(db)
    users = tmp_path_factory.mktemp("users") / "users.sqlite"
    store = UserStore(users)
    store.add("e2e_analyst", PASSWORDS["e2e_analyst"], "analyst", None)
    store.add("e2e_leader", PASSWORDS["e2e_leader"], "leader", [sorted(by_team)[0]])
    for name in ("e2e_session", "e2e_victim", "e2e_admin"):
        store.add(name, PASSWORDS[name], "admin" if name == "e2e_admin" else "analyst", None)
    with serving(db, users, tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield url, db, users, by_team


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1800}, accept_downloads=True, locale="zh-CN")
    ctx.set_default_timeout(90_000)  # a loaded 2-core machine parses Plotly's bundle slowly
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def script_finished(page):
    """Wait until the app's script run has finished: a click on a widget of a page still being drawn can be lost."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def rerun(page, action):
    """Do `action` (a widget change that makes the script rerun) and wait until that rerun has finished.

    Watching the state from before the action catches a rerun however fast it is, and never mistakes the idle state
    before the rerun starts for its end."""
    page.evaluate("""() => {
        const app = document.querySelector('[data-testid=stApp]');
        window.__rerunSeen = false; window.__rerunDone = false;
        const watch = new MutationObserver(() => {
            if (app.getAttribute('data-test-script-state') !== 'notRunning') window.__rerunSeen = true;
            else if (window.__rerunSeen) { window.__rerunDone = true; watch.disconnect(); }
        });
        watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }""")
    action()
    page.wait_for_function("window.__rerunDone === true")


def login(page, url: str, name: str, path: str = "", password: str | None = None) -> None:
    """Sign in through the login form at url/path and wait until the browser holds its session cookie."""
    page.goto(f"{url}/{path}")
    page.get_by_label("用户名").wait_for()
    script_finished(page)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORDS[name] if password is None else password)
    page.get_by_role("button", name="登录").click()
    if password is None:
        page.wait_for_function("document.body.dataset.zhengtaiSession === '204'")
