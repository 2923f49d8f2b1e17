"""Synthetic people: Chinese names, 18-digit resident ID numbers with a valid check digit, mobile numbers,
and each unit's pool of leaders and staff who can be reported, asked, or handled across the ledgers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

# Common surnames, most frequent first (weights fall off roughly like the real distribution).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Given-name characters, split in two positions so names read naturally (建国, 丽娟, 晓燕 …).
# None of them appears in the town/county name pools in roster.py.
GIVEN_FIRST = list("建志国文海玉春德宏晓俊雪振学云丽秀桂明卫立晨嘉思子亚佳婉雅梦睿浩欣博淑慧美艳小红金")
GIVEN_SECOND = list("伟芳娜敏静强磊军洋勇艳杰娟涛超霞刚英华辉鹏飞琳婷宇鑫亮斌彬颖慧萍荣燕玲倩琴涵轩瑶雯蕾")
SINGLE_GIVEN = list("伟芳敏静强磊军勇杰涛超刚辉鹏飞琳婷鑫斌颖萍荣燕玲倩琴")

# Six-digit administrative area codes in the usual format (first digits = province); fictional counties.
AREA_CODES = np.array([410523, 410526, 411123, 421022, 421123, 431223, 441825, 451022, 511025, 522627,
                       532325, 612425, 622326, 371427, 341524, 361026, 130927, 140725], dtype=np.int64)
MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156,
                            157, 158, 159, 166, 173, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187,
                            188, 189, 191, 198, 199], dtype=np.int64)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"), dtype=object)


@lru_cache(maxsize=1)
def _forbidden() -> frozenset[str]:
    """Every 2- and 3-character run in the generator's own phrases and unit names: a person called 程超
    must not appear inside 工程超概算, or tests (and the ingester's masking) could not tell them apart."""
    from pipelines.synth import roster, texts

    found: list[str] = []

    def walk(x):
        if isinstance(x, str):
            found.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    for module in (texts, roster):
        for name in dir(module):
            if name.isupper():
                walk(getattr(module, name))
    runs = set()
    for text in found:
        for k in (2, 3):
            runs.update(text[i:i + k] for i in range(len(text) - k + 1))
    return frozenset(runs)


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    """n Chinese personal names: surname + one or (mostly) two given characters, none of which reads as
    a run of the generator's own phrases."""
    out = _draw_names(rng, n)
    forbidden = list(_forbidden())
    for _ in range(10):
        bad = pd.Series(out, dtype=object).isin(forbidden).to_numpy()
        if not bad.any():
            break
        out[bad] = _draw_names(rng, int(bad.sum()))
    return out


def _draw_names(rng: np.random.Generator, n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
    sur = np.asarray(SURNAMES, dtype=object)[rng.choice(len(SURNAMES), n, p=w / w.sum())]
    g1 = np.asarray(GIVEN_FIRST, dtype=object)[rng.integers(0, len(GIVEN_FIRST), n)]
    g2 = np.asarray(GIVEN_SECOND, dtype=object)[rng.integers(0, len(GIVEN_SECOND), n)]
    single = np.asarray(SINGLE_GIVEN, dtype=object)[rng.integers(0, len(SINGLE_GIVEN), n)]
    two = rng.random(n) < 0.12
    return np.where(two, sur + single, sur + g1 + g2)


def unique_names(rng: np.random.Generator, n: int, taken: list[np.ndarray] | None = None) -> np.ndarray:
    """n names, distinct from each other and from the names already `taken` (a list of arrays, extended by
    the caller), while the name space allows it; beyond a few hundred thousand duplicates are allowed, as
    in real life."""
    out = names(rng, n)
    if n > 300_000:
        return out
    prior = np.concatenate(taken) if taken else np.array([], dtype=object)
    for _ in range(20):
        both = pd.Series(np.concatenate([prior, out]), dtype=object)
        bad = both.duplicated().to_numpy()[len(prior):]
        if not bad.any():
            break
        out[bad] = names(rng, int(bad.sum()))
    return out


def id_numbers(rng: np.random.Generator, n: int, birth_years=(1964, 2001), male=None) -> np.ndarray:
    """n 18-digit resident ID numbers: area code, birth date, sequence (odd = male), ISO 7064 check digit."""
    area = AREA_CODES[rng.integers(0, len(AREA_CODES), n)]
    start = np.datetime64(f"{birth_years[0]}-01-01")
    span = (np.datetime64(f"{birth_years[1]}-12-31") - start).astype(int)
    birth = start + rng.integers(0, span, n).astype("timedelta64[D]")
    ymd = pd.DatetimeIndex(birth)
    birth_num = (ymd.year.to_numpy() * 10000 + ymd.month.to_numpy() * 100 + ymd.day.to_numpy()).astype(np.int64)
    seq = rng.integers(0, 999, n)
    if male is not None:
        seq = seq - seq % 2 + np.where(male, 1, 0)
        seq = np.clip(seq, 0, 999)
    body = area * 10**11 + birth_num * 1000 + seq  # 17 digits
    digits = (body[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return body.astype(str).astype(object) + check


def id_valid(number: str) -> bool:
    """Check the ISO 7064 MOD 11-2 check digit of an 18-digit ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * int(w) for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """n 11-digit mainland mobile numbers."""
    num = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)] * 10**8 + rng.integers(0, 10**8, n)
    return num.astype(str).astype(object)


# Posts by unit kind: (top leader, deputies cycle, staff posts with their rank).
LEADER_POSTS = {
    "部门": ("党组书记、局长", ["党组成员、副局长", "党组成员、副局长", "党组成员、副局长", "党组成员、总工程师",
                              "党组成员、办公室主任", "党组成员、副局长", "副局长"]),
    "乡镇": ("党委书记", ["党委副书记、镇长", "党委副书记", "人大主席", "党委委员、纪委书记", "党委委员、组织委员",
                        "党委委员、副镇长", "党委委员、宣传委员", "副镇长", "党委委员、武装部部长", "副镇长",
                        "党委委员、政法委员", "副镇长"]),
    "学校": ("党总支书记、校长", ["副校长", "副校长", "工会主席", "副校长", "党总支副书记"]),
    "医院": ("党委书记、院长", ["党委副书记", "副院长", "副院长", "副院长", "工会主席", "副院长", "纪委书记"]),
    "国有企业": ("党委书记、董事长", ["党委副书记、总经理", "副总经理", "副总经理", "财务总监", "党委委员、纪委书记",
                                  "副总经理"]),
}
STAFF_POSTS = {
    "部门": [("办公室主任", "股级"), ("财务股股长", "股级"), ("综合股股长", "股级"), ("业务股股长", "股级"),
           ("执法大队大队长", "股级"), ("下属中心主任", "股级"), ("科员", "一般干部"), ("工作人员", "一般干部"),
           ("会计", "一般干部"), ("出纳", "一般干部"), ("执法人员", "一般干部"), ("站长", "股级")],
    "乡镇": [("党政办主任", "股级"), ("财政所所长", "股级"), ("农业综合服务中心主任", "股级"),
           ("社会事务办主任", "股级"), ("村党支部书记", "其他"), ("村委会主任", "其他"), ("村报账员", "其他"),
           ("村监委会主任", "其他"), ("包村干部", "一般干部"), ("工作人员", "一般干部"), ("民政专干", "一般干部")],
    "学校": [("教务处主任", "股级"), ("政教处主任", "股级"), ("总务处主任", "股级"), ("年级组长", "一般干部"),
           ("班主任", "一般干部"), ("教师", "一般干部"), ("会计", "一般干部"), ("食堂管理员", "其他")],
    "医院": [("医务科科长", "股级"), ("药剂科主任", "股级"), ("设备科科长", "股级"), ("外科主任", "股级"),
           ("医生", "一般干部"), ("护士长", "一般干部"), ("收费处主任", "股级"), ("护士", "一般干部"),
           ("采购员", "其他")],
    "国有企业": [("财务部经理", "其他"), ("工程部经理", "其他"), ("项目经理", "其他"), ("综合部主任", "其他"),
             ("会计", "其他"), ("员工", "其他"), ("采购专员", "其他")],
}


def _top_post(kind: str, unit_name: str) -> str:
    top = LEADER_POSTS[kind][0]
    if kind == "部门" and not unit_name.endswith("局"):
        top = top.replace("局长", "主任")
    if kind == "乡镇" and unit_name.endswith("乡人民政府"):
        top = top.replace("镇长", "乡长")
    return top


def build_pool(units: pd.DataFrame, rng: np.random.Generator, taken: list[np.ndarray]) -> pd.DataFrame:
    """Each unit's leaders (班子成员, the first being the 一把手) and a staff sample large enough for the
    people who ever appear in a ledger (about a quarter of headcount)."""
    n_lead = units["leadership_posts"].to_numpy()
    n_staff = (units["headcount"].to_numpy() * 0.25).astype(int) + 4
    n_per = n_lead + n_staff
    unit_idx = np.repeat(np.arange(len(units)), n_per)
    within = np.arange(len(unit_idx)) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    is_leader = within < np.repeat(n_lead, n_per)
    is_top = within == 0
    n = len(unit_idx)
    post = np.empty(n, dtype=object)
    rank = np.empty(n, dtype=object)
    kinds = units["kind"].to_numpy()
    names_ = units["unit_name"].to_numpy()
    starts = np.cumsum(n_per) - n_per
    for u in range(len(units)):  # per unit: a handful of posts each
        kind = kinds[u]
        s = starts[u]
        top, deputies = LEADER_POSTS[kind][0], LEADER_POSTS[kind][1]
        post[s] = _top_post(kind, names_[u])
        dep = [deputies[i % len(deputies)] for i in range(n_lead[u] - 1)]
        if kind == "乡镇" and names_[u].endswith("乡人民政府"):
            dep = [d.replace("镇长", "乡长") for d in dep]
        post[s + 1:s + n_lead[u]] = dep
        rank[s] = "县处级" if kind == "乡镇" and rng.random() < 0.15 else ("乡科级正职" if kind in ("部门", "乡镇", "医院")
                                                                       or rng.random() < 0.5 else "乡科级副职")
        rank[s + 1:s + n_lead[u]] = "乡科级副职" if kind != "国有企业" else "其他"
        staff = STAFF_POSTS[kind]
        pick_ = rng.integers(0, len(staff), n_staff[u])
        post[s + n_lead[u]:s + n_per[u]] = [staff[i][0] for i in pick_]
        rank[s + n_lead[u]:s + n_per[u]] = [staff[i][1] for i in pick_]
    name = unique_names(rng, n, taken)
    taken.append(name)
    male = rng.random(n) < np.where(is_leader, 0.8, 0.55)
    return pd.DataFrame({
        "unit_idx": unit_idx, "name": name, "id_number": id_numbers(rng, n, male=male), "phone": mobiles(rng, n),
        "post": post, "rank": rank, "is_leader": is_leader, "is_top": is_top,
    })
