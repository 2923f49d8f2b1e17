"""Planted risk stories: what a good political-ecology analysis should find, and one decoy it should not
flag. Each story picks its unit, bends the base rates or adds rows (tagged in a `story` column that never
reaches the files), and describes itself for truth.json."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.ledgers import NaT, days

MONEY_SECTORS = ["自然资源", "住房城乡建设", "交通运输", "水利", "农业农村"]


def _pick(rng, units: pd.DataFrame, used: set[int], mask) -> int:
    cand = [i for i in np.flatnonzero(mask) if i not in used]
    if not cand:
        cand = [i for i in range(len(units)) if i not in used]
    i = int(cand[int(rng.integers(0, len(cand)))])
    used.add(i)
    return i


def plan(units: pd.DataFrame, pool: pd.DataFrame, rows: np.ndarray, months: np.ndarray,
         rng: np.random.Generator, tag: str) -> list[dict]:
    """Choose the story units among `rows` (the indices of one county's units in the chunk)."""
    sub = units.iloc[rows]
    used: set[int] = set()
    kind = sub["kind"].to_numpy()
    sector = sub["sector"].to_numpy()
    local = lambda m: rows[_pick(rng, sub, used, m)]  # noqa: E731 - chunk index of a chosen unit
    nm = len(months)
    last = nm - 1
    s = []
    # the deteriorating unit: a large town other than 城关 (enough people for a trend to show)
    hc = sub["headcount"].to_numpy()
    towns = (kind == "乡镇") & ~sub["unit_name"].str.contains("城关").to_numpy()
    big_town = int(np.argmax(np.where(towns, hc, -1)))
    used.add(big_town)
    u1 = int(rows[big_town])
    s.append({"id": f"{tag}S1", "type": "deteriorating", "unit_idx": u1, "start_m": max(0, nm - 15), "end_m": last})
    u2 = local((kind == "部门") & np.isin(sector, MONEY_SECTORS))
    lead = pool.index[(pool["unit_idx"] == u2) & pool["is_leader"]].to_numpy()
    person = int(lead[0] if rng.random() < 0.5 else lead[1])
    s.append({"id": f"{tag}S2", "type": "leader_multichannel", "unit_idx": u2, "person": person,
              "start_m": max(0, nm - 14), "end_m": max(0, nm - 2)})
    u3 = local(kind == "部门")
    s.append({"id": f"{tag}S3", "type": "rectification_overdue", "unit_idx": u3, "start_m": 0, "end_m": last})
    u4 = local(np.isin(kind, ["部门", "国有企业"]))
    s.append({"id": f"{tag}S4", "type": "hidden_fourwinds", "unit_idx": u4, "start_m": max(0, nm - 24), "end_m": last})
    u5 = local(kind == "国有企业")
    s.append({"id": f"{tag}S5", "type": "major_decisions_irregular", "unit_idx": u5, "start_m": max(0, nm - 18), "end_m": last})
    # the decoy: the largest remaining town, whose volume and rate of reports put it near the top
    load = np.where(kind == "乡镇", hc, -1)
    load[list(used)] = -1
    u6 = int(rows[int(np.argmax(load))])
    used.add(int(np.argmax(load)))
    s.append({"id": f"{tag}S6", "type": "decoy", "unit_idx": u6, "start_m": 0, "end_m": last})
    u7 = local((kind == "部门") & np.isin(sector, ["农业农村", "民政", "水利", "人力社保", "医疗保障"]))
    s.append({"id": f"{tag}S7", "type": "audit_funds_misuse", "unit_idx": u7, "start_m": max(0, nm - 20), "end_m": last})
    return s


def adjust_rates(stories: list[dict], units: pd.DataFrame, rates: np.ndarray, subst: np.ndarray) -> None:
    """Petition volume and substantiation bent by the stories (units × months, in place)."""
    for st in stories:
        u, a, b = st["unit_idx"], st["start_m"], st["end_m"]
        if st["type"] == "deteriorating":
            # a floor on the base rate, so that the rise is clear even in a small town
            rates[u, :] = np.maximum(rates[u, :], 0.6)
            ramp = np.linspace(1.5, 5.0, b - a + 1)
            rates[u, a:b + 1] *= ramp
            subst[u, a:b + 1] *= np.linspace(1.6, 2.5, b - a + 1)
            rates[u, :a] *= 0.75
            subst[u, :a] *= 0.6
        elif st["type"] == "decoy":
            units.loc[u, "latent"] = 0.8
            rates[u, :] *= 3.5
            subst[u, :] = 0.0


def _by_story(df: pd.DataFrame) -> dict:
    """Row labels of each story's rows, found in one pass (many stories at large scales)."""
    tagged = df.index[df["story"].to_numpy() != ""]
    return {k: pd.Index(v) for k, v in df.loc[tagged].groupby("story", sort=False).groups.items()}


def _rows(template: dict, n: int) -> pd.DataFrame:
    return pd.DataFrame({k: [v] * n if not isinstance(v, (list, np.ndarray)) else v for k, v in template.items()})


def petitions(stories: list[dict], pet: pd.DataFrame, units: pd.DataFrame, pool: pd.DataFrame,
              months: np.ndarray, as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """Add the leader's reports and the hidden-variant reports; mark the decoy's false accusation."""
    add = []
    for st in stories:
        u = st["unit_idx"]
        if st["type"] == "leader_multichannel":
            a, b = st["start_m"], st["end_m"]
            ms = np.unique(np.linspace(a, max(a, b - 4), 5).round().astype(int))
            ms = np.concatenate([ms, [b - 4] * (5 - len(ms))])[:5] if len(ms) < 5 else ms
            recv = months[ms].astype("datetime64[D]") + days(rng.uniform(2, 25, 5))
            chans = ["来信", "电话", "网络举报", "上级转办", "网络举报"]
            disp = ["谈话函询", "留存备查", "谈话函询", "初步核实", "初步核实"]
            closed = [recv[0] + 40, recv[1] + 5, recv[2] + 35, months[min(b, ms[3] + 3)].astype("datetime64[D]") + 10, recv[4] + 30]
            closed = np.minimum(np.array(closed, dtype="datetime64[D]"), as_of)
            add.append(_rows({
                "received_date": recv, "channel": chans, "signed": [True, False, False, False, True], "unit_idx": u,
                "person": st["person"], "category": "廉洁纪律", "fourwinds": None, "hidden_variant": None,
                "special_area": [None, None, None, "重大决策落实", None], "disposition": disp, "month_idx": ms,
                "story": st["id"], "closed_date": closed,
                "outcome": ["部分属实", None, "部分属实", "属实", "属实"], "cleared": [False, None, False, False, False],
            }, 5))
            st["petition_months"] = ms.tolist()
        elif st["type"] == "hidden_fourwinds":
            variants = ["一桌餐", "电子红包", "吃老板", "私车公养", "一桌餐", "电子红包", "吃老板", "变通下账", "私车公养",
                        "一桌餐", "电子红包", "吃老板"]
            n = len(variants)
            ms = np.sort(rng.integers(st["start_m"], st["end_m"] - 1, n))
            recv = months[ms].astype("datetime64[D]") + days(rng.uniform(0, 27, n))
            fw = ["奢靡之风" if v in ("一桌餐", "电子红包") else "享乐主义" for v in variants]
            lead = pool.index[(pool["unit_idx"] == u)].to_numpy()
            persons = lead[rng.integers(0, min(len(lead), 8), n)]
            outcome = np.where(rng.random(n) < 0.75, "属实", "部分属实").astype(object)
            add.append(_rows({
                "received_date": recv, "channel": np.asarray(["网络举报", "来信", "电话", "上级转办"], dtype=object)[rng.integers(0, 4, n)],
                "signed": rng.random(n) < 0.3, "unit_idx": u, "person": persons, "category": "廉洁纪律",
                "fourwinds": fw, "hidden_variant": variants, "special_area": None, "disposition": "初步核实",
                "month_idx": ms, "story": st["id"], "closed_date": np.minimum(recv + days(rng.uniform(25, 60, n)), as_of),
                "outcome": outcome, "cleared": False,
            }, n))
        elif st["type"] == "decoy":
            rows = np.flatnonzero((pet["unit_idx"].to_numpy() == u) & pet["outcome"].notna().to_numpy()
                                  & (pet["person"].to_numpy() >= 0))
            if len(rows) == 0:
                continue
            leaders = rows[pool["is_leader"].to_numpy()[pet["person"].to_numpy()[rows]]]
            target = int((leaders if len(leaders) else rows)[0])
            pet.loc[target, ["outcome", "cleared", "story"]] = ["诬告陷害", True, st["id"]]
            other = rows[rows != target]
            if len(other):
                pet.loc[int(other[-1]), ["outcome", "cleared", "story"]] = ["不属实", True, st["id"]]
            # Other false accusations elsewhere in the county would blur the story; keep just this one.
            elsewhere = (pet["outcome"] == "诬告陷害") & (pet["story"] != st["id"])
            pet.loc[elsewhere, "outcome"] = "不属实"
            st["person"] = int(pet.loc[target, "person"])
    if add:
        pet = pd.concat([pet] + add, ignore_index=True)
    return pet


def after_petitions(stories: list[dict], pet: pd.DataFrame) -> None:
    """Once sorted and numbered: the leader's later reports are repeats; remember the numbers."""
    groups = _by_story(pet)
    for st in stories:
        rows = groups.get(st["id"], pd.Index([]))
        st["petition_nos"] = pet.loc[rows, "petition_no"].tolist()
        if st["type"] == "leader_multichannel":
            pet.loc[rows[1:], "is_repeat"] = True


def inquiries(stories: list[dict], inq: pd.DataFrame) -> None:
    """The leader's letter inquiry: answered untruthfully, caught by a spot check, sent on to verification."""
    groups = _by_story(inq)
    for st in stories:
        if st["type"] != "leader_multichannel":
            continue
        rows = groups.get(st["id"], pd.Index([]))
        if len(rows) == 0:
            continue
        r = rows[0]
        inq.loc[r, ["method", "spot_checked", "truthful", "result"]] = ["函询", True, False, "转初步核实"]
        if pd.isna(inq.loc[r, "reply_date"]):
            inq.loc[r, "reply_date"] = inq.loc[r, "start_date"] + np.timedelta64(12, "D")
        for r2 in rows[1:]:
            inq.loc[r2, ["method", "truthful", "result"]] = ["谈话", True, "转初步核实"]
        st["inquiry_nos"] = inq.loc[rows, "inquiry_no"].tolist()


def case_forms(stories: list[dict], cs: pd.DataFrame, pool: pd.DataFrame, months: np.ndarray, as_of: np.datetime64,
               rng: np.random.Generator) -> pd.DataFrame:
    """Forms and dates for story cases, before the sanctions are derived from the form."""
    cs["filed_date"] = np.full(len(cs), NaT, dtype="datetime64[ns]")
    cs["closed_date"] = np.full(len(cs), NaT, dtype="datetime64[ns]")
    cs["amount_yuan"] = np.nan
    groups = _by_story(cs)
    for st in stories:
        rows = groups.get(st["id"], pd.Index([]))
        if st["type"] == "leader_multichannel":
            # the story is this person's only handling: earlier unrelated cases would blur it
            other = cs.index[(cs["person"] == st["person"]) & (cs["story"] != st["id"])]
            cs = cs.drop(index=other)
        if st["type"] == "leader_multichannel" and len(rows):
            # one filed case on the latest verified report; the earlier reports fed the same case
            last = rows[-1]
            basis = cs.loc[last, "basis_date"]
            filed = min(basis + np.timedelta64(7, "D"), as_of - np.timedelta64(60, "D"))
            cs.loc[last, ["form", "violation"]] = ["3", "廉洁纪律"]
            cs.loc[last, "filed_date"] = filed
            cs.loc[last, "closed_date"] = min(filed + np.timedelta64(48, "D"), as_of)
            cs.loc[last, "amount_yuan"] = float(np.round(rng.uniform(18, 60), 1) * 10000)
            cs = cs.drop(index=[r for r in rows if r != last])
        elif st["type"] == "hidden_fourwinds" and len(rows):
            cs.loc[rows, "form"] = np.where(rng.random(len(rows)) < 0.55, "1", "2")
        elif st["type"] == "deteriorating":
            # the decline shows in cases too: handling appears in the last quarters, some of it heavier
            u = st["unit_idx"]
            staff = pool.index[pool["unit_idx"] == u].to_numpy()
            lo = months[min(st["start_m"] + 3, st["end_m"])].astype("datetime64[D]")
            closed = np.sort(lo + days(rng.uniform(0, max(1, int((as_of - lo).astype(int)) - 10), 3)))
            filed = closed - days(rng.uniform(30, 60, 3))
            add = pd.DataFrame({
                "unit_idx": u, "person": staff[rng.integers(0, len(staff), 3)], "source": ["监督检查", "上级交办", "巡察移交"],
                "petition_no": None, "basis_date": filed - np.timedelta64(10, "D"),
                "violation": ["工作纪律", "廉洁纪律", "群众纪律"], "fourwinds": None, "hidden_variant": None,
                "story": st["id"], "form": ["1", "2", "2"], "filed_date": [np.datetime64("NaT"), filed[1], filed[2]],
                "closed_date": closed, "amount_yuan": np.nan,
            })
            add["filed_date"] = pd.to_datetime(add["filed_date"])
            add.index = np.arange(len(add)) + (int(cs.index.max()) + 1 if len(cs) else 0)  # keep labels stable
            cs = pd.concat([cs, add])
    return cs.reset_index(drop=True)


def after_cases(stories: list[dict], cs: pd.DataFrame) -> None:
    groups = _by_story(cs)
    for st in stories:
        st["case_nos"] = cs.loc[groups.get(st["id"], pd.Index([])), "case_no"].tolist()


def inspection(stories: list[dict], ins: pd.DataFrame, as_of: np.datetime64, rng: np.random.Generator) -> None:
    """The overdue unit: findings past their deadline still open, and findings that came back."""
    for st in stories:
        if st["type"] != "rectification_overdue":
            continue
        rows = ins.index[ins["unit_idx"] == st["unit_idx"]]
        ins.loc[rows, "story"] = st["id"]
        past = [r for r in rows if ins.loc[r, "deadline"] < as_of]
        k = max(3, int(len(past) * 0.5))
        chosen = past[:k]
        ins.loc[chosen, "status"] = np.where(rng.random(len(chosen)) < 0.5, "未整改", "整改中")
        ins.loc[chosen, "rectified_date"] = NaT
        rounds = ins.loc[rows, "round"].unique().tolist()
        if len(rounds) > 1:
            later = ins.index[(ins["unit_idx"] == st["unit_idx"]) & (ins["round"] == rounds[-1])]
            ins.loc[later[: max(3, len(later) // 3)], "is_recurrence"] = True
            ins.loc[later[: max(3, len(later) // 3)], "category"] = "巡察整改"


def audit(stories: list[dict], aud: pd.DataFrame, units: pd.DataFrame, years: list[int],
          as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """The overdue unit's audit findings stay unrectified; the misuse unit gets a large special audit."""
    add = []
    for st in stories:
        u = st["unit_idx"]
        budget = float(units.loc[u, "budget_wan"]) * 10000
        if st["type"] == "rectification_overdue":
            y = years[0] if len(years) > 1 else years[-1]
            n = 4
            add.append(_rows({
                "audit_project": f"{y}年度预算执行审计（延伸）", "unit_idx": u, "finding_no": np.arange(1, n + 1),
                "report_date": np.datetime64(f"{y}-08-20"),
                "finding_type": ["管理不规范", "违规使用资金", "会计核算不规范", "政府采购违规"],
                "amount_yuan": [np.nan, round(budget * 0.004, 2), np.nan, round(budget * 0.002, 2)],
                "rectification": ["未整改", "未整改", "部分整改", "未整改"], "rectified_date": NaT,
                "clue_transferred": [False, True, False, False], "story": st["id"],
            }, n))
        elif st["type"] == "audit_funds_misuse":
            y = years[-1]
            n = 5
            share = rng.uniform(0.025, 0.045, n)  # together 12-22% of the annual budget
            types = ["违规使用资金", "虚报冒领", "违规使用资金", "损失浪费", "政府采购违规"]
            rep = min(np.datetime64(f"{y}-06-18"), as_of - np.timedelta64(30, "D"))
            add.append(_rows({
                "audit_project": f"{y}年度专项资金管理使用情况专项审计", "unit_idx": u, "finding_no": np.arange(1, n + 1),
                "report_date": rep, "finding_type": types, "amount_yuan": np.round(budget * share, 2),
                "rectification": ["部分整改", "未整改", "部分整改", "已整改", "未整改"],
                "rectified_date": [NaT, NaT, NaT, rep + np.timedelta64(40, "D"), NaT],
                "clue_transferred": [True, True, False, False, True], "story": st["id"],
            }, n))
            st["amount_yuan"] = float(np.round(budget * share, 2).sum())
            st["budget_yuan"] = budget
    if add:
        aud = pd.concat([aud] + add, ignore_index=True)
    return aud


def decisions(stories: list[dict], dec: pd.DataFrame, months: np.ndarray, rng: np.random.Generator) -> None:
    for st in stories:
        if st["type"] != "major_decisions_irregular":
            continue
        since = months[st["start_m"]].astype("datetime64[D]")
        rows = dec.index[(dec["unit_idx"] == st["unit_idx"]) & (dec["decision_date"] >= since)]
        late = rows[rng.random(len(rows)) < 0.4]
        dec.loc[late, "filing_date"] = dec.loc[late, "decision_date"] + pd.to_timedelta(rng.integers(20, 75, len(late)), unit="D")
        nc = rows[rng.random(len(rows)) < 0.3]
        dec.loc[nc, "collective"] = False
        dec.loc[rows, "story"] = st["id"]
        st["late_filings"] = int(len(late))
        st["non_collective"] = int(len(nc))


def checks(stories: list[dict], chk: pd.DataFrame, rng: np.random.Generator) -> None:
    for st in stories:
        u = st["unit_idx"]
        rows = chk.index[chk["unit_idx"] == u]
        if st["type"] == "deteriorating":
            tail = rows[-3:]
            if len(tail):
                chk.loc[tail, "problems"] = [6, 8, 11][3 - len(tail):]
        elif st["type"] == "rectification_overdue":
            chk.loc[rows, "problems"] = rng.integers(5, 9, len(rows))
        else:
            continue
        chk.loc[rows, "story"] = st["id"]

