"""Petitions and reports (信访举报): monthly volumes proportional to headcount with sector base rates,
channels, signatures, the person reported, the problem category by the six disciplines, 四风 subtypes and
their hidden variants, special areas, disposition and verification outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = ["来信", "来访", "电话", "网络举报", "上级转办"]
CHANNEL_P = [0.28, 0.12, 0.10, 0.35, 0.15]
SIGNED_P = {"来信": 0.35, "来访": 0.9, "电话": 0.4, "网络举报": 0.25, "上级转办": 0.3}

CATEGORIES = ["政治纪律", "组织纪律", "廉洁纪律", "群众纪律", "工作纪律", "生活纪律", "其他"]
CATEGORY_P = {
    "部门": [4, 10, 34, 10, 28, 6, 8],
    "乡镇": [3, 7, 26, 31, 22, 4, 7],
    "学校": [2, 8, 24, 18, 28, 8, 12],
    "医院": [2, 6, 36, 16, 26, 6, 8],
    "国有企业": [3, 8, 44, 6, 26, 5, 8],
}
# Sectors where money and projects flow: integrity (廉洁) reports are more frequent.
MONEY_SECTORS = {"住房城乡建设", "交通运输", "自然资源", "水利", "国资国企", "农业农村"}
KIND_RATE = {"部门": 1.0, "乡镇": 1.7, "学校": 0.7, "医院": 1.25, "国有企业": 0.9}
SECTOR_RATE = {"住房城乡建设": 1.3, "交通运输": 1.25, "自然资源": 1.3, "农业农村": 1.15, "民政": 1.2,
               "人力社保": 1.15, "市场监管": 1.1, "统计": 0.6, "审计": 0.6, "退役军人": 1.2}
HIDDEN_VARIANTS = ["吃老板", "一桌餐", "变通下账", "电子红包", "分批异地操办酒席", "私车公养"]
DISPOSITIONS = ["初步核实", "谈话函询", "予以了结", "留存备查", "暂存待查"]
DISPOSITION_P = [0.38, 0.27, 0.15, 0.14, 0.06]


def choose_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row from a row-wise probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def monthly_rates(units: pd.DataFrame, n_months: int, base_per_100: float) -> np.ndarray:
    """Expected petitions per unit and month (units × months) before story adjustments."""
    kind = units["kind"].map(KIND_RATE).to_numpy()
    sector = units["sector"].map(SECTOR_RATE).fillna(1.0).to_numpy()
    per_month = units["headcount"].to_numpy() / 100 * base_per_100 / 12 * kind * sector * units["latent"].to_numpy()
    return np.repeat(per_month[:, None], n_months, axis=1)


def pick_people(rng, pool_index: dict, unit_idx: np.ndarray, leader_share: float | np.ndarray) -> np.ndarray:
    """A person of each row's unit from the pool: a leader with probability leader_share, else staff."""
    lead_start, n_lead, staff_start, n_staff = (pool_index[k][unit_idx] for k in ("lead_start", "n_lead", "staff_start", "n_staff"))
    lead = rng.random(len(unit_idx)) < leader_share
    # Within leaders the top leader and first deputies are reported more often (power concentrates there).
    r_lead = np.floor(rng.random(len(unit_idx)) ** 1.6 * n_lead).astype(np.int64)
    r_staff = np.floor(rng.random(len(unit_idx)) * n_staff).astype(np.int64)
    return np.where(lead, lead_start + r_lead, staff_start + r_staff)


def pool_index(pool: pd.DataFrame, n_units: int) -> dict:
    """Offsets of each unit's leaders and staff in the pool (the pool is grouped by unit, leaders first)."""
    counts = np.bincount(pool["unit_idx"].to_numpy(), minlength=n_units)
    starts = np.cumsum(counts) - counts
    n_lead = np.bincount(pool["unit_idx"].to_numpy(), weights=pool["is_leader"].to_numpy(), minlength=n_units).astype(np.int64)
    return {"lead_start": starts, "n_lead": n_lead, "staff_start": starts + n_lead, "n_staff": counts - n_lead}


def build(units: pd.DataFrame, pool: pd.DataFrame, months: np.ndarray, rates: np.ndarray,
          subst_mult: np.ndarray, as_of: np.datetime64, rng: np.random.Generator) -> pd.DataFrame:
    """Base petitions for all units; `rates` and `subst_mult` (units × months) already carry the stories."""
    n_units, n_months = rates.shape
    counts = rng.poisson(rates)
    flat = counts.ravel()
    unit_idx = np.repeat(np.repeat(np.arange(n_units), n_months), flat)
    month_idx = np.repeat(np.tile(np.arange(n_months), n_units), flat)
    n = len(unit_idx)
    m0 = months[month_idx].astype("datetime64[D]")
    m1 = (months[month_idx] + 1).astype("datetime64[D]")
    received = m0 + np.floor(rng.random(n) * (m1 - m0).astype(int)).astype("timedelta64[D]")
    kinds = units["kind"].to_numpy()[unit_idx]
    sectors = units["sector"].to_numpy()[unit_idx]

    channel = np.asarray(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), n, p=CHANNEL_P)]
    signed = rng.random(n) < pd.Series(channel).map(SIGNED_P).to_numpy()

    P = np.array([CATEGORY_P[k] for k in kinds], dtype=float).reshape(n, len(CATEGORIES))
    P[np.isin(sectors, list(MONEY_SECTORS)), 2] += 15
    category = np.asarray(CATEGORIES, dtype=object)[choose_rows(rng, P)]

    fourwinds = np.full(n, None, dtype=object)
    hidden = np.full(n, None, dtype=object)
    r = rng.random(n)
    lian = category == "廉洁纪律"
    gong = category == "工作纪律"
    fw_l = lian & (r < 0.28)
    fourwinds[fw_l] = np.where(rng.random(fw_l.sum()) < 0.4, "享乐主义", "奢靡之风")
    fw_g = gong & (r < 0.3)
    fourwinds[fw_g] = np.where(rng.random(fw_g.sum()) < 0.55, "形式主义", "官僚主义")
    hv = np.isin(fourwinds, ["享乐主义", "奢靡之风"]) & (rng.random(n) < 0.2)
    hidden[hv] = np.asarray(HIDDEN_VARIANTS, dtype=object)[rng.choice(6, hv.sum(), p=[0.22, 0.14, 0.22, 0.16, 0.14, 0.12])]

    special = np.full(n, None, dtype=object)
    r = rng.random(n)
    town = kinds == "乡镇"
    special[town & (r < 0.25)] = "乡村振兴"
    special[town & (r >= 0.25) & (r < 0.42)] = "群众身边腐败"
    special[(sectors == "农业农村") & (r < 0.3)] = "乡村振兴"
    special[np.isin(sectors, ["民政", "人力社保", "医疗保障", "退役军人"]) & (r < 0.28)] = "群众身边腐败"
    special[(sectors == "市场监管") & (r < 0.32)] = "食品药品安全"
    special[(kinds == "医院") & (r < 0.12)] = "食品药品安全"
    special[(sectors == "应急管理") & (r < 0.4)] = "安全生产"
    special[np.isin(sectors, ["交通运输", "住房城乡建设", "国资国企"]) & (r < 0.1)] = "安全生产"
    special[(special == None) & (r > 0.96)] = "重大决策落实"  # noqa: E711 - elementwise on object arrays
    special[(category == "群众纪律") & (special == None) & (r > 0.7)] = "群众身边腐败"  # noqa: E711

    idx = pool_index(pool, n_units)
    named = rng.random(n) < 0.88
    leader_share = np.where(kinds == "乡镇", 0.3, 0.4)
    person = np.where(named, pick_people(rng, idx, unit_idx, leader_share), -1)

    disposition = np.asarray(DISPOSITIONS, dtype=object)[rng.choice(len(DISPOSITIONS), n, p=DISPOSITION_P)]
    disposition[(person < 0) & (disposition == "谈话函询")] = "初步核实"

    df = pd.DataFrame({
        "received_date": received, "channel": channel, "signed": signed, "unit_idx": unit_idx,
        "person": person, "category": category, "fourwinds": fourwinds, "hidden_variant": hidden,
        "special_area": special, "disposition": disposition, "month_idx": month_idx, "story": "",
    })
    p_sub = np.clip(0.36 * np.sqrt(units["latent"].to_numpy()[unit_idx]) * subst_mult[unit_idx, month_idx], 0, 0.95)
    decide_outcomes(df, p_sub, as_of, rng)
    return df


def decide_outcomes(df: pd.DataFrame, p_sub: np.ndarray, as_of: np.datetime64, rng: np.random.Generator) -> None:
    """Closing dates and verification outcomes by disposition; rows still open at as_of have neither."""
    n = len(df)
    disp = df["disposition"].to_numpy()
    lag = np.select(
        [disp == "初步核实", disp == "谈话函询", disp == "予以了结", disp == "留存备查"],
        [rng.gamma(4.0, 16.0, n), rng.gamma(4.0, 9.0, n), rng.gamma(2.0, 7.0, n), rng.gamma(2.0, 3.0, n)],
        default=np.nan,
    )
    lag = np.ceil(lag) + 1
    closed = df["received_date"].to_numpy() + np.where(np.isnan(lag), 0, lag).astype("timedelta64[D]")
    is_closed = ~np.isnan(lag) & (closed <= as_of)
    df["closed_date"] = np.where(is_closed, closed, np.datetime64("NaT"))
    verified = is_closed & np.isin(disp, ["初步核实", "谈话函询"])
    sub = rng.random(n) < p_sub
    outcome = np.full(n, None, dtype=object)
    outcome[verified & sub] = np.where(rng.random((verified & sub).sum()) < 0.48, "属实", "部分属实")
    neg = verified & ~sub
    r = rng.random(neg.sum())
    outcome[neg] = np.where(r < 0.46, "不属实", np.where(r < 0.997, "查无实据", "诬告陷害"))
    closed_only = is_closed & (disp == "予以了结") & (rng.random(n) < 0.5)
    outcome[closed_only] = "查无实据"
    df["outcome"] = outcome
    cleared = np.full(n, None, dtype=object)
    has = outcome != None  # noqa: E711
    cleared[has] = False
    cleared[outcome == "诬告陷害"] = True
    df["cleared"] = cleared


def finish(df: pd.DataFrame, pool: pd.DataFrame, rng: np.random.Generator, taken: list[np.ndarray]) -> pd.DataFrame:
    """Sort by date, fill the person columns and the petitioner, flag repeats (重复件)."""
    from pipelines.synth import people

    df = df.sort_values(["received_date", "unit_idx"], kind="stable").reset_index(drop=True)
    n = len(df)
    person = df["person"].to_numpy()
    has = person >= 0
    safe = np.where(has, person, 0)
    df["reported_name"] = np.where(has, pool["name"].to_numpy()[safe], None)
    df["reported_post"] = np.where(has, pool["post"].to_numpy()[safe], None)
    df["reported_rank"] = np.where(has, pool["rank"].to_numpy()[safe], None)
    df["is_leader"] = np.where(has, pool["is_leader"].to_numpy()[safe], None)
    signed = df["signed"].to_numpy().astype(bool)
    pet = people.unique_names(rng, n, taken)
    taken.append(pet[signed])
    df["petitioner"] = np.where(signed, pet, None)
    phone = people.mobiles(rng, n)
    has_phone = signed & (rng.random(n) < 0.85)
    df["petitioner_phone"] = np.where(has_phone, phone, None)
    # A repeat names the same person as an earlier report.
    earlier = pd.Series(np.where(has, person, -1 - np.arange(n))).duplicated().to_numpy()
    df["is_repeat"] = earlier & (rng.random(n) < 0.55) | (df["story"].to_numpy() == "repeat")
    return df
