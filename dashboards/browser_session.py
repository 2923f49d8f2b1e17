"""The signed session cookie: how a signed-in browser stays signed in across a page refresh.

Streamlit forgets everything on a refresh (a new WebSocket, a new session). So at sign-in the app opens a
session in the user store and hands the page a one-time ticket; a few lines of script post the ticket
to `/_zhengtai/session`, which answers with the session id signed by the store's key in an HttpOnly,
SameSite=Strict cookie (page scripts cannot read it). A refreshed page's WebSocket carries the cookie;
`session.signed_in_user` checks its signature and asks the store, on every run, whether the session and
its account are still good. The cookie holds no role, team or name: those are read from the store.

These routes run in the server (Starlette, through st.App in server.py), not in the page script.
"""

from __future__ import annotations

import json
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SESSION_PATH = "/_zhengtai/session"
FORGET_PATH = "/_zhengtai/forget"


def cookie_name() -> str:
    """Per port: browsers share cookies between ports of one host, and each server has its own store."""
    from streamlit import config

    return f"zhengtai_session_{config.get_option('server.port')}"


def _store():
    """The user store the app uses (session.config: ZHENGTAI_USERS, else beside the warehouse)."""
    from pipelines.access.store import UserStore, default_users_path

    path = os.environ.get("ZHENGTAI_USERS")
    beside = os.environ.get("ZHENGTAI_DB") or os.environ.get("ZHENGTAI_SNAPSHOT")
    if not path and beside:
        path = default_users_path(beside)
    try:
        return None if not path else UserStore(path, create=False)
    except Exception:  # noqa: BLE001 - no store, no cookie: the page still works, without surviving a refresh
        return None


async def _session(request: Request) -> Response:
    ticket = (await request.body())[:200].decode("ascii", "replace").strip()
    store = await run_in_threadpool(_store)
    token = None if store is None else await run_in_threadpool(store.redeem_ticket, ticket)
    if token is None:
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(cookie_name(), token, max_age=int(store.policy.lifetime_seconds), path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


async def _forget(request: Request) -> Response:
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(cookie_name(), path="/", httponly=True, samesite="strict")
    return response


ROUTES = [Route(SESSION_PATH, _session, methods=["POST"]), Route(FORGET_PATH, _forget, methods=["POST"])]


def exchange_script(ticket: str) -> str:
    """The page script that trades the ticket for the cookie; it marks the page when done (tests wait on it)."""
    return (f"<script>fetch({json.dumps(SESSION_PATH)}, {{method: 'POST', credentials: 'same-origin', "
            f"body: {json.dumps(ticket)}}}).then(r => {{ document.body.dataset.zhengtaiSession = r.status; }});"
            "</script>")


def forget_script() -> str:
    return (f"<script>fetch({json.dumps(FORGET_PATH)}, {{method: 'POST', credentials: 'same-origin'}})"
            ".then(r => { document.body.dataset.zhengtaiSession = 'forgotten'; });</script>")
