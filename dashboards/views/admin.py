"""用户与审计 (admins only): accounts, unlocking, and the audit trail of record views and exports."""

import pandas as pd
import streamlit as st

import plain
import session
from pipelines.access.store import ROLE_ZH, ROLES
from pipelines.board import admin
from pipelines.errors import UserError

ctx = session.context()
if not ctx.user.is_admin:  # the page is only registered for admins; this guards a forged navigation too
    st.error("仅管理员可访问。")
    st.stop()
session.header("用户与审计")

st.subheader("用户")
users = admin.users_table(ctx.store)
st.dataframe(users, hide_index=True)

with st.expander("添加或更新用户"):
    with st.form("add_user", clear_on_submit=True):
        name = st.text_input("用户名")
        role = st.selectbox("角色", ROLES, format_func=ROLE_ZH.get)
        teams = st.text_input("派驻组（多个用、分隔；留空为全部）")
        password = st.text_input("初始密码（至少8位）", type="password")
        if st.form_submit_button("保存"):
            try:
                team_list = [t for t in teams.replace(",", "、").split("、") if t.strip()] or None
                ctx.store.add(name, password, role, team_list, replace=True)
                ctx.store.audit(ctx.user, "user_add", name, {"role": role, "teams": team_list or "*"})
                st.success(f"已保存用户 {plain.md(name)}")
            except UserError as exc:
                st.error(plain.md(exc))

if len(users):
    c1, c2 = st.columns(2)
    target = c1.selectbox("选择用户", list(users["用户名"]), key="admin_target")
    if c2.button("解除锁定", key="admin_unlock"):
        ctx.store.unlock(target)
        ctx.store.audit(ctx.user, "user_unlock", target, {})
        st.success(f"已解除 {plain.md(target)} 的锁定")
    if c2.button("锁定账号（立即退出其会话）", key="admin_lock", disabled=target == ctx.user.name):
        ctx.store.lock(target)
        ctx.store.audit(ctx.user, "user_lock", target, {})
        st.success(f"已锁定 {plain.md(target)}")
    if c2.button("删除用户", key="admin_remove", disabled=target == ctx.user.name):
        ctx.store.remove(target)
        ctx.store.audit(ctx.user, "user_remove", target, {})
        st.rerun()

st.subheader("系统设置")
build = ctx.board.build(ctx.identity)
st.dataframe(pd.DataFrame([
    ("仪表盘读取的数据文件", ctx.path),
    ("数据快照编号（审计日志中的“数据快照”）", ctx.identity),
    ("数据版本", f"{build['build_id']}（{build['built_at']:%Y-%m-%d %H:%M}，指标体系 {build['catalogue_version']}）"),
    ("用户库", str(ctx.store.path)),
    ("登录锁定", f"同一用户名连续失败 {ctx.store.max_failures} 次、同一地址失败 {ctx.store.policy.max_address_failures} 次，"
             f"锁定 {ctx.store.policy.lock_minutes:g} 分钟"),
    ("会话时限", f"无操作 {ctx.store.policy.idle_minutes:g} 分钟或登录满 {ctx.store.policy.session_hours:g} 小时后自动退出"),
    ("统一身份认证（OIDC）", "已配置" if session.oidc_configured() else "未配置（仅本地账号）"),
], columns=["项目", "值"]), hide_index=True)
st.caption("登录锁定与会话时限由启动仪表盘时的环境变量 ZHENGTAI_MAX_FAILURES、ZHENGTAI_MAX_ADDRESS_FAILURES、"
           "ZHENGTAI_LOCK_MINUTES、ZHENGTAI_SESSION_IDLE_MINUTES、ZHENGTAI_SESSION_HOURS 设置；"
           "统一身份认证在仪表盘目录的 .streamlit/secrets.toml 中配置。")

st.subheader("审计日志")
actions = admin.action_options()
action = st.selectbox("操作类型", list(actions), format_func=actions.get, key="audit_action")
st.dataframe(admin.audit_table(ctx.store, action=action), hide_index=True)
