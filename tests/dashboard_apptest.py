"""Helpers for driving the Streamlit app with streamlit.testing.v1.AppTest."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboards" / "app.py")
PAGES = {
    "overview": "views/overview.py",
    "portrait": "views/portrait.py",
    "warnings": "views/warnings.py",
    "method": "views/method.py",
    "quality": "views/quality.py",
    "admin": "views/admin.py",
}
DISCLAIMER = "评分仅提示需关注的风险，不代表存在违纪违法问题。"


def app(monkeypatch, db: Path, users: Path) -> AppTest:
    monkeypatch.setenv("ZHENGTAI_DB", str(db))
    monkeypatch.setenv("ZHENGTAI_USERS", str(users))
    monkeypatch.delenv("ZHENGTAI_SNAPSHOT", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


def signed_in(monkeypatch, db: Path, users: Path, user) -> AppTest:
    """An app whose session already holds `user` (the login form itself is tested separately)."""
    at = app(monkeypatch, db, users)
    at.session_state["user"] = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def page_text(at: AppTest) -> str:
    """Everything a person could read on the page: text elements, widget options, tables and charts."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        parts += [str(m.label), str(m.value), str(getattr(m, "delta", ""))]
    for w in list(at.selectbox) + list(at.multiselect):
        parts += [str(o) for o in w.options] + [str(w.value)]
    for d in at.dataframe:
        parts.append(d.value.to_csv())
    for tree_el in at.get("plotly_chart"):
        parts.append(json.dumps(json.loads(tree_el.proto.spec), ensure_ascii=False))
    return "\n".join(parts)


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
