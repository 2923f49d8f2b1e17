"""The other ledgers, derived from the units, their people and the petitions: talks and letter inquiries
(谈话函询), disciplinary handling under the four forms (案件及四种形态), inspection findings (巡察),
audit findings (审计), major-decision filings (三重一大) and half-yearly main-responsibility checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.petitions import choose_rows, pick_people, pool_index

NaT = np.datetime64("NaT")


def days(a) -> np.ndarray:
    return np.asarray(np.round(a), dtype=np.int64).astype("timedelta64[D]")


def _weekday(d: np.ndarray) -> np.ndarray:
    """Move weekend dates to the Friday before: meetings happen on working days."""
    dow = (d.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
    return d - np.where(dow >= 5, dow - 4, 0).astype("timedelta64[D]")


# ---------------------------------------------------------------- 谈话函询
INQUIRY_RESULTS = ["了结澄清", "批评教育", "组织处理", "转初步核实", "其他"]


def inquiries(pet: pd.DataFrame, units: pd.DataFrame, pool: pd.DataFrame, years: list[int],
              as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """One inquiry per petition disposed of by 谈话函询, plus a few started from daily supervision."""
    src = pet[(pet["disposition"] == "谈话函询") & (pet["person"] >= 0)]
    n = len(src)
    start = src["received_date"].to_numpy() + days(rng.uniform(6, 30, n))
    a = pd.DataFrame({"unit_idx": src["unit_idx"].to_numpy(), "person": src["person"].to_numpy(),
                      "petition_no": src["petition_no"].to_numpy(), "start_date": start,
                      "outcome": src["outcome"].to_numpy(), "story": src["story"].to_numpy()})
    # Inquiries from daily supervision or inspection, without a petition.
    idx = pool_index(pool, len(units))
    lam = np.maximum(units["leadership_posts"].to_numpy() * 0.06, 0.1)
    cnt = rng.poisson(np.repeat(lam[:, None], len(years), axis=1))
    u = np.repeat(np.repeat(np.arange(len(units)), len(years)), cnt.ravel())
    y = np.repeat(np.tile(np.array(years), len(units)), cnt.ravel())
    st = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days(rng.uniform(0, 364, len(u)))
    b = pd.DataFrame({"unit_idx": u, "person": pick_people(rng, idx, u, 0.7), "petition_no": None,
                      "start_date": st, "outcome": None, "story": ""})
    df = pd.concat([a, b], ignore_index=True)
    df = df[df["start_date"] <= as_of].reset_index(drop=True)
    n = len(df)
    lead = pool["is_leader"].to_numpy()[df["person"].to_numpy()]
    method = np.where(rng.random(n) < np.where(lead, 0.2, 0.26), "谈话", "函询").astype(object)
    reply = df["start_date"].to_numpy() + days(rng.uniform(6, 22, n))
    letter = method == "函询"
    df["method"] = method
    df["reply_date"] = np.where(letter & (reply <= as_of), reply, NaT)
    replied = ~pd.isna(df["reply_date"]).to_numpy()
    spot = np.full(n, None, dtype=object)
    spot[letter & replied] = rng.random((letter & replied).sum()) < 0.3
    spot[~letter] = False
    df["spot_checked"] = spot
    done = replied | ~letter
    truthful = np.full(n, None, dtype=object)
    truthful[done] = rng.random(done.sum()) < 0.97
    df["truthful"] = truthful
    sub = df["outcome"].isin(["属实", "部分属实"]).to_numpy()
    r = rng.random(n)
    result = np.where(sub, np.where(r < 0.6, "批评教育", np.where(r < 0.85, "组织处理", "转初步核实")),
                      np.where(r < 0.85, "了结澄清", np.where(r < 0.95, "批评教育", "其他"))).astype(object)
    result[truthful == False] = "转初步核实"  # noqa: E712 - elementwise on object arrays
    result[~done] = None
    df["result"] = result
    return df.drop(columns="outcome")


# ---------------------------------------------------------------- 案件及四种形态
FORM_P = [0.69, 0.20, 0.08, 0.03]
SOURCES = ["巡察移交", "审计移送", "监督检查", "上级交办", "其他"]
SOURCE_P = [0.22, 0.1, 0.5, 0.12, 0.06]
VIOLATIONS = ["政治纪律", "组织纪律", "廉洁纪律", "群众纪律", "工作纪律", "生活纪律", "违法犯罪"]
VIOLATION_P = [3, 10, 35, 14, 30, 8, 0]


def sanctions(form: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Party and government sanctions consistent with the form."""
    n = len(form)
    r = rng.random(n)
    r2 = rng.random(n)
    party = np.select([form == "1", form == "2", form == "3"],
                      [np.full(n, "无"), np.where(r < 0.6, "警告", "严重警告"),
                       np.where(r < 0.45, "撤销党内职务", "留党察看")], default="开除党籍").astype(object)
    gov = np.select([form == "1", form == "2", form == "3"],
                    [np.full(n, "无"), np.where(r2 < 0.45, "无", np.where(r2 < 0.75, "警告", np.where(r2 < 0.92, "记过", "记大过"))),
                     np.where(r2 < 0.5, "降级", "撤职")], default="开除").astype(object)
    return party, gov


def cases(pet: pd.DataFrame, units: pd.DataFrame, pool: pd.DataFrame, years: list[int],
          as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """Handling that follows substantiated petitions, plus handling from inspection, audit and daily supervision."""
    src = pet[pet["outcome"].isin(["属实", "部分属实"]) & (pet["person"] >= 0)]
    src = src[(rng.random(len(src)) < 0.85) | (src["story"] != "").to_numpy()]
    viol = src["category"].replace({"其他": "工作纪律"}).to_numpy()
    a = pd.DataFrame({"unit_idx": src["unit_idx"].to_numpy(), "person": src["person"].to_numpy(),
                      "source": "信访举报", "petition_no": src["petition_no"].to_numpy(),
                      "basis_date": src["closed_date"].to_numpy(), "violation": viol,
                      "fourwinds": src["fourwinds"].to_numpy(), "hidden_variant": src["hidden_variant"].to_numpy(),
                      "story": src["story"].to_numpy()})
    idx = pool_index(pool, len(units))
    lam = units["headcount"].to_numpy() / 100 * 0.7 * units["latent"].to_numpy()
    cnt = rng.poisson(np.repeat(lam[:, None], len(years), axis=1))
    u = np.repeat(np.repeat(np.arange(len(units)), len(years)), cnt.ravel())
    y = np.repeat(np.tile(np.array(years), len(units)), cnt.ravel())
    nb = len(u)
    basis = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days(rng.uniform(0, 364, nb))
    vp = np.tile(np.array(VIOLATION_P, dtype=float), (nb, 1))
    fw = np.full(nb, None, dtype=object)
    vio = np.asarray(VIOLATIONS, dtype=object)[choose_rows(rng, vp)] if nb else np.array([], dtype=object)
    r = rng.random(nb)
    fw[(vio == "工作纪律") & (r < 0.3)] = "形式主义"
    fw[(vio == "工作纪律") & (r >= 0.3) & (r < 0.5)] = "官僚主义"
    fw[(vio == "廉洁纪律") & (r < 0.15)] = "享乐主义"
    fw[(vio == "廉洁纪律") & (r >= 0.15) & (r < 0.3)] = "奢靡之风"
    b = pd.DataFrame({"unit_idx": u, "person": pick_people(rng, idx, u, 0.25),
                      "source": np.asarray(SOURCES, dtype=object)[rng.choice(len(SOURCES), nb, p=SOURCE_P)],
                      "petition_no": None, "basis_date": basis, "violation": vio, "fourwinds": fw,
                      "hidden_variant": None, "story": ""})
    df = pd.concat([a, b], ignore_index=True)
    n = len(df)
    form = np.asarray(["1", "2", "3", "4"], dtype=object)[rng.choice(4, n, p=FORM_P)]
    df["form"] = form
    return df


def finalise_cases(df: pd.DataFrame, pool: pd.DataFrame, as_of: np.datetime64, rng: np.random.Generator) -> None:
    """Dates, sanctions, amounts and follow-ups from the form (story rows may preset some of them)."""
    n = len(df)
    form = df["form"].to_numpy()
    light = form == "1"
    basis = df["basis_date"].to_numpy()
    filed = np.where(light, NaT, basis + days(rng.uniform(5, 30, n)))
    closed = np.where(light, basis + days(rng.uniform(5, 45, n)), filed + days(rng.gamma(3.0, 25.0, n) + 15))
    if "filed_date" in df and "closed_date" in df:  # story rows carry their own dates
        preset = ~pd.isna(df["closed_date"]).to_numpy()
        filed = np.where(preset, df["filed_date"].to_numpy(), filed)
        closed = np.where(preset, df["closed_date"].to_numpy(), closed)
    df["filed_date"] = filed
    df["closed_date"] = closed
    df.loc[form == "4", "violation"] = np.where(rng.random((form == "4").sum()) < 0.8, "违法犯罪",
                                                df.loc[form == "4", "violation"].to_numpy())
    party, gov = sanctions(form, rng)
    df["party_sanction"] = party
    df["gov_sanction"] = gov
    df["transferred"] = form == "4"
    lian = np.isin(df["violation"].to_numpy(), ["廉洁纪律", "违法犯罪"])
    amt = np.exp(rng.normal(np.log(np.where(form == "1", 3000, np.where(form == "4", 300000, 30000))), 0.9, n))
    base_amt = np.where(lian & (rng.random(n) < 0.8), np.round(amt, -1), np.nan)
    if "amount_yuan" in df:
        base_amt = np.where(pd.isna(df["amount_yuan"]).to_numpy(), base_amt, df["amount_yuan"].to_numpy(dtype=float))
    df["amount_yuan"] = base_amt
    fu = closed + days(rng.uniform(150, 400, n))
    df["followup_date"] = np.where(np.isin(form, ["2", "3"]) & (rng.random(n) < 0.55) & (fu <= as_of), fu, NaT)
    p = df["person"].to_numpy()
    df["post"] = pool["post"].to_numpy()[p]
    df["rank"] = pool["rank"].to_numpy()[p]
    df["is_leader"] = pool["is_leader"].to_numpy()[p]


# ---------------------------------------------------------------- 巡察
INSPECTION_CATEGORIES = ["党的领导", "全面从严治党", "组织建设", "巡察整改", "其他"]


def inspection(units: pd.DataFrame, years: list[int], as_of: np.datetime64, rng: np.random.Generator,
               first_round: list[int] = ()) -> pd.DataFrame:
    """Two rounds a year; each unit is inspected once in every five rounds (about every 2.5 years).
    Units in `first_round` are inspected in the first round, so they come round again within the range."""
    rounds = []
    for y in years:
        rounds.append((f"{y}年第一轮", np.datetime64(f"{y}-06-10")))
        rounds.append((f"{y}年第二轮", np.datetime64(f"{y}-11-20")))
    slot = rng.permutation(len(units)) % 5
    slot[list(first_round)] = 0
    frames = []
    seen = np.zeros(len(units), dtype=bool)
    for k, (name, base) in enumerate(rounds):  # per round: a handful of rounds in the range
        u = np.flatnonzero(slot == k % 5)
        if len(u) == 0:
            continue
        fb = base + days(rng.uniform(-15, 25, len(u)))
        nf = 5 + rng.binomial(10, 0.45 * np.clip(units["latent"].to_numpy()[u], 0.5, 2.0) / 1.5)
        uu = np.repeat(u, nf)
        n = len(uu)
        second = np.repeat(seen[u], nf)
        p = np.tile([0.25, 0.35, 0.25, 0.08, 0.07], (n, 1))
        p[second, 3] = 0.3
        frames.append(pd.DataFrame({
            "round": name, "unit_idx": uu, "finding_no": np.concatenate([np.arange(1, m + 1) for m in nf]),
            "feedback_date": np.repeat(fb, nf),
            "category": np.asarray(INSPECTION_CATEGORIES, dtype=object)[choose_rows(rng, p)],
            "is_recurrence": second & (rng.random(n) < 0.08), "story": "",
        }))
        seen[u] = True
    df = pd.concat(frames, ignore_index=True)
    df = df[df["feedback_date"] <= as_of].reset_index(drop=True)
    rectification_status(df, as_of, rng)
    return df


def rectification_status(df: pd.DataFrame, as_of: np.datetime64, rng: np.random.Generator) -> None:
    n = len(df)
    fb = df["feedback_date"].to_numpy()
    r = rng.random(n)
    term = np.where(r < 0.7, 90, np.where(r < 0.9, 180, 60))
    deadline = fb + days(term)
    past = deadline < as_of
    r = rng.random(n)
    status = np.where(past, np.where(r < 0.88, "已完成", np.where(r < 0.94, "长期坚持", np.where(r < 0.985, "整改中", "未整改"))),
                      np.where(r < 0.4, "已完成", np.where(r < 0.95, "整改中", "未整改"))).astype(object)
    room = np.minimum(term, (as_of - fb).astype("timedelta64[D]").astype(np.int64))
    rect = fb + days(rng.uniform(0.25, 1.1, n) * np.maximum(room, 1))
    rect = np.minimum(rect, as_of)
    df["deadline"] = deadline
    df["status"] = status
    df["rectified_date"] = np.where(status == "已完成", rect, NaT)


# ---------------------------------------------------------------- 审计
AUDIT_TYPES = ["违规使用资金", "虚报冒领", "损失浪费", "管理不规范", "会计核算不规范", "政府采购违规", "其他"]
AUDIT_TYPE_P = [0.15, 0.05, 0.08, 0.30, 0.22, 0.12, 0.08]
SPECIAL_AUDITS = {"农业农村": "乡村振兴衔接资金专项审计", "乡镇": "乡村振兴衔接资金专项审计",
                  "医疗保障": "医疗保障基金专项审计", "卫生健康": "医疗服务收费专项审计",
                  "民政": "社会救助资金专项审计", "人力社保": "社会保险基金专项审计",
                  "住房城乡建设": "保障性安居工程专项审计", "交通运输": "交通建设项目专项审计",
                  "水利": "水利建设资金专项审计", "国资国企": "国有资产经营情况专项审计", "教育": "教育经费专项审计"}


def audit(units: pd.DataFrame, years: list[int], as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """Budget-execution, economic-responsibility and special audits; 2-8 findings each."""
    frames = []
    nu = len(units)
    for y in years:  # per year: three vectorised draws
        for label, p in (("{y}年度预算执行审计", 0.33), ("{y}年主要负责人任期经济责任审计", 0.08), ("special", 0.1)):
            chosen = np.flatnonzero(rng.random(nu) < p)
            if label == "special":
                names = units["sector"].iloc[chosen].map(SPECIAL_AUDITS)
                keep = names.notna().to_numpy()
                chosen = chosen[keep]
                project = np.asarray([f"{y}年度{s}" for s in names[keep]], dtype=object)
            else:
                project = np.full(len(chosen), label.format(y=y), dtype=object)
            if len(chosen) == 0:
                continue
            rep = np.datetime64(f"{y}-03-15") + days(rng.uniform(0, 270, len(chosen)))
            nf = 2 + rng.poisson(2.5, len(chosen))
            nf = np.minimum(nf, 9)
            frames.append(pd.DataFrame({
                "audit_project": np.repeat(project, nf), "unit_idx": np.repeat(chosen, nf),
                "finding_no": np.concatenate([np.arange(1, m + 1) for m in nf]), "report_date": np.repeat(rep, nf),
            }))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["report_date"] <= as_of].reset_index(drop=True)
    n = len(df)
    ftype = np.asarray(AUDIT_TYPES, dtype=object)[rng.choice(len(AUDIT_TYPES), n, p=AUDIT_TYPE_P)]
    budget = units["budget_wan"].to_numpy()[df["unit_idx"].to_numpy()] * 10000
    amt = budget * np.exp(rng.normal(np.log(0.0015), 1.0, n))
    no_amount = np.isin(ftype, ["管理不规范", "会计核算不规范", "其他"]) & (rng.random(n) < 0.45)
    df["finding_type"] = ftype
    df["amount_yuan"] = np.where(no_amount, np.nan, np.round(amt, 2))
    term = days(rng.uniform(45, 200, n))
    due = df["report_date"].to_numpy() + term
    r = rng.random(n)
    past = due <= as_of
    rect = np.where(past, np.where(r < 0.8, "已整改", np.where(r < 0.95, "部分整改", "未整改")),
                    np.where(r < 0.3, "已整改", np.where(r < 0.85, "部分整改", "未整改"))).astype(object)
    df["rectification"] = rect
    df["rectified_date"] = np.where(rect == "已整改", np.minimum(due, as_of), NaT)
    df["clue_transferred"] = rng.random(n) < np.where(np.isin(ftype, ["违规使用资金", "虚报冒领"]), 0.35, 0.02)
    df["story"] = ""
    return df


# ---------------------------------------------------------------- 三重一大
ITEM_TYPES = ["重大决策", "重要干部任免", "重大项目安排", "大额资金使用"]
ITEM_TYPE_P = [0.3, 0.18, 0.2, 0.32]


def decisions(units: pd.DataFrame, years: list[int], start: np.datetime64, as_of: np.datetime64,
              rng: np.random.Generator) -> pd.DataFrame:
    """10-30 filings per unit-year; filed within 15 days almost always, decided collectively almost always."""
    lam = np.clip(8 + units["headcount"].to_numpy() / 12, 10, 30)
    cnt = rng.poisson(np.repeat(lam[:, None], len(years), axis=1))
    u = np.repeat(np.repeat(np.arange(len(units)), len(years)), cnt.ravel())
    y = np.repeat(np.tile(np.array(years), len(units)), cnt.ravel())
    n = len(u)
    d = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days(rng.uniform(0, 364, n))
    d = _weekday(d)
    ftype = np.asarray(ITEM_TYPES, dtype=object)[rng.choice(4, n, p=ITEM_TYPE_P)]
    lag = np.where(rng.random(n) < 0.97, 1 + rng.geometric(0.22, n).clip(max=14), rng.integers(16, 60, n))
    budget = units["budget_wan"].to_numpy()[u] * 10000
    amt = np.where(np.isin(ftype, ["重大项目安排", "大额资金使用"]),
                   np.round(budget * np.exp(rng.normal(np.log(0.01), 0.8, n)), -2), np.nan)
    amt = np.where((ftype == "重大决策") & (rng.random(n) < 0.3), np.round(budget * 0.005, -2), amt)
    df = pd.DataFrame({"unit_idx": u, "item_type": ftype, "decision_date": d,
                       "filing_date": d + days(lag), "amount_yuan": amt,
                       "collective": rng.random(n) < 0.995, "story": ""})
    return df[(df["decision_date"] >= start) & (df["filing_date"] <= as_of)].reset_index(drop=True)


# ---------------------------------------------------------------- 主体责任检查
def checks(units: pd.DataFrame, years: list[int], as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """Every unit, every half-year, checked a few weeks after the half-year ends."""
    nu = len(units)
    periods = [(f"{y}H{h}", np.datetime64(f"{y}-07-05") if h == 1 else np.datetime64(f"{y + 1}-01-05"))
               for y in years for h in (1, 2)]
    frames = []
    for label, base in periods:
        frames.append(pd.DataFrame({"unit_idx": np.arange(nu), "check_period": label,
                                    "check_date": _weekday(base + days(rng.uniform(0, 25, nu)))}))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["check_date"] <= as_of].reset_index(drop=True)
    n = len(df)
    lat = units["latent"].to_numpy()[df["unit_idx"].to_numpy()]
    df["problems"] = rng.poisson(np.clip(2.0 + 4 * (lat - 1), 0.5, 10))
    df["story"] = ""
    score_and_grade(df, rng)
    return df


def score_and_grade(df: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(df)
    score = 100 - df["problems"].to_numpy() * rng.uniform(1.2, 2.4, n) - np.abs(rng.normal(3, 2.5, n))
    score = np.round(np.clip(score, 55, 99.5), 1)
    df["score"] = score
    df["grade"] = np.select([score >= 92, score >= 85, score >= 75], ["好", "较好", "一般"], default="差").astype(object)
