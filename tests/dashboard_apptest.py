"""Helpers for driving the Streamlit app with streamlit.testing.v1.AppTest."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from streamlit.testing.v1 import AppTest

from pipelines.access.store import UserStore

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
    """An app signed in as `user` through a session of the user store, as after the login form (which is
    tested separately); the account is created in the store when it is not there yet."""
    at = app(monkeypatch, db, users)
    store = UserStore(users)
    if store.get(user.name) != user:
        store.add(user.name, secrets.token_urlsafe(12), user.role, user.teams, replace=True)
    sid, _ = store.open_session(user)
    at.session_state["_sid"] = sid
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


# ---- what a person reads on a page, as rendered ----------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$")
_PLACEHOLDER = re.compile(r"%\{[^}]*\}|<extra>.*?</extra>|<[^>]+>")


def visible_text(at: AppTest) -> str:
    """Everything a person reads on the page, as the browser renders it: headers of tables as configured
    (labels, hidden columns left out), empty cells as the "None" Streamlit draws, option labels, tab and
    expander titles, and the words of every chart (trace names, labels, ticks, hover text)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "exception"):
        parts += [_as_read(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        parts += [_as_read(m.label), _as_read(m.value), _as_read(m.proto.delta or "")]
    for kind in ("selectbox", "multiselect", "radio"):
        for w in getattr(at, kind):
            parts += [_as_read(w.label)] + [str(o) for o in w.options]
    for kind in ("text_input", "number_input", "toggle", "checkbox", "button"):
        parts += [_as_read(w.label) for w in getattr(at, kind)]
    parts += [_as_read(t.label) for t in at.tabs] + [_as_read(e.label) for e in at.expander]
    for d in at.dataframe:
        parts.append(_table_text(d))
    for chart in at.get("plotly_chart"):
        parts += chart_words(json.loads(chart.proto.spec))
    return "\n".join(parts)


def _as_read(markdown) -> str:
    """A Markdown source as it reads once rendered: the backslash escapes and word joiners that
    dashboards/plain.py puts into ledger text are not seen."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(markdown)).replace("\u2060", "")


def _table_text(d) -> str:
    """A table as drawn: configured headers, hidden columns out, checkboxes and sparklines as marks (no
    text), an empty progress bar as nothing, any other empty cell as the "None" Streamlit writes."""
    config = json.loads(d.proto.columns or "{}")
    frame = d.value
    shown = [c for c in frame.columns if not config.get(str(c), {}).get("hidden")]
    kinds = {c: (config.get(str(c), {}).get("type_config") or {}).get("type") for c in shown}
    lines = [" | ".join(str(config.get(str(c), {}).get("label") or c) for c in shown)]
    for _, row in frame[shown].iterrows():
        cells = []
        for c, v in zip(shown, row):
            if kinds[c] in ("checkbox", "line_chart", "bar_chart", "area_chart") or isinstance(v, bool) \
                    or isinstance(v, (list, tuple)) or (hasattr(v, "__array__") and not isinstance(v, str)):
                continue
            empty = v is None or (isinstance(v, float) and v != v) or str(v) in ("NaT", "<NA>")
            if empty and kinds[c] == "progress":
                continue
            cells.append("None" if empty else str(v))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def chart_words(spec: dict) -> list[str]:
    """The words of a Plotly figure a reader sees: names in the legend, text on marks, category labels,
    axis titles and tick labels, hover templates (their placeholders stripped), annotations."""
    words: list[str] = []

    def add(value) -> None:
        if isinstance(value, str):
            words.append(_PLACEHOLDER.sub(" ", value))
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(v)

    for trace in spec.get("data", []):
        if trace.get("showlegend", True) is not False and trace.get("name"):
            add(trace["name"])
        for key in ("text", "theta", "labels", "customdata", "hovertemplate", "hovertext"):
            add(trace.get(key))
        for key in ("x", "y"):  # dates on a date axis are drawn by its tick and hover formats, not as written
            values = trace.get(key)
            if isinstance(values, list):
                add([v for v in values if not (isinstance(v, str) and _ISO_DATE.match(v))])
    layout = spec.get("layout", {})
    for key, axis in layout.items():
        if isinstance(axis, dict) and (key.startswith(("xaxis", "yaxis")) or key in ("legend", "polar")):
            title = axis.get("title")
            add(title.get("text") if isinstance(title, dict) else title)
            add(axis.get("ticktext"))
            add(axis.get("categoryarray"))
    title = layout.get("title")
    add(title.get("text") if isinstance(title, dict) else title)
    for a in layout.get("annotations", []) or []:
        add(a.get("text"))
    return words
