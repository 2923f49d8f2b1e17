"""The dashboard server that `zhengtai serve` runs: Streamlit's app (app.py) plus the two routes that
turn a sign-in into the signed session cookie (browser_session.py)."""

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # the pages' modules, and pipelines from a checkout
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from browser_session import ROUTES  # noqa: E402

app = st.App(HERE / "app.py", routes=ROUTES)
