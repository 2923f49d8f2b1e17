"""Free text that reads like what analysts type: petition contents composed from many phrase pools
(by problem category, 四风 subtype, hidden variant and special area), inspection and audit findings,
and the items of 三重一大 filings. Templates are filled column-wise: loops run over templates, not rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_SLOT = re.compile(r"\{(\w+)\}")

OPENERS = {
    "来信": ["群众来信反映：", "来信反映，", "有群众写信反映，", "来信称，", "署名来信反映：", "匿名信反映，"],
    "来访": ["来访人反映，", "群众来访称，", "来访群众反映：", "信访人到访反映，"],
    "电话": ["来电反映，", "群众来电称，", "电话举报：", "有群众打电话反映，"],
    "网络举报": ["网民通过12388举报平台反映，", "网络举报：", "网上举报称，", "通过12388网站举报，", "网络来件反映，"],
    "上级转办": ["市纪委监委转来信访件反映，", "上级转办件反映：", "县委信访局转来件反映，", "上级交办件称，", "省纪委监委转来件反映，"],
}
SUBJECT_NAMED = ["{unit}{post}{name}", "{unit}的{post}{name}", "{post}{name}（{unit}）", "{unit}{name}（{post}）"]
SUBJECT_POST = ["{unit}{post}", "{unit}的{post}", "该单位{post}", "{unit}一名{post}"]  # the last one for staff only
SUBJECT_NONE = ["{unit}有工作人员", "{unit}个别干部", "{unit}部分干部", "{unit}有关负责人", "{unit}"]
# {yc}/{mc}: a month before the report in its own year (or the year before in January); {yp}: the year before.
TIMES = ["{yp}年春节前后，", "{yp}年以来，", "{yp}年下半年，", "近两年来，", "{yc}年{mc}月，", "", "", "长期以来，", "今年以来，",
         "{yp}年中秋、国庆期间，", "去年以来，", "{yc}年{mc}月以来，", "前段时间，", "多年来，"]
CLOSERS = ["请求组织调查处理。", "希望纪委严肃查处。", "请上级部门核实。", "群众意见很大。", "恳请领导重视。", "",
           "希望尽快给予答复。", "请依纪依法处理。", "影响恶劣。", "望查实后严肃处理。"]

DEEDS = {
    "廉洁纪律": [
        "利用职务便利，在{project}中为特定关系人承揽工程提供帮助，收受好处费{amount}。",
        "收受管理服务对象所送礼金、购物卡，累计{amount}。",
        "违规在下属单位报销个人费用{amount}。",
        "其亲属经商办企业，与本单位发生业务往来，从中牟利。",
        "在{project}验收中降低标准，事后收受施工方好处。",
        "长期借用管理服务对象车辆，至今未归还。",
        "插手干预{project}的采购，指定供应商。",
        "虚列支出套取资金{amount}，用于发放福利。",
        "在{project}中与承包方串通，抬高结算价款。",
        "违规收受下属单位土特产和烟酒。",
    ],
    "群众纪律": [
        "在{benefit}评定中优亲厚友，把不符合条件的亲属纳入。",
        "克扣、截留群众{benefit}资金{amount}。",
        "对群众诉求推诿扯皮，态度粗暴，吃拿卡要。",
        "在征地拆迁补偿中暗箱操作，补偿款迟迟不发放。",
        "违规向群众收取办事费用，不开收据。",
        "代领群众{benefit}资金后长期不发放。",
        "强行摊派，要求群众购买指定商品。",
    ],
    "工作纪律": [
        "工作作风漂浮，长期不在岗，上班时间打牌。",
        "对{project}监管不力，履职不到位，造成国家资金损失。",
        "违规发放津补贴{amount}。",
        "弄虚作假，虚报工作数据应付检查。",
        "违规干预下属单位的执法检查。",
        "擅自泄露工作秘密，向当事人通风报信。",
        "借出差之机绕道旅游。",
    ],
    "组织纪律": [
        "在干部选拔任用中搞亲亲疏疏，违规提拔身边工作人员。",
        "档案造假，篡改出生日期和学历。",
        "违规招录人员，让亲属子女进入单位工作。",
        "不如实报告个人有关事项，隐瞒名下房产。",
        "违反民主集中制，重大事项个人说了算。",
        "违规兼职取酬。",
    ],
    "政治纪律": [
        "对上级决策部署阳奉阴违、搞变通。",
        "在网络群组中发表不当言论，造成不良影响。",
        "在组织调查期间与他人串供、转移证据。",
        "热衷于参与宗族活动，干预村级换届选举。",
    ],
    "生活纪律": [
        "生活作风不检点，与他人存在不正当关系。",
        "经常出入高档娱乐场所，生活奢靡。",
        "对亲属疏于管教，亲属打着其旗号办事。",
        "长期沉迷网络游戏，工作日深夜饮酒。",
    ],
    "其他": [
        "酒后驾驶机动车被交警查处。",
        "参与民间借贷，向他人高息放贷。",
        "拖欠施工队工程款，农民工多次讨薪无果。",
        "与他人发生经济纠纷，影响恶劣。",
        "违规经商办企业，入股辖区企业。",
    ],
}
FOURWINDS = {
    "形式主义": ["大搞文山会海，基层迎检负担重。", "搞形象工程，{project}建成后长期闲置。", "填表报数多、留痕过度，基层苦不堪言。",
               "督查检查走过场，调研浮于表面。", "层层发文、以文件落实文件。"],
    "官僚主义": ["对群众反映的问题不闻不问、推诿扯皮。", "门难进、脸难看、事难办。", "脱离实际乱决策，造成资金浪费。",
               "对上级要求层层加码，搞一刀切。", "对企业办事设卡刁难，久拖不办。"],
    "享乐主义": ["工作日中午饮酒，下午无法正常上班。", "以考察学习为名公款旅游。", "违规配备使用公车。",
               "超标准占用办公用房。", "在单位食堂违规吃喝，费用由公款支付。"],
    "奢靡之风": ["公款吃喝，一次花费上万元。", "违规操办婚丧喜庆事宜，借机敛财。", "逢年过节违规收送礼品礼金。",
               "用公款购买高档烟酒。", "出入私人会所，消费高档菜品和酒水。"],
}
HIDDEN = {
    "吃老板": ["多次接受辖区企业老板宴请，饭后由老板结账。", "到企业内部食堂吃喝，由企业买单。",
             "不吃公款吃老板，频繁接受施工方安排的吃请。"],
    "一桌餐": ["在农家乐后院的一桌餐包间内吃喝，饮用高档白酒。", "在隐蔽的私人会所吃一桌餐，费用由他人支付。",
             "躲进私人厨房吃一桌餐，逃避监督。"],
    "变通下账": ["将吃喝费用以会议费、培训费名义变通下账。", "把接待费拆分成办公用品采购发票报销{amount}。",
              "通过虚开维修发票的方式将宴请费用在单位列支。"],
    "电子红包": ["在微信群里收受下属和服务对象所发电子红包。", "逢年过节通过微信收受管理服务对象电子红包{amount}。",
              "通过支付宝转账收受企业人员所送红包。"],
    "分批异地操办酒席": ["为子女操办婚宴，分批在外地酒店宴请，收受礼金。", "父亲过寿时分三批异地操办酒席，邀请管理服务对象参加。",
                  "搬迁新居时分批宴请下属和企业老板。"],
    "私车公养": ["私家车加油费、维修费在单位报销。", "将私家车挂靠单位，油费、过路费由公款支付。",
             "私车保险费在下属单位报销{amount}。"],
}
SPECIAL = {
    "乡村振兴": ["在衔接资金项目中虚报冒领{amount}。", "产业帮扶项目资金被挪作他用。", "帮扶车间建成后长期闲置。",
             "帮扶责任人走访不实，帮扶台账弄虚作假。", "防返贫监测对象识别不准，优亲厚友。"],
    "安全生产": ["对辖区企业安全隐患检查走过场。", "收受企业好处后对违规生产不予处罚。", "非法小作坊长期生产无人监管，存在重大隐患。",
             "安全生产整治台账弄虚作假。"],
    "食品药品安全": ["对学校食堂食品安全监管不力。", "对无证经营的药店不查处，收受店主好处。", "食品抽检数据造假。",
               "对过期药品销售问题视而不见。"],
    "群众身边腐败": ["截留、挪用惠民惠农资金{amount}。", "村务不公开、账目不清，群众意见大。", "在{benefit}发放中吃拿卡要。"],
    "重大决策落实": ["对县委决策部署执行不力，重点项目推进缓慢。", "对重点工作敷衍应付，只表态不落实。"],
}
# Kind-specific misconduct, mixed into the category pools for schools, hospitals and state enterprises.
KIND_DEEDS = {
    "学校": {"廉洁纪律": ["向学生推销教辅资料，收取书商回扣。", "在学生营养餐采购中收受供货商好处。", "违规收取择校费、借读费{amount}。"],
           "群众纪律": ["违规组织有偿补课，变相强制学生参加。", "在贫困学生资助评定中优亲厚友。", "对家长反映的问题敷衍推诿。"],
           "工作纪律": ["长期在校外培训机构兼职授课。", "教学考核弄虚作假，编造学生成绩。"]},
    "医院": {"廉洁纪律": ["收受医药代表回扣{amount}。", "收受患者及家属所送红包。", "在医疗设备采购中指定品牌，收受好处。"],
           "群众纪律": ["过度检查、重复收费，加重患者负担。", "对患者态度生硬，推诿病人。", "违规收取床位费、诊疗费{amount}。"],
           "工作纪律": ["违规套取医保基金{amount}。", "值班期间擅离岗位，延误病人救治。"]},
    "国有企业": {"廉洁纪律": ["利用职权为亲属公司承揽业务{amount}。", "违规出借公司资金给关联企业。", "在工程分包中收受承包商好处费{amount}。"],
             "工作纪律": ["违规对外担保，造成国有资产流失风险。", "项目管理混乱，工程款超付{amount}。"]},
}
PROJECTS = {
    "住房城乡建设": ["老旧小区改造项目", "保障性住房工程", "城区排水管网改造工程", "市政道路工程"],
    "交通运输": ["农村公路建设项目", "道路养护工程", "客运站改造工程", "桥梁维修工程"],
    "水利": ["河道治理项目", "农田水利配套工程", "饮水安全巩固提升工程", "水库除险加固工程"],
    "自然资源": ["土地整治项目", "高标准农田建设项目", "矿山生态修复项目", "土地出让"],
    "农业农村": ["农业产业扶持项目", "高标准农田建设项目", "农机购置补贴", "人居环境整治项目"],
    "教育": ["学生营养餐采购", "校舍维修工程", "教学设备采购", "校服征订"],
    "卫生健康": ["医疗设备采购", "药品耗材采购", "病房楼改造工程", "信息化建设项目"],
    "乡镇": ["村级道路硬化工程", "人居环境整治项目", "村级活动场所建设", "小型水利设施维修"],
    "国资国企": ["安置房建设项目", "工程分包", "土地平整项目", "园区基础设施项目"],
}
DEFAULT_PROJECTS = ["办公楼维修工程", "信息化建设项目", "办公设备采购", "物业服务采购"]
BENEFITS = ["低保", "危房改造补助", "耕地地力保护补贴", "临时救助", "公益性岗位", "产业奖补", "医疗救助", "高龄津贴", "残疾人补贴"]
PII_SUFFIX_PHONE = ["（举报人电话：{phone}）", "联系电话{phone}。", "如需核实请拨打{phone}。", "举报人手机号：{phone}"]
PII_SUFFIX_REPORTED_PHONE = ["其手机号为{rphone}。", "其联系电话{rphone}。"]
PII_SUFFIX_ID = ["其身份证号为{rid}。", "（被反映人身份证号：{rid}）"]


def fill(templates: list[str], choice: np.ndarray, fills: dict[str, np.ndarray]) -> np.ndarray:
    """Render templates[choice[i]] for every row, substituting {slot}s column-wise from `fills`."""
    n = len(choice)
    out = np.full(n, "", dtype=object)
    for t, template in enumerate(templates):
        rows = np.flatnonzero(choice == t)
        if len(rows) == 0:
            continue
        parts = _SLOT.split(template)  # literal, slot, literal, slot, …
        acc = np.full(len(rows), parts[0], dtype=object)
        for i in range(1, len(parts), 2):
            acc = acc + fills[parts[i]][rows] + parts[i + 1]
        out[rows] = acc
    return out


def pick_from(rng, templates, n):
    return fill(templates, rng.integers(0, len(templates), n), {})


def amounts_text(rng: np.random.Generator, n: int) -> np.ndarray:
    wan = np.round(np.exp(rng.normal(np.log(3), 1.0, n)), 1)
    yuan = (np.round(np.exp(rng.normal(np.log(3000), 0.8, n)), -2)).astype(np.int64)
    r = rng.random(n)
    return np.where(r < 0.5, pd.Series(wan).astype(str).to_numpy(dtype=object) + "万元",
                    np.where(r < 0.85, pd.Series(yuan).astype(str).to_numpy(dtype=object) + "元", "数万元")).astype(object)


def projects_for(rng: np.random.Generator, sectors: np.ndarray) -> np.ndarray:
    out = np.empty(len(sectors), dtype=object)
    for s in np.unique(sectors):
        rows = np.flatnonzero(sectors == s)
        pool = PROJECTS.get(s, DEFAULT_PROJECTS)
        out[rows] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), len(rows))]
    return out


def petition_contents(df: pd.DataFrame, unit_names: np.ndarray, sectors: np.ndarray, pool: pd.DataFrame,
                      rng: np.random.Generator) -> np.ndarray:
    """Complaint texts. A reported person's name appears only when the row names that person; phone and ID
    numbers appear only as the row's petitioner phone or the reported person's own numbers."""
    n = len(df)
    person = df["person"].to_numpy()
    has_p = person >= 0
    safe = np.where(has_p, person, 0)
    rd = pd.DatetimeIndex(df["received_date"])
    year, month = rd.year.to_numpy(), rd.month.to_numpy()
    jan = month == 1
    fills = {
        "unit": unit_names, "post": np.where(has_p, pool["post"].to_numpy()[safe], ""),
        "name": np.where(has_p, pool["name"].to_numpy()[safe], ""),
        "yp": (year - 1).astype(str).astype(object),
        "yc": np.where(jan, year - 1, year).astype(str).astype(object),
        "mc": np.where(jan, rng.integers(1, 13, n), 1 + np.floor(rng.random(n) * np.maximum(month - 1, 1)).astype(int))
              .astype(str).astype(object),
        "amount": amounts_text(rng, n), "project": projects_for(rng, sectors),
        "benefit": np.asarray(BENEFITS, dtype=object)[rng.integers(0, len(BENEFITS), n)],
        "phone": df["petitioner_phone"].fillna("").to_numpy(dtype=object),
        "rphone": pool["phone"].to_numpy()[safe], "rid": pool["id_number"].to_numpy()[safe],
    }
    channel = df["channel"].to_numpy()
    opener = np.empty(n, dtype=object)
    for ch, pool_ in OPENERS.items():
        rows = np.flatnonzero(channel == ch)
        opener[rows] = np.asarray(pool_, dtype=object)[rng.integers(0, len(pool_), len(rows))]
    # Name the person in about a third of the rows that have one (and always in planted leader stories).
    story = df["story"].to_numpy()
    mention = has_p & ((rng.random(n) < 0.35) | ((story != "") & (rng.random(n) < 0.7)))
    subj_named = fill(SUBJECT_NAMED, rng.integers(0, len(SUBJECT_NAMED), n), fills)
    leader = has_p & pool["is_leader"].to_numpy()[safe]
    subj_post = fill(SUBJECT_POST, rng.integers(0, len(SUBJECT_POST) - leader.astype(int)), fills)
    subj_none = fill(SUBJECT_NONE, rng.integers(0, len(SUBJECT_NONE), n), fills)
    subject = np.where(mention, subj_named, np.where(has_p, subj_post, subj_none))
    time_ = fill(TIMES, rng.integers(0, len(TIMES), n), fills)

    # Main deed: hidden variant > 四风 > special area (half the time) > category.
    hv = df["hidden_variant"].to_numpy()
    fw = df["fourwinds"].to_numpy()
    sa = df["special_area"].to_numpy()
    cat = df["category"].to_numpy()
    r = rng.random(n)
    deed = np.empty(n, dtype=object)
    done = np.zeros(n, dtype=bool)
    for col, table, cond in ((hv, HIDDEN, np.ones(n, bool)), (fw, FOURWINDS, np.ones(n, bool)),
                             (sa, SPECIAL, r < 0.6), (cat, DEEDS, np.ones(n, bool))):
        for key, templates in table.items():
            rows = np.flatnonzero((col == key) & cond & ~done)
            if len(rows) == 0:
                continue
            sub = {k: v[rows] for k, v in fills.items()}
            deed[rows] = fill(templates, rng.integers(0, len(templates), len(rows)), sub)
            done[rows] = True
    kinds = df["_kind"].to_numpy() if "_kind" in df else np.full(n, "", dtype=object)
    own = (hv == None) & (fw == None) & (rng.random(n) < 0.6)  # noqa: E711
    for kind, table in KIND_DEEDS.items():
        for key, templates in table.items():
            rows = np.flatnonzero(own & (kinds == kind) & (cat == key))
            if len(rows):
                deed[rows] = fill(templates, rng.integers(0, len(templates), len(rows)), {k: v[rows] for k, v in fills.items()})
                done[rows] = True
    deed[~done] = fill(DEEDS["其他"], rng.integers(0, len(DEEDS["其他"]), (~done).sum()), {k: v[~done] for k, v in fills.items()})
    # A second, category-level sentence in some rows makes texts longer and more varied.
    extra = np.full(n, "", dtype=object)
    two = rng.random(n) < 0.35
    for key, templates in DEEDS.items():
        rows = np.flatnonzero(two & (cat == key))
        if len(rows):
            sub = {k: v[rows] for k, v in fills.items()}
            extra[rows] = "另外，" + fill(templates, rng.integers(0, len(templates), len(rows)), sub)
    extra[extra == "另外，" + deed] = ""
    closer = pick_from(rng, CLOSERS, n)
    pii = np.full(n, "", dtype=object)
    r = rng.random(n)
    with_phone = (fills["phone"] != "") & (r < 0.3)
    pii[with_phone] = fill(PII_SUFFIX_PHONE, rng.integers(0, len(PII_SUFFIX_PHONE), with_phone.sum()),
                           {"phone": fills["phone"][with_phone]})
    rp = has_p & (r >= 0.3) & (r < 0.33)
    pii[rp] = fill(PII_SUFFIX_REPORTED_PHONE, rng.integers(0, 2, rp.sum()), {"rphone": fills["rphone"][rp]})
    rid = has_p & (r >= 0.33) & (r < 0.355)
    pii[rid] = fill(PII_SUFFIX_ID, rng.integers(0, 2, rid.sum()), {"rid": fills["rid"][rid]})
    return opener + subject + time_ + deed + extra + closer + pii


INSPECTION_TEXT = {
    "党的领导": ["学习贯彻习近平新时代中国特色社会主义思想不够深入，“第一议题”制度落实不到位。",
              "落实县委关于{task}的决策部署不力，工作进展缓慢。", "意识形态工作责任制落实不到位，阵地管理存在漏洞。",
              "履行职能职责有偏差，{task}推进不力。", "贯彻新发展理念不到位，服务全县中心工作主动性不强。"],
    "全面从严治党": ["党组（党委）主体责任落实不力，对{area}廉政风险防控不到位。", "中央八项规定精神落实不严，违规发放津补贴。",
                "公务接待管理不规范，接待清单缺失。", "财务管理不规范，存在白条入账、大额现金支付。",
                "政府采购程序不规范，化整为零规避招标。", "“一岗双责”落实不到位，班子成员对分管领域监督缺位。",
                "公车管理使用不规范，存在公车私用。"],
    "组织建设": ["基层党组织建设薄弱，“三会一课”制度落实不到位。", "干部选拔任用程序不规范，动议环节把关不严。",
             "党员发展工作不规范，档案材料缺失。", "个人有关事项报告不如实，查核结果运用不到位。",
             "干部队伍年龄结构不合理，后备干部培养不足。", "编外人员管理混乱，存在“吃空饷”风险。"],
    "巡察整改": ["上轮巡察反馈问题整改不彻底，部分问题反弹回潮。", "整改台账不健全，整改销号把关不严。",
             "整改措施针对性不强，以会议落实会议、以文件落实文件。", "审计发现问题整改不到位。"],
    "其他": ["档案管理不规范，重要文件归档不及时。", "固定资产管理混乱，账实不符。", "安全生产隐患排查不彻底。",
           "合同管理不规范，部分合同未经法律审核。"],
}
INSPECTION_DETAIL = ["抽查{y}年会计凭证{k}份，发现{j}份手续不全。", "{y}年以来共有{j}项工作未按时完成。", "",
                     "涉及{j}个股室。", "个别班子成员带头落实不够。", "",
                     "{y}年召开党组会{k}次，研究党风廉政建设仅{j}次。"]
TASKS = ["乡村振兴", "安全生产", "优化营商环境", "环境整治", "重点项目建设", "防汛救灾", "民生实事", "招商引资"]
AREAS = ["工程项目", "资金管理", "行政审批", "执法检查", "物资采购", "人事管理"]


def inspection_texts(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    n = len(df)
    year = pd.DatetimeIndex(df["feedback_date"]).year.to_numpy()
    fills = {"task": np.asarray(TASKS, dtype=object)[rng.integers(0, len(TASKS), n)],
             "area": np.asarray(AREAS, dtype=object)[rng.integers(0, len(AREAS), n)],
             "y": (year - rng.integers(0, 2, n)).astype(str).astype(object),
             "k": rng.integers(30, 300, n).astype(str).astype(object), "j": rng.integers(2, 25, n).astype(str).astype(object)}
    cat = df["category"].to_numpy()
    main = np.empty(n, dtype=object)
    for key, templates in INSPECTION_TEXT.items():
        rows = np.flatnonzero(cat == key)
        if len(rows):
            main[rows] = fill(templates, rng.integers(0, len(templates), len(rows)), {k: v[rows] for k, v in fills.items()})
    detail = fill(INSPECTION_DETAIL, rng.integers(0, len(INSPECTION_DETAIL), n), fills)
    rec = df["is_recurrence"].to_numpy().astype(bool)
    return np.where(rec, "（屡查屡犯）", "") + main + detail


AUDIT_TEXT = {
    "违规使用资金": ["挤占挪用{fund}{amount}，用于弥补办公经费。", "超范围使用{fund}{amount}。", "将{fund}{amount}用于发放人员补助。"],
    "虚报冒领": ["虚报项目工程量，套取财政资金{amount}。", "虚列人员冒领补贴{amount}。", "重复申报项目，多领取补助资金{amount}。"],
    "损失浪费": ["购置设备后长期闲置，造成损失浪费{amount}。", "项目决策失误导致资金损失{amount}。", "工程超概算{amount}。"],
    "管理不规范": ["内部控制制度不健全，资金审批流程缺失。", "固定资产未及时登记入账{amount}。", "合同管理不规范，未履行审批程序。",
               "公务卡使用不规范，大额现金支付{amount}。"],
    "会计核算不规范": ["往来款项长期挂账未清理{amount}。", "会计科目使用不当，收支核算不准确。", "未按规定计提折旧，账实不符。"],
    "政府采购违规": ["化整为零规避政府采购{amount}。", "应公开招标而未公开招标，涉及金额{amount}。", "未按规定签订采购合同即支付款项{amount}。"],
    "其他": ["未按规定缴纳税费{amount}。", "非税收入未及时上缴{amount}。", "预算编制不细化，执行率偏低。"],
}
FUNDS = ["专项资金", "乡村振兴衔接资金", "项目资金", "财政补助资金", "上级转移支付资金", "医保基金", "教育经费"]


def audit_texts(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    n = len(df)
    amt = df["amount_yuan"].to_numpy(dtype=float)
    has = ~np.isnan(amt)
    wan = pd.Series(np.round(np.where(has, amt, 0) / 10000, 2)).map(lambda v: f"{v:g}").to_numpy(dtype=object)
    fills = {"amount": np.where(has, wan + "万元", ""),
             "fund": np.asarray(FUNDS, dtype=object)[rng.integers(0, len(FUNDS), n)]}
    t = df["finding_type"].to_numpy()
    out = np.empty(n, dtype=object)
    for key, templates in AUDIT_TEXT.items():
        rows = np.flatnonzero(t == key)
        if len(rows):
            out[rows] = fill(templates, rng.integers(0, len(templates), len(rows)), {k: v[rows] for k, v in fills.items()})
    return np.char.replace(out.astype(str), "涉及金额。", "。").astype(object)


DECISION_TEXT = {
    "重大决策": ["{y}年度部门预算编制方案", "{y}年工作要点", "关于调整内设机构职责的决定", "{y}年度绩效考核办法",
             "关于修订财务管理制度的决定", "党组（党委）工作规则修订", "关于开展{task}专项行动的实施方案",
             "{y}年度党风廉政建设责任分解", "关于{task}工作的实施意见", "{y}年度采购计划"],
    "重要干部任免": ["关于{k}名股级干部任免的决定", "推荐中层干部人选", "中层干部轮岗交流方案", "关于试用期满干部转正的决定",
               "下属单位负责人调整", "关于{k}名干部职级晋升的决定"],
    "重大项目安排": ["{project}立项", "{project}施工招标方案", "{project}设计变更", "{project}实施方案", "{project}竣工结算审核"],
    "大额资金使用": ["{fund}拨付", "支付{project}工程进度款", "{y}年度{fund}分配方案", "购置办公设备", "{project}预付款支付",
               "{task}工作经费安排"],
}


def decision_items(df: pd.DataFrame, sectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(df)
    year = pd.DatetimeIndex(df["decision_date"]).year.to_numpy()
    fills = {"y": year.astype(str).astype(object), "task": np.asarray(TASKS, dtype=object)[rng.integers(0, len(TASKS), n)],
             "k": rng.integers(2, 9, n).astype(str).astype(object), "project": projects_for(rng, sectors),
             "fund": np.asarray(FUNDS, dtype=object)[rng.integers(0, len(FUNDS), n)]}
    t = df["item_type"].to_numpy()
    out = np.empty(n, dtype=object)
    for key, templates in DECISION_TEXT.items():
        rows = np.flatnonzero(t == key)
        if len(rows):
            out[rows] = fill(templates, rng.integers(0, len(templates), len(rows)), {k: v[rows] for k, v in fills.items()})
    return out
