"""政态 dashboard entry: login gate, the shared sidebar, and the pages the user's role may open.

Run through `zhengtai serve --db DB` (server.py wraps this script with the session-cookie routes), which
points ZHENGTAI_DB / ZHENGTAI_USERS at the warehouse and the user store and starts Streamlit headless
without telemetry.
"""

from __future__ import annotations

import streamlit as st

import plain
import session

st.set_page_config(page_title="政态 · 政治生态分析研判", page_icon="🧭", layout="wide")
# No table offers its own CSV download or clipboard copy: data leaves only through the audited export.
# (`zhengtai serve` sets the same option on the command line.)
st.set_option("client.disableDataExport", True)

user = session.signed_in_user()  # re-checked against the account store on every run
PAGE_PATHS = ("overview", "portrait", "warnings", "method", "quality", "admin")

if user is None:
    # Every page's address shows the login form, so a deep link (…/portrait?unit=…) survives signing in.
    login_pages = [st.Page(session.login_view, title="登录", url_path="login", default=True)] + [
        st.Page(session.login_view_for(path), title="登录", url_path=path) for path in PAGE_PATHS
    ]
    st.navigation(login_pages, position="hidden").run()
    st.stop()

session.pin_snapshot()
ctx = session.context()
with st.sidebar:
    st.markdown(f"**{plain.md(user.name)}** · {user.role_zh}  \n{plain.md(user.teams_zh)}")
    st.button("退出登录", on_click=session.logout, key="logout")
session.remember_browser()
session.sidebar_controls(ctx)
build = ctx.board.build(ctx.identity)
st.sidebar.caption(f"数据版本 {build['build_id']} · {build['built_at']:%Y-%m-%d %H:%M}")

pages = {
    "分析研判": [
        st.Page("views/overview.py", title="总览", url_path="overview", default=True),
        st.Page(session.PORTRAIT_PAGE, title="单位画像", url_path="portrait"),
        st.Page("views/warnings.py", title="预警清单", url_path="warnings"),
    ],
    "方法与数据": [
        st.Page("views/method.py", title="方法与权重", url_path="method"),
        st.Page("views/quality.py", title="数据质量", url_path="quality"),
    ],
}
if user.is_admin:
    pages["系统管理"] = [st.Page("views/admin.py", title="用户与审计", url_path="admin")]
st.navigation(pages).run()
