"""Every page under every role, every export and the terminal, read as a user reads them: no code identifier,
no None / nan, no midnight timestamps, no raw JSON (tests/user_text.py), on the county a user would build.

The walk also opens what only some roles see — records on the portrait, a warning's evidence, the rejected
rows — so the words of record-level tables are read too. The few ASCII strings a page may show on purpose
are stripped first, each with its reason: the accounts' login names (chosen by the admin) and, on the admin
page, the locations of the data and user files and the names of the environment variables it documents.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from pipelines.access.store import User, UserStore
from tests import user_text
from tests.dashboard_apptest import PAGES, go, signed_in, visible_text
from tests.dashboard_county import county_db, teams  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard_county")]

ADMIN_WORDS = ("ZHENGTAI_MAX_ADDRESS_FAILURES", "ZHENGTAI_MAX_FAILURES", "ZHENGTAI_LOCK_MINUTES",
               "ZHENGTAI_SESSION_IDLE_MINUTES", "ZHENGTAI_SESSION_HOURS")


@pytest.fixture(scope="module")
def roles(county_db) -> dict[str, User]:
    team = sorted(teams(county_db))[0]
    return {"leader": User("lead_1", "leader", (team,)), "analyst": User("ana_1", "analyst", (team,)),
            "analyst_county": User("ana_all", "analyst", None), "admin": User("admin_1", "admin", None)}


@pytest.fixture
def users(tmp_path, roles):
    path = tmp_path / "users.sqlite"
    store = UserStore(path)
    for u in roles.values():
        store.add(u.name, "password-123", u.role, list(u.teams) if u.teams else None)
    store.audit(roles["analyst"], "export", "预警清单_2024年第4季度.xlsx", {"what": "warnings", "rows": 3})
    return path


def _clean(text: str, roles: dict[str, User], *paths) -> str:
    for u in roles.values():
        text = text.replace(u.name, "")
    for p in paths:
        text = text.replace(str(p), "")
    for w in ADMIN_WORDS:
        text = text.replace(w, "")
    return text


def _check(at, page: str, role: str, roles, *paths) -> None:
    assert not at.exception, (page, role, [e.value for e in at.exception])
    problems = user_text.problems(_clean(visible_text(at), roles, *paths))
    assert problems == [], f"{role} on {page}: {problems[:8]}"


@pytest.mark.parametrize("role", ["leader", "analyst", "analyst_county", "admin"])
def test_every_page_reads_in_words(role, roles, monkeypatch, county_db, users):
    from pipelines.warehouse import published_path

    user = roles[role]
    at = signed_in(monkeypatch, county_db, users, user)
    paths = (published_path(county_db), users)
    for page in [p for p in PAGES if p != "admin" or user.is_admin]:
        go(at, page)
        _check(at, page, role, roles, *paths)
        if page == "portrait" and user.can_see_records:  # the record-level tables of the portrait
            at.toggle(key="show_records").set_value(True).run()
            if "portrait_evidence" in {s.key for s in at.selectbox}:
                unit = next(s.value for s in at.selectbox if s.key.startswith("portrait_unit"))
                at.selectbox(key="portrait_evidence").set_value(_first_warning(county_db, user, unit)).run()
            _check(at, "portrait records and evidence", role, roles, *paths)
        if page == "warnings" and user.can_see_records:
            at.multiselect(key="w_evidence").set_value([_first_warning(county_db, user)]).run()
            _check(at, "warning evidence", role, roles, *paths)
        if page == "quality" and "show_rejected" in {t.key for t in at.toggle}:
            at.toggle(key="show_rejected").set_value(True).run()
            _check(at, "rejected rows", role, roles, *paths)
        if page == "quality" and "show_notes" in {t.key for t in at.toggle}:
            at.toggle(key="show_notes").set_value(True).run()
            _check(at, "fields stored as unknown", role, roles, *paths)
    # Other grains read in words too: months (no warnings, contributions recomputed) and years; half-years and
    # rolling years (period keys such as R12-2024-12) once, under the role that sees every unit.
    for grain in ("month", "year") + (("half", "rolling12") if role == "admin" else ()):
        at.selectbox(key="grain").select(grain).run()
        for page in ("overview", "portrait", "method"):
            go(at, page)
            _check(at, f"{page} ({grain})", role, roles, *paths)


def test_only_shown_records_are_audited(roles, monkeypatch, county_db, users):
    """Opening 数据质量 is not a view of records; showing the rejected rows is, once."""
    at = signed_in(monkeypatch, county_db, users, roles["analyst_county"])
    go(at, "quality")
    store = UserStore(users)
    assert store.audit_log(action="view_records") == []
    at.toggle(key="show_rejected").set_value(True).run()
    at.run()
    log = store.audit_log(action="view_records")
    assert [e["target"] for e in log] == ["rejected_rows"] and log[0]["detail"]["rows"] > 0


def test_the_excel_export_reads_in_words(roles, county_db):
    from pipelines.board import Board, alerts
    from pipelines.warehouse import published_path

    board = Board(published_path(county_db))
    user = roles["analyst_county"]
    frame = alerts.period_warnings(board, user, "quarter", "2024Q4")
    _, data = alerts.export_xlsx(board, user, frame, grain="quarter", period="2024Q4", filters={"等级": ["红", "橙"]},
                                 audit=lambda *a: None, with_evidence=True)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    visible = [f"{c.value:%Y-%m-%d}" if c.is_date else str(c.value)
               for ws in wb for row in ws.iter_rows() for c in row
               if c.value is not None and not ws.column_dimensions[c.column_letter].hidden]
    assert user_text.problems(_clean("\n".join(visible), roles)) == []
    assert wb["依据记录"].max_row > 1  # the evidence sheet was read, not empty
    definitions = [r[1].value for r in wb["指标口径"].iter_rows(min_row=2)]
    assert definitions and all(d and "未填写" not in d for d in definitions)  # every 口径 in words


def test_the_terminal_reads_in_words(county_db, zt):
    for args in (["scores", "--period", "2024Q4"], ["scores", "--period", "2024H2", "--top", "5"],
                 ["explain", "--unit", _top_unit(county_db), "--period", "2024Q4"]):
        res = zt(*args[:1], "--db", county_db, *args[1:])
        assert res.code == 0, res.err
        assert user_text.problems(res.out) == [], args


def _first_warning(db, user: User, unit: str | None = None) -> str:
    from pipelines.board import Board, alerts
    from pipelines.warehouse import published_path

    board = Board(published_path(db))
    try:
        w = alerts.period_warnings(board, user, "quarter", "2024Q4")
        return (w[w.unit_name == unit] if unit else w).warning_id.iloc[0]
    finally:
        board.close()


def _top_unit(db) -> str:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("""SELECT unit_name FROM unit_scores WHERE grain = 'quarter' AND period = '2024Q4'
                              AND level = 'index' ORDER BY rank LIMIT 1""").fetchall()[0][0]
    finally:
        con.close()
