"""The report's Chinese text: titles, section headings and sentence templates, in one place.

Templates are str.format strings; compose.py fills them from the facts. Edit the wording here; the
numbers come from the warehouse and are never typed into a template.
"""

from __future__ import annotations

import math

from pipelines import vocabulary

CAVEAT = "评分仅提示需关注的风险，不代表存在违纪违法问题。"
CAVEAT_LONG = (CAVEAT + "指数由台账数据按统一口径计算，反映的是需要进一步了解、核实的风险信号；"
               "对任何单位和个人的定性，须以调查核实结果为准。")

TITLE = "{scope}政治生态分析研判报告"
SUBTITLE = "（{period_zh}）"
SCOPE_COUNTY = "全县驻在单位"
SCOPE_TEAM = "{team}驻在单位"
STAMP = [
    ("报告期间", "{period_zh}（{grain_zh}，{start} 至 {end}）"),
    ("评估范围", "{scope}，共{units}个单位"),
    ("数据批次", "构建编号 {build_id}，构建时间 {built_at}"),
    ("指标体系", "版本 {catalogue_version}（{indicators}项计分指标，{dimensions}个维度）"),
    ("生成时间", "{generated_at}"),
    ("密级提示", "内部资料，注意保密；报告不含个人姓名及个人标识"),
]

SECTIONS = {
    "overview": "一、总体情况",
    "dimensions": "二、分维度分析",
    "focus": "三、重点关注单位",
    "trend": "四、趋势与风险变化",
    "special": "五、专项监督",
    "fourwinds": "六、“四风”及隐形变异问题",
    "rectification": "七、整改落实情况",
    "clearance": "八、澄清正名与回访",
    "problems": "九、问题与建议",
    "method": "十、方法说明与不确定性",
}

# ---- 一、总体情况 ----------------------------------------------------------------------------
OVERVIEW = "本期纳入评估的单位{units}个，政治生态风险综合指数平均{mean}分（中位数{median}分），{versus}。"
GRADES_LINE = "等级分布：红色{红}个、橙色{橙}个、黄色{黄}个、绿色{绿}个{grade_change}。"
GRADE_CHANGE = "；与上期相比，红色、橙色单位合计{direction}"
WARNINGS_LINE = ("本期触发预警{total}项（红色{红}项、橙色{橙}项、黄色{黄}项），其中新增{new}项、持续{persist}项，"
                 "涉及{units}个单位；风险上升单位{rising}个。")
NO_WARNINGS = "本期未触发预警。"
VS_PREV = "较上期（{period}）{change}"
VS_YOY = "较上年同期（{period}）{change}"
NO_PREV = "上期无可比数据"
NO_YOY = "无上年同期数据"
GRADE_TABLE = ("等级", "本期", "上期", "上年同期")
TOP_TABLE_CAPTION = "综合指数居前的单位（名次区间为方法不确定性下的第5–95百分位名次）"
TOP_TABLE = ("名次", "单位", "领域", "指数", "等级", "名次区间", "环比", "主要风险来源")
FIG_TREND = "图{n}　各期等级分布与综合指数均值"
TOP_N = 10

# ---- 二、分维度分析 --------------------------------------------------------------------------
DIMENSION_HEAD = "（{n}）{name}（权重{weight}）"
DIMENSION_LINE = "本维度平均{mean}分，{vs_prev}。{top}{drivers}"
DIMENSION_TOP = "得分较高的单位：{units}。"
DIMENSION_FLAT = "各单位得分相同（{score}分），本期本维度无区分度，研判时不作依据。"
DIMENSION_EMPTY = "本期各单位本维度得分均为0。"
DIMENSION_DRIVERS = "主要驱动指标：{items}。"
DRIVER_ITEM = "{name}（{flagged}）"
DRIVER_FLAGGED = "{n}个单位触发预警"
DRIVER_UNFLAGGED = "未触发预警"
FIG_HEATMAP = "图{n}　重点单位分维度得分（0–100，越高风险越大）"

# ---- 三、重点关注单位 ------------------------------------------------------------------------
FOCUS_INTRO = ("本期评定为红色、橙色的单位{n}个（红色{red}个、橙色{orange}个），逐一列示画像摘要、主要风险来源、"
               "预警及其依据的台账记录数量。名次区间反映方法选择带来的不确定性，区间较宽的，排名仅作参考。")
FOCUS_NONE = "本期无红色、橙色单位。"
FOCUS_HEAD = "{n}. {unit}（{grade}色，第{rank}名{interval}）"
FOCUS_INTERVAL = "，区间第{lo}–{hi}名"
FOCUS_DRIVERS_CAPTION = "主要风险来源"
FOCUS_DRIVERS = ("指标", "本期数值", "全县百分位", "对指数的贡献", "是否预警")
FOCUS_WARNINGS = "预警明细（{total}项，{grades}）：{items}"
FOCUS_WARNING_ITEM = "{indicator}（{grade}，{status}）"
FOCUS_NO_WARNINGS = "本期未触发预警，等级主要由多项指标的综合偏高所致。"
FOCUS_EVIDENCE = "预警依据的台账记录共{total}条（{parts}）"
FOCUS_EVIDENCE_NONE = "预警无逐条台账依据（阈值类指标，如整改率、检查得分）"
FOCUS_ACTIVITY = "；本期该单位各类台账记录{total}条（{parts}）。"
FOCUS_ACTIVITY_NONE = "；本期该单位无新增台账记录。"
FOCUS_SUGGESTION = "建议：结合日常监督掌握的情况，对上述预警所依据的记录逐条核实，必要时开展谈话提醒或专项检查。"
LEDGER_ZH = vocabulary.words("ledger_short")

# ---- 四、趋势与风险变化 ----------------------------------------------------------------------
# The rule pipelines/analysis/scoring.py applies, word for word: both conditions of the 环比 branch.
RISING_RULE = "环比上升{delta}分及以上且上期也在上升，或同比上升{delta_yoy}分及以上"
RISERS_INTRO = ("{rule}的，标记为风险上升单位，本期{rising}个。综合指数环比上升居前的单位如下"
                "（环比、同比变化只舍不入，保留一位小数）。")
RISERS_NONE = "本期无综合指数环比上升的单位。"
RISERS_TABLE = ("单位", "领域", "指数", "环比", "同比", "等级", "名次", "风险上升")
GRADE_MOVES = "等级较上期升高的单位{n}个：{items}。"
GRADE_MOVE_ITEM = "{unit}（{prev}→{now}）"
GRADE_MOVES_NONE = "本期无等级较上期升高的单位。"
FALLERS = "环比下降较多的单位：{items}，其风险信号有所缓解，仍应持续关注整改成效。"
FIG_INTERVALS = "图{n}　综合指数居前单位的名次及不确定性区间"

# ---- 五、专项监督 --------------------------------------------------------------------------
SPECIAL_INTRO = ("围绕乡村振兴、安全生产、食品药品安全等专项监督领域，本期共收到相关信访举报{total}件，涉及{units}个单位；"
                 "其中属实或部分属实{substantiated}件、不属实或查无实据{unfounded}件、尚未办结{open}件。"
                 "未查否的反映计入专项监督风险指标。")
SPECIAL_NONE = "本期未收到乡村振兴、安全生产、食品药品安全等专项领域的信访举报。"
SPECIAL_TABLE = ("领域", "信访举报（件）", "属实或部分属实", "不属实或查无实据", "尚未办结", "计入风险指标", "涉及单位")
SPECIAL_FOCUS_MISSING = "{areas}领域本期未收到信访举报。"
SPECIAL_WARNED = "专项监督指标触发预警的单位：{items}。"
SPECIAL_WARNED_ITEM = "{name}——{units}"
SPECIAL_UNWARNED = "专项监督领域各项指标本期均未触发预警。"
WARNED_UNITS = "，{n}个单位触发预警（{units}）"

# ---- 六、四风 ------------------------------------------------------------------------------
FOURWINDS_LINE = "本期{source}涉及“四风”问题{total}件（{types}）。"
FOURWINDS_NONE = "本期信访举报和执纪处理中未见“四风”问题。"
HIDDEN_LINE = "其中隐形变异问题{total}件：{types}。"
HIDDEN_NONE = "本期未发现“吃老板”“一桌餐”、电子红包、私车公养等隐形变异问题。"
STYLE_INDICATOR = "{name}：{warned_text}。"
STYLE_UNWARNED = "无单位触发预警"

# ---- 七、整改落实 --------------------------------------------------------------------------
RECT_INSPECTION = ("巡察反馈问题：截至期末到期{due}个，已完成整改（含长期坚持）{done}个，整改完成率{rate}；"
                   "逾期未整改{overdue}个，涉及{overdue_units}个单位；近三年屡查屡犯问题{recurring}个。")
RECT_AUDIT = ("审计发现问题：纳入统计{due}个，已整改{done}个，整改率{rate}；审计移送问题线索{clues}条。")
RECT_WARNED = "整改方面触发预警的单位：{items}。"
RECT_WARNED_ITEM = "{name}——{units}"
RECT_NONE = "本期无整改方面的预警。"
RECT_ADVICE = "对逾期未整改、屡查屡犯的问题，建议纳入巡察整改重点督查，压实整改责任，必要时开展整改落实情况量化评估。"

# ---- 八、澄清正名与回访 -----------------------------------------------------------------------
CLEAR_LINE = "本期经查实为诬告陷害或不实反映、已为干部澄清正名{n}件，涉及{units}个单位。"
CLEAR_NONE = "本期无澄清正名的事项。"
FOLLOWUP_LINE = "本期办结的第二、三种形态处理{den}人次，已开展回访{num}人次，回访率{rate}。"
FOLLOWUP_NONE = "本期无需回访的第二、三种形态处理。"
CLEAR_NOTE = "澄清正名和回访为情况参考项，不计入风险指数；研判时应将查实不实的反映从信访量中剔除。"

# ---- 九、问题与建议 ------------------------------------------------------------------------
PROBLEMS_HEAD = "（一）主要问题"
ADVICE_HEAD = "（二）工作建议"
PROBLEMS_NONE = "本期未发现需要专门提示的问题。"
PROBLEM_GRADES = "风险等级：红色单位{red}个（{red_units}），橙色单位{orange}个{change}。"
PROBLEM_GRADES_CHANGE = "，红色、橙色单位合计较上期{direction}"
PROBLEM_DIMENSION = "{dimension}方面：本期预警{warnings}项，涉及{units}个单位，集中在{items}。"
PROBLEM_DIMENSION_ITEM = "{indicator}（{units}个单位）"
PROBLEM_RISING = "风险上升：{rising}个单位被标记为风险上升{rising_units}，{moves}个单位等级较上期升高。"
PROBLEM_RECTIFICATION = "整改落实：逾期未整改问题{overdue}个，涉及{overdue_units}个单位；近三年屡查屡犯问题{recurring}个。"
PROBLEM_RECTIFICATION_MORE = "逾期未整改问题{overdue}个，涉及{overdue_units}个单位；近三年屡查屡犯问题{recurring}个。"
ADVICE_GRADES = "对{units}等红色单位逐一开展专题研判，结合日常监督核实预警所依据的记录，必要时开展专项检查。"
# One suggestion per dimension of the catalogue (data/indicators.yaml ids), from the duties of the work plan.
ADVICE_DIMENSION = {
    "petitions": "加强信访举报分析，对反映集中、重复举报的问题线索优先处置，做到件件有着落。",
    "key_few": "盯住“关键少数”，对相关单位一把手和班子成员开展提醒谈话，加大谈话函询和抽查核实力度。",
    "discipline": "贯通运用监督执纪“四种形态”，对涉案单位做好以案促改、以案治本的“后半篇文章”。",
    "supervision": "提高直接谈话比例和函询回复抽查核实比例，对不如实说明问题的严肃处理。",
    "style": "持续纠治“四风”，密切关注“吃老板”“一桌餐”、电子红包等隐形变异问题，对顶风违纪问题深挖细查。",
    "rectification": "对逾期未整改问题逐项督办销号，对屡查屡犯问题追究相关责任，开展整改落实情况量化评估。",
    "governance": "督促相关单位党委（党组）落实主体责任，严格执行“三重一大”集体决策和报备制度。",
    "special": "聚焦乡村振兴、安全生产、食品药品安全和群众身边腐败问题，开展专项监督检查。",
}
ADVICE_DIMENSION_OTHER = "围绕{dimension}方面的预警，督促相关单位查找原因、落实整改。"
ADVICE_RISING = "对风险上升和等级升高的单位开展提醒谈话，跟踪下一期指数变化。"
ADVICE_RECTIFICATION = "对逾期未整改问题逐项督办销号，对屡查屡犯问题追究相关责任。"
PROBLEM_TOP_DIMENSIONS = 3  # dimensions listed, by units warned

# ---- 十、方法说明与不确定性 -------------------------------------------------------------------
METHOD_LINES = [
    "综合指数按“指标—维度—综合”三级结构计算：{indicators}项计分指标归入{dimensions}个维度，"
    "指标经{normalise}后（方向统一为数值越高风险越大，0–100分），维度内按指标权重{aggregate}，"
    "维度间按维度权重{aggregate}。",
    "标准化以本粒度各期全部单位为基准（{basis}），各期得分可以直接比较；缺失值按{impute}处理，"
    "样本量不足的指标不计值。",
    "等级划分：{grades}。风险上升：{rising_rule}。",
    "不确定性分析：蒙特卡洛模拟{draws}次，同时扰动指标权重（±{noise}）、标准化方法（{norms}）、"
    "汇总方法（{aggs}）及剔除单项指标，得到各单位名次的第5–95百分位区间。",
]
NORMALISE_ZH = vocabulary.words("normalise")
AGGREGATE_ZH = vocabulary.words("aggregate")
IMPUTE_ZH = vocabulary.words("impute")
BASIS_ZH = vocabulary.words("normalisation_basis")
SENS_INTRO = "名次方差来源（一阶效应/总效应占比）：{items}。"
SENS_ITEM = "{name}{first}/{total}"
SENS_NONE = "本期未做蒙特卡洛不确定性分析（仅对各粒度最新一期计算），名次区间从略。"
SENS_READING = "占比越高，说明该项方法选择对排名影响越大；{top}影响最大，解读排名时应结合名次区间。"
LOO_LINE = "对排名影响最大的单项指标（剔除后名次平均变动）：{items}。"
LOO_ITEM = "{name}（平均{mean}位，最多{max}位）"
ALPHA_INTRO = "各维度内部一致性（Cronbach's α）：{items}。"
ALPHA_ITEM = "{name}{alpha}"
ALPHA_NOTE = ("本指标体系为形成性指标（各指标分别提示不同风险），α偏低属预期；α为负或大于1的维度（{dims}）"
              "说明本期该维度数据稀少或各单位取值相同，其得分应谨慎解读。")
ALPHA_NOTE_OK = "本指标体系为形成性指标（各指标分别提示不同风险），α偏低属预期，不影响综合指数的使用。"
DATA_LINE = "本期纳入计算的台账记录：{items}；导入时因格式或内容问题被拒收的行全库共{rejected}行（见数据质量页），未纳入计算。"
DATA_ITEM = "{kind}{records}条"
BUILD_LINE = "构建编号 {build_id}；指标体系版本 {catalogue_version}（SHA-256 {sha}）；全部方法设置随构建记录保存，可复现。"
CHART_NO_FONT = "（未找到中文字体，图表从略；安装 fonts-noto-cjk 后重新生成即可显示。）"

# ---- 附录：指标口径 ---------------------------------------------------------------------------
DEFINITIONS_HEAD = "附录：指标口径与预警规则"
DEFINITIONS_INTRO = ("各项指标按以下口径由台账计算，预警规则中的“全县”指同一期间的全部驻在单位。"
                     "口径和规则保存在指标目录文件中，调整后重新计算即可。")
DEFINITIONS_TABLE = ("维度", "指标", "口径", "预警规则")

GRADE_SUFFIX = {"红": "红色", "橙": "橙色", "黄": "黄色", "绿": "绿色"}
YES, NO, DASH = "是", "", "—"


def num(v, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return f"{v:.{digits}f}"


def pct(v, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return f"{v * 100:.{digits}f}%"


truncated = vocabulary.cut_tenth  # changes are cut to 0.1, never rounded up to a rule they did not reach


def change(delta, unit: str = "分") -> str:
    """上升1.2分 / 下降0.8分 / 基本持平 (cut to 0.1, see truncated)."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return DASH
    t = truncated(float(delta))
    if t == 0:
        return "基本持平"
    return f"{'上升' if t > 0 else '下降'}{abs(t):.1f}{unit}"


def signed(delta) -> str:
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return DASH
    t = truncated(float(delta))
    return "0.0" if t == 0 else f"{t:+.1f}"


def count_change(delta: int) -> str:
    if delta == 0:
        return "持平"
    return f"{'增加' if delta > 0 else '减少'}{abs(delta)}个"


def join(items, sep: str = "、") -> str:
    return sep.join(str(i) for i in items)
