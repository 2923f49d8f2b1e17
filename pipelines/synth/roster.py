"""The supervised units (单位名册) of one synthetic county: departments, towns, schools, hospitals and
state enterprises with realistic names, short and former names, sizes, budgets and the dispatched
discipline-inspection team (派驻组) that supervises each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# (name after the county prefix, sector, 简称 forms after the prefix, 曾用名 after the prefix,
#  headcount range, budget range in 万元, leadership posts range, team group)
DEPARTMENTS = [
    ("教育局", "教育", ["教育局"], ["教育体育局"], (40, 80), (40000, 90000), (5, 7), 1),
    ("卫生健康局", "卫生健康", ["卫健局"], ["卫生和计划生育局"], (30, 60), (8000, 20000), (5, 7), 2),
    ("医疗保障局", "医疗保障", ["医保局"], [], (20, 40), (3000, 9000), (3, 5), 2),
    ("市场监督管理局", "市场监管", ["市场局"], ["工商行政管理局"], (80, 160), (3000, 8000), (5, 7), 2),
    ("财政局", "财政", [], [], (40, 80), (2500, 6000), (5, 7), 3),
    ("审计局", "审计", [], [], (18, 35), (600, 1500), (3, 5), 3),
    ("统计局", "统计", [], [], (15, 30), (400, 1000), (3, 4), 3),
    ("发展和改革局", "发展改革", ["发改局"], ["发展计划局"], (25, 50), (1500, 6000), (4, 6), 3),
    ("工业和信息化局", "工业信息化", ["工信局"], ["经济和信息化局"], (20, 45), (1200, 5000), (4, 6), 3),
    ("自然资源局", "自然资源", ["自然资源和规划局"], ["国土资源局"], (60, 120), (6000, 25000), (5, 7), 4),
    ("住房和城乡建设局", "住房城乡建设", ["住建局"], ["城乡规划建设局"], (40, 90), (8000, 30000), (5, 7), 4),
    ("交通运输局", "交通运输", ["交通局"], [], (40, 100), (10000, 40000), (5, 7), 4),
    ("水利局", "水利", [], ["水务局"], (30, 70), (6000, 20000), (4, 6), 4),
    ("城市管理局", "城市管理", ["城管局"], ["城市管理行政执法局"], (60, 150), (3000, 9000), (4, 6), 4),
    ("农业农村局", "农业农村", ["农业局"], ["农业畜牧局"], (60, 140), (15000, 40000), (5, 7), 5),
    ("林业局", "林业", [], [], (25, 60), (2000, 8000), (4, 5), 5),
    ("乡村振兴局", "农业农村", [], ["扶贫开发办公室"], (15, 35), (8000, 30000), (3, 5), 5),
    ("民政局", "民政", [], [], (20, 45), (6000, 15000), (4, 6), 6),
    ("人力资源和社会保障局", "人力社保", ["人社局"], ["人事劳动和社会保障局"], (35, 70), (5000, 12000), (5, 7), 6),
    ("退役军人事务局", "退役军人", ["退役军人局"], [], (12, 25), (1500, 4000), (3, 4), 6),
    ("应急管理局", "应急管理", ["应急局"], ["安全生产监督管理局"], (25, 50), (1000, 4000), (4, 6), 7),
    ("生态环境局", "生态环境", ["环保局"], ["环境保护局"], (25, 55), (1500, 6000), (4, 5), 7),
    ("公安局", "政法", [], [], (150, 300), (8000, 20000), (6, 8), 7),
    ("司法局", "政法", [], [], (25, 50), (800, 2500), (4, 5), 7),
    ("文化广电和旅游局", "文化旅游", ["文广旅局"], ["文化体育广电局"], (25, 55), (1500, 6000), (4, 6), 1),
    ("商务局", "商务", [], [], (15, 35), (800, 3000), (3, 5), 3),
    ("行政审批服务局", "政务服务", ["审批局"], ["政务服务中心管理办公室"], (30, 60), (800, 2500), (4, 5), 3),
    ("融媒体中心", "宣传文化", [], ["广播电视台"], (50, 110), (1500, 4000), (3, 5), 1),
]
MUST_DEPARTMENTS = {"教育局", "卫生健康局", "财政局", "自然资源局", "农业农村局", "市场监督管理局", "应急管理局",
                    "住房和城乡建设局", "交通运输局", "水利局", "民政局", "人力资源和社会保障局"}

SCHOOLS = [
    ("第一中学", ["一中"], [], (160, 280), (4000, 8000), (5, 7)),
    ("第二中学", ["二中"], [], (120, 220), (3000, 6000), (4, 6)),
    ("实验中学", [], [], (90, 180), (2500, 5000), (4, 6)),
    ("实验小学", ["实小"], [], (80, 160), (2000, 4000), (4, 5)),
    ("职业中等专业学校", ["职专"], ["职业技术学校"], (90, 170), (2500, 5500), (4, 6)),
]
HOSPITALS = [
    ("人民医院", ["医院"], [], (450, 900), (40000, 90000), (6, 8)),
    ("中医院", ["中医医院"], [], (200, 450), (15000, 40000), (5, 7)),
    ("妇幼保健院", ["妇幼保健计划生育服务中心"], [], (90, 200), (6000, 15000), (4, 6)),
]
ENTERPRISES = [
    ("城市建设投资有限公司", ["城投公司"], ["城市建设投资开发公司"], (60, 200), (30000, 200000), (5, 7)),
    ("交通建设投资集团有限公司", ["交投集团"], ["交通建设投资有限公司"], (50, 160), (20000, 150000), (4, 6)),
    ("水务投资有限公司", ["水投公司"], [], (40, 120), (10000, 60000), (4, 6)),
    ("国有资产运营有限公司", ["国投公司"], ["国有资产经营管理有限公司"], (30, 90), (10000, 80000), (4, 6)),
]
# Place-name syllables for towns; kept apart from the personal-name pools in people.py so a town never reads as a person.
TOWN_FIRST = list("柳桃杏松青凤安永太兴仁福寿清新东西南北长双三大官沙泉枫竹槐榆桑栗")
TOWN_SECOND = list("桥河泉坪湾塘岭口集店铺庄坝溪阳田关堡营寨滩埠墩垭渡冲")
COUNTY_FIRST = list("安临宁泰丰昌武乐兴永嘉德康庆顺通宜怀崇泽祥瑞襄阜澄")
COUNTY_SECOND = list("平阳远和城宁安水川山乡化兴康源江陵丘都沂州溪")

CN_NUM = "零一二三四五六七八九十"


def cn_ordinal(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (team numbers rarely exceed a few dozen)."""
    if n <= 10:
        return CN_NUM[n]
    tens, ones = divmod(n, 10)
    return (CN_NUM[tens] if tens > 1 else "") + "十" + (CN_NUM[ones] if ones else "")


@dataclass(frozen=True)
class Block:
    """One county's worth of units: the county scale has one, larger scales many (prefix 安平县 …)."""

    index: int
    prefix: str  # "县" at county scale, else the county's own name such as "安平县"


def county_names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct two-character county names."""
    combos = np.array([a + b for a in COUNTY_FIRST for b in COUNTY_SECOND if a != b], dtype=object)
    if n > len(combos):  # beyond ~500 counties add a distinguishing third syllable
        extra = np.array([c + s for c in combos for s in "东西南北中"], dtype=object)
        combos = np.concatenate([combos, extra])
    return list(combos[rng.choice(len(combos), size=n, replace=False)])


def build_block(block: Block, rng: np.random.Generator) -> pd.DataFrame:
    """The units of one county. A per-unit loop is fine: a county has ~50 units."""
    p = block.prefix
    rows: list[dict] = []

    def add(name, kind, sector, short, former, hc, budget, posts, group):
        aliases = [p + s for s in short] + [p + s for s in former]
        rows.append({
            "unit_name": p + name, "aliases": aliases, "kind": kind, "sector": sector,
            "headcount": int(rng.integers(hc[0], hc[1] + 1)),
            "budget_wan": float(np.round(rng.uniform(*budget), 1)),
            "leadership_posts": int(rng.integers(posts[0], posts[1] + 1)), "group": group,
        })

    optional = [d for d in DEPARTMENTS if d[0] not in MUST_DEPARTMENTS]
    n_opt = int(rng.integers(len(optional) // 2, len(optional) + 1))
    chosen_opt = {optional[i][0] for i in rng.choice(len(optional), n_opt, replace=False)}
    for name, sector, short, former, hc, budget, posts, group in DEPARTMENTS:
        if name in MUST_DEPARTMENTS or name in chosen_opt:
            add(name, "部门", sector, short, former, hc, budget, posts, group)
    n_schools = int(rng.integers(3, len(SCHOOLS) + 1))
    for name, short, former, hc, budget, posts in [SCHOOLS[0]] + [SCHOOLS[i] for i in sorted(
            rng.choice(np.arange(1, len(SCHOOLS)), n_schools - 1, replace=False))]:
        add(name, "学校", "教育", short, former, hc, budget, posts, 1)
    n_hosp = int(rng.integers(2, len(HOSPITALS) + 1))
    for name, short, former, hc, budget, posts in HOSPITALS[:n_hosp]:
        add(name, "医院", "卫生健康", short, former, hc, budget, posts, 2)
    n_ent = int(rng.integers(2, len(ENTERPRISES) + 1))
    for name, short, former, hc, budget, posts in ENTERPRISES[:n_ent]:
        add(name, "国有企业", "国资国企", short, former, hc, budget, posts, 4)

    # Towns and townships: 城关镇 plus distinct place names. Their names drop the county prefix at county scale.
    town_prefix = "" if p == "县" else p
    n_towns = int(rng.integers(8, 14))
    combos = [a + b for a in TOWN_FIRST for b in TOWN_SECOND]
    picks = ["城关"] + [combos[i] for i in rng.choice(len(combos), n_towns - 1, replace=False)]
    n_xiang = int(rng.integers(2, 5))
    for j, place in enumerate(picks):
        suffix = "乡" if j >= len(picks) - n_xiang else "镇"
        full = f"{town_prefix}{place}{suffix}人民政府"
        rows.append({
            "unit_name": full, "aliases": [f"{town_prefix}{place}{suffix}"] + ([f"{town_prefix}{place}乡人民政府"] if suffix == "镇" and j % 4 == 1 else []),
            "kind": "乡镇", "sector": "乡镇", "headcount": int(rng.integers(50, 131)),
            "budget_wan": float(np.round(rng.uniform(3000, 12000), 1)),
            "leadership_posts": int(rng.integers(8, 14)), "group": 8 + (j % 2),
        })
    # Town health centres (卫生院) in a few towns: hospitals by kind, small.
    for place in picks[1:1 + int(rng.integers(0, 3))]:
        rows.append({
            "unit_name": f"{town_prefix}{place}镇卫生院", "aliases": [], "kind": "医院", "sector": "卫生健康",
            "headcount": int(rng.integers(25, 70)), "budget_wan": float(np.round(rng.uniform(600, 2000), 1)),
            "leadership_posts": 3, "group": 2,
        })
    df = pd.DataFrame(rows)
    # Teams: contiguous runs of related units, 5-8 units per team.
    df = df.sort_values("group", kind="stable").reset_index(drop=True)
    n_teams = max(2, int(round(len(df) / rng.uniform(5.5, 7.5))))
    team_no = (np.arange(len(df)) * n_teams // len(df)) + 1
    df["team"] = [f"{p}纪委监委第{cn_ordinal(int(t))}派驻纪检监察组" for t in team_no]
    df["block"] = block.index
    df["prefix"] = p
    # Latent integrity climate: most units near 1, a few clearly worse or better.
    df["latent"] = np.exp(rng.normal(0.0, 0.3, len(df)))
    return df.drop(columns="group")


# Ways an analyst writes a unit's name slightly differently from the roster; a fuzzy matcher should catch them.
FUZZY_RULES = [
    ("监督管理", "监管"), ("人民政府", "政府"), ("和城乡", "城乡"), ("和社会", "社会"), ("有限公司", "公司"),
    ("职业中等专业学校", "职业中专"), ("第一中学", "一中学"), ("事务局", "事务管理局"), ("卫生健康局", "卫健委"),
    ("和旅游局", "旅游局"), ("运输局", "运输管理局"),
]


_ENDINGS = ("有限责任公司", "有限公司", "公司", "委员会", "人民政府", "政府", "局", "委", "办公室")


def _core(name: str) -> str:
    for e in _ENDINGS:
        if name.endswith(e) and len(name) > len(e) + 1:
            return name[: -len(e)]
    return name


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def fuzzy_variant(name: str, taken: set[str], others: list[str] = ()) -> str | None:
    """A near-miss spelling of the name that is neither the name nor any other unit's name or alias, and
    that no other unit's name or alias resembles as much: edit similarity to the name must beat every
    other by a clear margin, and no other name's core (without 局/公司/人民政府 …) may be an in-order
    abbreviation of the variant's, as 县水务 is of 县水务投资 (县水务局 was the water bureau's former name)."""
    from rapidfuzz import fuzz

    for old, new in FUZZY_RULES:
        if old not in name:
            continue
        cand = name.replace(old, new, 1)
        if cand == name or cand in taken:
            continue
        own = fuzz.ratio(cand, name)
        core = _core(cand)
        clash = any(fuzz.ratio(cand, o) >= own - 8
                    or (len(_core(o)) >= 3 and (_subsequence(_core(o), core) or _subsequence(core, _core(o))))
                    for o in others)
        if own >= 80 and not clash:
            return cand
    return None
