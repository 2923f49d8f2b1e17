"""用户与审计: the accounts and the audit trail in words (roles, actions and details from the vocabulary)."""

from __future__ import annotations

import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import ALL_TEAMS, UserStore

USER_COLUMNS = {"name": "用户名", "role": "角色", "teams": "派驻组范围", "locked": "已锁定", "failed_count": "连续失败次数",
                "last_login": "最近登录", "created_at": "创建时间", "password": "本地密码", "sessions": "在线会话"}
AUDIT_COLUMNS = {"at": "时间", "user": "用户", "role": "角色", "action": "操作", "target": "对象", "detail": "详情"}


def users_table(store: UserStore) -> pd.DataFrame:
    """Every account, one row each, in words (never a hash)."""
    users = pd.DataFrame(store.list(), columns=list(USER_COLUMNS))
    users["role"] = users.role.map(lambda r: vocabulary.word("role", r))
    users["teams"] = users.teams.map(lambda t: "全部派驻组" if t == ALL_TEAMS else str(t).replace(",", "、"))
    users["locked"] = users.locked.map(vocabulary.yes_no)
    users["password"] = users.password.map(lambda p: "已设置" if p else "未设置（统一身份认证）")
    users["last_login"] = users.last_login.fillna("从未登录").replace("", "从未登录")
    return users.rename(columns=USER_COLUMNS)


def action_options() -> dict[str, str]:
    """The audit filter's choices: '' (all) and every action, in words."""
    return {"": "全部", **vocabulary.words("audit_action")}


def audit_table(store: UserStore, *, action: str | None = None, limit: int = 1000) -> pd.DataFrame:
    log = pd.DataFrame(store.audit_log(limit=limit, action=action or None), columns=list(AUDIT_COLUMNS))
    log["user"] = log.user.map(lambda u: vocabulary.word("audit_actor", u))
    log["role"] = log.role.map(lambda r: vocabulary.word("role", r) if r else vocabulary.word("audit_actor", "cli"))
    log["action"] = log.action.map(lambda a: vocabulary.word("audit_action", a))
    log["target"] = log.target.map(lambda t: vocabulary.word("audit_what", t))
    log["detail"] = log.detail.map(detail_text)
    return log.rename(columns=AUDIT_COLUMNS)


def detail_text(detail: dict) -> str:
    """{'what': 'warning_evidence', 'rows': 3} → 内容：预警依据记录；行数：3."""
    parts = []
    for key, value in (detail or {}).items():
        parts.append(f"{vocabulary.word('audit_detail', key)}：{_detail_value(key, value)}")
    return "；".join(parts) or vocabulary.DASH


def _detail_value(key: str, value) -> str:
    if key == "what":
        return vocabulary.word("audit_what", value)
    if key == "reason":
        return vocabulary.word("audit_reason", value)
    if key == "locked":
        return "、".join(vocabulary.word("login_limit", v) for v in value)
    if key == "via":
        return vocabulary.word("login_via", value)
    if key == "role":
        return vocabulary.word("role", value)
    if key == "grain":
        return vocabulary.word("grain", value)
    if key == "period":
        from pipelines.board.periods import period_zh

        return period_zh(str(value))
    if key == "teams":
        return "全部派驻组" if value in (ALL_TEAMS, None) else "、".join(value) if isinstance(value, list) else str(value)
    if isinstance(value, dict):
        shown = [f"{k}={'、'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in value.items() if v]
        return "，".join(shown) or "无"
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value)) or "无"
    if isinstance(value, bool):
        return vocabulary.yes_no(value)
    return vocabulary.DASH if value is None else str(value)
