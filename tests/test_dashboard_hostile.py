"""Ledger text is never markup: every page, under a warehouse whose unit and team names are hostile,
puts them into Markdown-rendering elements only escaped, and into Plotly figures only HTML-escaped.
(The browser test tests/e2e/test_hostile_browser.py checks what a browser then does: no request, no link.)"""

from __future__ import annotations

import json

import pytest

from pipelines.access.store import User, UserStore
from pipelines.warehouse import publish
from tests.board_fixture import TEAM_A, TEAM_B, build_fixture
from tests.dashboard_apptest import PAGES, go, signed_in
from tests.hostile import hostile_names, rename_unit

pytestmark = pytest.mark.xdist_group("dashboard_app")

NAMES = hostile_names(9)  # nothing listens on port 9: a fetch would fail, but AppTest fetches nothing anyway
RENAMED = dict(zip(["县教育局", "县实验小学", "县农业农村局", "县中医院"], NAMES))
TEAM_B_HOSTILE = "第二派驻组[点此](http://127.0.0.1:9/team)"
MARKDOWN_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    build_fixture(db)
    for old, new in [*RENAMED.items(), (TEAM_B, TEAM_B_HOSTILE)]:
        rename_unit(db, old, new)
    publish(db)
    return db


def _shown(markdown: str) -> str:
    """What a Markdown source escaped by dashboards/plain.py reads as: no backslashes, no word joiners."""
    return markdown.replace("\u2060", "").replace("\\", "")


def _markup_texts(at) -> list[str]:
    texts = [str(e.value) for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    texts += [e.label for e in at.expander] + [w.label for w in list(at.toggle) + list(at.checkbox)]
    texts += [w.label for w in list(at.selectbox) + list(at.multiselect) + list(at.text_input)]
    return texts


def _check_page(at, page: str) -> None:
    hostile = NAMES + [TEAM_B_HOSTILE]
    for text in _markup_texts(at):
        raw = [h for h in hostile if h in text]
        assert not raw, f"{page}: ledger text reached Markdown unescaped: {raw} in {text!r}"
    for chart in at.get("plotly_chart"):
        spec = json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)
        for bad in ("<img", "<a ", "<a>"):
            assert bad not in spec, f"{page}: a Plotly figure would render {bad}"


def test_hostile_names_are_escaped_on_every_page(monkeypatch, hostile_db, tmp_path):
    users = UserStore(tmp_path / "users.sqlite").path
    admin = User("root", "admin", (TEAM_A, TEAM_B_HOSTILE))  # a team list that shows the hostile team name
    at = signed_in(monkeypatch, hostile_db, users, admin)
    for page in PAGES:
        go(at, page)
        _check_page(at, page)
    for name in NAMES:  # the portrait of each hostile unit, its name shown literally in the heading
        at.query_params["unit"] = name
        go(at, "portrait")
        _check_page(at, f"portrait of {name}")
        heading = _shown(at.subheader[0].value)
        assert heading.startswith(" ".join(name.split())), heading
    sidebar = _shown(at.sidebar.markdown[0].value)
    assert TEAM_B_HOSTILE in sidebar
