"""Facts + wording → the report as a Document (see document.py), section by section."""

from __future__ import annotations

import json
import logging

import pandas as pd

from pipelines import vocabulary
from pipelines.analysis import grading
from pipelines.board.periods import grain_zh, period_zh
from pipelines.reports import charts
from pipelines.reports import wording as W
from pipelines.reports.document import Document, Figure, Heading, Para, Table
from pipelines.reports.facts import Facts

HEATMAP_MAX_UNITS = 16


class _Figures:
    """Numbers figures in order; without a CJK font, leaves them out (once noted) instead of drawing boxes."""

    def __init__(self, enabled: bool):
        self.wanted = enabled
        self.enabled = enabled and charts.cjk_font() is not None
        self.n = 0
        self.noted = False

    def add(self, doc: Document, make, caption: str) -> None:
        if not self.enabled:
            if self.wanted and not self.noted:  # asked for charts but no font: say why they are missing
                doc.add(Para(W.CHART_NO_FONT, "note"))
                self.noted = True
            return
        self.n += 1
        with _quiet_fonts():
            fig = make()
            doc.add(Figure(charts.png(fig), caption.format(n=self.n)))


class _quiet_fonts:
    """matplotlib logs every font it considers; the report's output should stay one line."""

    def __enter__(self):
        self.logger = logging.getLogger("matplotlib.font_manager")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)


def compose(f: Facts, *, figures: bool = True) -> Document:
    scope = W.SCOPE_TEAM.format(team=f.team) if f.team else W.SCOPE_COUNTY
    start, end = _window(f)
    n_ind = int((~f.catalogue.context.astype(bool) & (f.catalogue.weight > 0)).sum())
    stamp_values = {
        "period_zh": period_zh(f.period), "grain_zh": grain_zh(f.grain), "start": start, "end": end, "scope": scope,
        "units": f.units, "build_id": f.build["build_id"], "built_at": f"{f.build['built_at']:%Y-%m-%d %H:%M:%S}",
        "catalogue_version": f.build.get("catalogue_version", ""), "indicators": n_ind,
        "dimensions": len(f.dimensions), "generated_at": f"{f.generated_at:%Y-%m-%d %H:%M:%S}",
    }
    doc = Document(
        title=W.TITLE.format(scope=scope),
        subtitle=W.SUBTITLE.format(period_zh=period_zh(f.period)),
        stamp=[(k, v.format(**stamp_values)) for k, v in W.STAMP],
        footer=f"{W.CAVEAT}构建 {f.build['build_id']}",
    )
    doc.add(Para(W.CAVEAT_LONG, "caveat"))
    figs = _Figures(figures)
    _overview(doc, f, figs)
    _dimensions(doc, f, figs)
    _focus(doc, f)
    _trend(doc, f, figs)
    _special(doc, f)
    _fourwinds(doc, f)
    _rectification(doc, f)
    _clearance(doc, f)
    _problems(doc, f)
    _method(doc, f)
    _learned(doc, f)
    _definitions(doc, f)
    return doc


def _definitions(doc: Document, f: Facts) -> None:
    """附录：every indicator's 口径 in words and its warning rule, dimension by dimension, as the catalogue has them."""
    cat = f.catalogue
    if cat.empty or "definition_zh" not in cat:
        return
    doc.add(Heading(W.DEFINITIONS_HEAD))
    doc.add(Para(W.DEFINITIONS_INTRO))
    order = {d.dimension: i for i, d in enumerate(f.dimensions)}  # as in 二、分维度分析; context dimensions last
    cat = cat.assign(_o=cat.dimension.map(order).fillna(len(order))).sort_values(["_o", "dimension"], kind="stable")
    rows = []
    for r in cat.itertuples():
        rule = r.threshold_rule if isinstance(r.threshold_rule, str) and r.threshold_rule else (
            vocabulary.word("threshold_rule", "context" if bool(r.context) else "none"))
        rows.append([r.dimension_zh, r.name_zh, r.definition_zh or W.DASH, rule])
    doc.add(Table(list(W.DEFINITIONS_TABLE), rows, widths=[1.5, 2.6, 6.6, 4.6]))


def _learned(doc: Document, f: Facts) -> None:
    """十、模型信号 (types and 异常模式 of the period) and the appendix: indicators checked against outcomes."""
    L = f.learned
    if not L:
        return
    t = lambda key, **kw: vocabulary.template("learning_report", key, **kw)  # noqa: E731
    doc.add(Heading(vocabulary.word("learning_report", "section")))
    m = L["typology"]
    if m is None or L["types"].empty:
        doc.add(Para(t("typology_none")))
    else:
        groups = L["types"].groupby("type_name", sort=False).unit_name.agg(list)
        doc.add(Para(t("typology_intro", k=m["k"], criterion=m["criterion"], silhouette=W.num(m["silhouette"], 2),
                       stability=W.num(m["stability"], 2))
                     + W.join(t("typology_item", name=name, n=len(units), units=W.join(units[:6]) + ("等" if len(units) > 6 else ""))
                              for name, units in groups.sort_values(key=lambda s: -s.map(len)).items()) + "。"))
    an = L["anomalies"]
    if an.empty:
        doc.add(Para(t("anomaly_none")))
    else:
        items = []
        for r in an.itertuples():
            drivers = W.join(vocabulary.template("learning_text", "anomaly_high" if d["z"] > 0 else "anomaly_low",
                                                 name=d["name_zh"]) for d in json.loads(r.drivers or "[]"))
            items.append(t("anomaly_item", unit=r.unit_name, score=W.num(r.score, 2), drivers=drivers))
        doc.add(Para(t("anomaly_intro", n=len(an)) + W.join(items) + "。"))
    doc.add(Para(t("signal_caveat"), "note"))

    doc.add(Heading(vocabulary.word("learning_report", "appendix")))
    v = L["validation"]
    if v.empty:
        doc.add(Para(t("validation_missing")))
        return
    ind = v[v.kind == "indicator"]
    row = {r.predictor: r for r in v.itertuples()}
    idx, dw = row.get("index"), row.get("data_weighted")
    doc.add(Para(t("validation_intro", grain=grain_zh(L["validation_grain"]), n=int(idx.n) if idx else 0,
                   positives=int(idx.positives) if idx else 0)
                 + t("validation_summary", auc=W.num(idx.auc, 3) if idx else W.DASH,
                     test=W.num(idx.test_auc, 3) if idx else W.DASH, data_test=W.num(dw.test_auc, 3) if dw else W.DASH,
                     good=int((ind.verdict == "predictive").sum()), none=int((ind.verdict == "none").sum()),
                     reversed=int((ind.verdict == "reversed").sum()), small=int((ind.verdict == "small_sample").sum()))))
    silent = ind[ind.verdict == "none"]
    if len(silent):
        doc.add(Para(t("validation_none_list", items=W.join(silent.name_zh)), "note"))
    doc.add(Table(vocabulary.word("learning_report", "validation_table").split("|"), [
        [r.name_zh, vocabulary.word("validation_kind", r.kind), W.num(r.auc, 3), f"{W.num(r.auc_low, 2)}–{W.num(r.auc_high, 2)}",
         W.num(r.test_auc, 3), W.num(r.expert_weight, 3), W.num(r.data_weight, 3), vocabulary.word("validation_verdict", r.verdict)]
        for r in v.itertuples()]))


def _window(f: Facts) -> tuple[str, str]:
    from datetime import timedelta

    from pipelines.reports.source import window

    s, e = window(f.period)
    return s.isoformat(), (e - timedelta(days=1)).isoformat()


# ---- 一、总体情况 ----------------------------------------------------------------------------

def _overview(doc: Document, f: Facts, figs: _Figures) -> None:
    doc.add(Heading(W.SECTIONS["overview"]))
    trend = f.trend.set_index("period")
    mean = f.headline["mean_score"]
    median = float(f.index.score.median()) if len(f.index) else float("nan")

    def versus(template: str, period: str | None, missing: str) -> str:
        if period is None or period not in trend.index:
            return missing
        return template.format(period=period_zh(period), change=W.change(mean - trend.loc[period, "mean_score"]))

    comparisons = [versus(W.VS_PREV, f.prev, W.NO_PREV)]
    if f.grain != "year":  # a year's previous period is the same period a year before
        comparisons.append(versus(W.VS_YOY, f.yoy, W.NO_YOY))
    doc.add(Para(W.OVERVIEW.format(units=f.units, mean=W.num(mean), median=W.num(median),
                                   versus="，".join(comparisons))))
    gc = f.grade_counts.set_index("grade")
    grade_change = ""
    if gc.prev.notna().all():
        delta = int(gc.loc[["红", "橙"], "now"].sum() - gc.loc[["红", "橙"], "prev"].sum())
        grade_change = W.GRADE_CHANGE.format(direction=W.count_change(delta))
    doc.add(Para(W.GRADES_LINE.format(**f.headline["grades"], grade_change=grade_change)))
    w = f.warnings
    if len(w):
        by = w.grade.value_counts()
        doc.add(Para(W.WARNINGS_LINE.format(total=len(w), 红=int(by.get("红", 0)), 橙=int(by.get("橙", 0)),
                                            黄=int(by.get("黄", 0)), new=int((w.status == "新增").sum()),
                                            persist=int((w.status == "持续").sum()), units=w.unit_name.nunique(),
                                            rising=f.headline["rising"])))
    else:
        doc.add(Para(W.NO_WARNINGS))
    doc.add(Table(list(W.GRADE_TABLE),
                  [[g, _int(r.now), _int(r.prev), _int(r.yoy)] for g, r in gc.iterrows()], widths=[1, 1, 1, 1]))
    if len(f.trend) > 1:
        figs.add(doc, lambda: charts.grade_trend(f.trend, f.period), W.FIG_TREND)
    top = f.index.head(W.TOP_N)
    doc.add(Table(list(W.TOP_TABLE), [
        [_int(r.rank), r.unit_name, r.sector, W.num(r.score), r.grade_shown, _interval(r.rank_p05, r.rank_p95),
         W.signed(r.change_prev), W.join(r.drivers)] for r in top.itertuples()],
        caption=W.TOP_TABLE_CAPTION, widths=[0.8, 3.2, 1.3, 0.9, 0.8, 1.2, 0.9, 4.5]))


# ---- 二、分维度分析 --------------------------------------------------------------------------

def _dimensions(doc: Document, f: Facts, figs: _Figures) -> None:
    doc.add(Heading(W.SECTIONS["dimensions"]))
    for n, d in enumerate(f.dimensions, start=1):
        doc.add(Heading(W.DIMENSION_HEAD.format(n=_cn(n), name=d.name_zh, weight=W.num(d.weight, 1)), 2))
        vs = (W.VS_PREV.format(period=period_zh(f.prev), change=W.change(d.mean - d.mean_prev))
              if d.mean_prev is not None and f.prev else W.NO_PREV)
        scores = f.grid[f.grid.level == d.dimension].score
        flat = bool(scores.notna().any() and scores.max() - scores.min() < 1e-9)
        if flat:
            top = W.DIMENSION_FLAT.format(score=W.num(scores.max()))
        elif d.top_units.empty:
            top = W.DIMENSION_EMPTY
        else:
            top = W.DIMENSION_TOP.format(units=W.join(
                f"{u.unit_name}（{W.num(u.score)}分）" for u in d.top_units.itertuples()))
        drivers = ""
        if len(d.drivers) and not flat:
            drivers = W.DIMENSION_DRIVERS.format(items=W.join(
                W.DRIVER_ITEM.format(name=x.name_zh, flagged=W.DRIVER_FLAGGED.format(n=x.flagged) if x.flagged
                                     else W.DRIVER_UNFLAGGED) for x in d.drivers.itertuples()))
        doc.add(Para(W.DIMENSION_LINE.format(mean=W.num(d.mean), vs_prev=vs, top=top, drivers=drivers)))
    units = _heatmap_units(f)
    if units:
        figs.add(doc, lambda: charts.heatmap(f.grid, units), W.FIG_HEATMAP)


def _heatmap_units(f: Facts) -> list[str]:
    """The 红/橙 units, topped up with the next riskiest to at least 8, at most HEATMAP_MAX_UNITS."""
    idx = f.index.dropna(subset=["score"])
    focus = idx[idx.grade.isin(["红", "橙"])]
    n = min(max(len(focus), 8), HEATMAP_MAX_UNITS)
    return list(idx.unit_name.head(n))


# ---- 三、重点关注单位 ------------------------------------------------------------------------

def _focus(doc: Document, f: Facts) -> None:
    doc.add(Heading(W.SECTIONS["focus"]))
    if not f.focus:
        doc.add(Para(W.FOCUS_NONE))
        return
    red = sum(u.grade == "红" for u in f.focus)
    doc.add(Para(W.FOCUS_INTRO.format(n=len(f.focus), red=red, orange=len(f.focus) - red)))
    for n, u in enumerate(f.focus, start=1):
        interval = ""
        if u.rank_p05 is not None and u.rank_p95 is not None:
            interval = W.FOCUS_INTERVAL.format(lo=f"{u.rank_p05:.0f}", hi=f"{u.rank_p95:.0f}")
        doc.add(Heading(W.FOCUS_HEAD.format(n=n, unit=u.unit_name, grade=u.grade, rank=u.rank, interval=interval), 2))
        if u.summary:
            doc.add(Para(u.summary))
        if u.drivers:
            doc.add(Table(list(W.FOCUS_DRIVERS), [
                [x["name_zh"] + ("" if x.get("status") == "ok" else f"（{_status_zh(x.get('status'))}）"),
                 x.get("shown") or W.DASH, W.num(x.get("percentile"), 0), W.num(x.get("contribution"), 2),
                 W.YES if x.get("flagged") else W.NO] for x in u.drivers],
                caption=W.FOCUS_DRIVERS_CAPTION, widths=[4, 1.6, 1.4, 1.4, 1]))
        if len(u.warnings):
            by = u.warnings.grade.value_counts()
            grades = W.join(f"{g}{int(by[g])}" for g in ("红", "橙", "黄") if g in by)
            items = W.join(W.FOCUS_WARNING_ITEM.format(indicator=w.indicator_zh, grade=w.grade, status=w.status)
                           for w in u.warnings.itertuples())
            text = W.FOCUS_WARNINGS.format(total=len(u.warnings), grades=grades, items=items) + "。"
        else:
            text = W.FOCUS_NO_WARNINGS
        evidence = (W.FOCUS_EVIDENCE.format(total=u.evidence_total, parts=_parts(u.evidence, W.LEDGER_ZH, "条"))
                    if u.evidence_total else W.FOCUS_EVIDENCE_NONE if len(u.warnings) else "")
        activity = (W.FOCUS_ACTIVITY.format(total=sum(u.activity.values()), parts=_parts(u.activity, {}, "条"))
                    if u.activity else W.FOCUS_ACTIVITY_NONE)
        doc.add(Para(text + (evidence + activity if evidence else activity.lstrip("；"))))
    doc.add(Para(W.FOCUS_SUGGESTION, "note"))


def _parts(counts: dict[str, int], names: dict[str, str], unit: str) -> str:
    return W.join(f"{names.get(k, k)}{v}{unit}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _status_zh(status: str | None) -> str:
    return vocabulary.word("value_status", status)


# ---- 四、趋势与风险变化 ----------------------------------------------------------------------

def _trend(doc: Document, f: Facts, figs: _Figures) -> None:
    doc.add(Heading(W.SECTIONS["trend"]))
    doc.add(Para(W.RISERS_INTRO.format(rule=_rising_rule(f), rising=f.headline["rising"])))
    if len(f.risers):
        doc.add(Table(list(W.RISERS_TABLE), [
            [r.unit_name, r.sector, W.num(r.score), W.signed(r.change_prev), W.signed(r.change_yoy), r.grade_shown,
             _int(r.rank), W.YES if r.rising else W.NO] for r in f.risers.itertuples()],
            widths=[3.4, 1.4, 1, 1, 1, 0.8, 0.8, 1]))
    else:
        doc.add(Para(W.RISERS_NONE))
    if f.prev:
        doc.add(Para(W.GRADE_MOVES.format(n=len(f.grade_moves), items=W.join(
            W.GRADE_MOVE_ITEM.format(unit=m.unit_name, prev=m.grade_prev, now=m.grade) for m in f.grade_moves.itertuples()))
            if len(f.grade_moves) else W.GRADE_MOVES_NONE))
    if len(f.fallers):
        doc.add(Para(W.FALLERS.format(items=W.join(f"{r.unit_name}（{W.signed(r.change_prev)}）"
                                                   for r in f.fallers.itertuples()))))
    if f.index.rank_p05.notna().any():
        figs.add(doc, lambda: charts.rank_intervals(f.index, n=min(20, len(f.index))), W.FIG_INTERVALS)


# ---- 五、专项监督 --------------------------------------------------------------------------

def _special(doc: Document, f: Facts) -> None:
    """One table of the period's special-area petitions; every sentence quotes its rows or total."""
    doc.add(Heading(W.SECTIONS["special"]))
    a, t = f.special_areas, f.special_total
    if len(a):
        doc.add(Para(W.SPECIAL_INTRO.format(total=t["petitions"], units=t["units"], substantiated=t["substantiated"],
                                            unfounded=t["unfounded"], open=t["open"])))
        doc.add(Table(list(W.SPECIAL_TABLE), [[r.area, str(r.petitions), str(r.substantiated), str(r.unfounded),
                                               str(r.open), str(r.credible), str(r.units)] for r in a.itertuples()],
                      widths=[1.8, 1.3, 1.3, 1.4, 1.0, 1.2, 1.0]))
        missing = [x for x in ("乡村振兴", "安全生产", "食品药品安全") if x not in set(a.area)]
        if missing:
            doc.add(Para(W.SPECIAL_FOCUS_MISSING.format(areas=W.join(missing))))
    else:
        doc.add(Para(W.SPECIAL_NONE))
    warned = [(r.name_zh, r.warned_units) for r in f.special_values.itertuples() if r.warned_units]
    doc.add(Para(W.SPECIAL_WARNED.format(items="；".join(
        W.SPECIAL_WARNED_ITEM.format(name=name, units=W.join(units)) for name, units in warned))
        if warned else W.SPECIAL_UNWARNED))


# ---- 六、四风及隐形变异 ----------------------------------------------------------------------

def _fourwinds(doc: Document, f: Facts) -> None:
    doc.add(Heading(W.SECTIONS["fourwinds"]))
    fw = f.fourwinds
    if fw.empty:
        doc.add(Para(W.FOURWINDS_NONE))
    for source in ("信访举报", "执纪处理"):
        s = fw[fw.source == source]
        if s.empty:
            continue
        by = s.groupby("fourwinds").records.sum().sort_values(ascending=False)
        doc.add(Para(W.FOURWINDS_LINE.format(source=source, total=int(by.sum()),
                                             types=W.join(f"{k}{int(v)}件" for k, v in by.items()))))
    hidden = fw[fw.hidden_variant.notna()]
    if len(hidden):
        by = hidden.groupby(["hidden_variant", "source"]).records.sum()
        types = W.join(f"{hv}{int(n)}件（{src}）" for (hv, src), n in by.sort_values(ascending=False).items())
        doc.add(Para(W.HIDDEN_LINE.format(total=int(hidden.records.sum()), types=types)))
    else:
        doc.add(Para(W.HIDDEN_NONE))
    for r in f.style_values.itertuples():
        warned = W.WARNED_UNITS.format(n=len(r.warned_units), units=W.join(r.warned_units)).lstrip("，") \
            if r.warned_units else W.STYLE_UNWARNED
        doc.add(Para(W.STYLE_INDICATOR.format(name=r.name_zh, warned_text=warned)))


# ---- 七、整改落实 --------------------------------------------------------------------------

def _rectification(doc: Document, f: Facts) -> None:
    doc.add(Heading(W.SECTIONS["rectification"]))
    r = f.rectification
    if "inspection_rectification_rate" in r:
        ins = r["inspection_rectification_rate"]
        over = r.get("overdue_rectification", {})
        doc.add(Para(W.RECT_INSPECTION.format(
            due=_int(ins["denominator"]), done=_int(ins["numerator"]), rate=W.pct(ins["value"]),
            overdue=_int(over.get("value", 0)), overdue_units=over.get("units_with", 0),
            recurring=_int(r.get("recurring_findings", {}).get("value", 0)))))
    if "audit_rectification_rate" in r:
        au = r["audit_rectification_rate"]
        doc.add(Para(W.RECT_AUDIT.format(due=_int(au["denominator"]), done=_int(au["numerator"]), rate=W.pct(au["value"]),
                                         clues=_int(r.get("audit_clue_transfers", {}).get("value", 0)))))
    warned = [(v["name_zh"], v["warned_units"]) for v in r.values() if v["warned_units"]]
    if warned:
        doc.add(Para(W.RECT_WARNED.format(items="；".join(
            W.RECT_WARNED_ITEM.format(name=name, units=W.join(units)) for name, units in warned))))
        doc.add(Para(W.RECT_ADVICE, "note"))
    else:
        doc.add(Para(W.RECT_NONE))


# ---- 八、澄清正名与回访 -----------------------------------------------------------------------

def _clearance(doc: Document, f: Facts) -> None:
    doc.add(Heading(W.SECTIONS["clearance"]))
    c = f.clearance
    cl = c.get("clearances")
    doc.add(Para(W.CLEAR_LINE.format(n=_int(cl["value"]), units=cl["units_with"]) if cl and cl["value"]
                 else W.CLEAR_NONE))
    fu = c.get("followup_rate")
    doc.add(Para(W.FOLLOWUP_LINE.format(den=_int(fu["denominator"]), num=_int(fu["numerator"]), rate=W.pct(fu["value"]))
                 if fu and fu["denominator"] else W.FOLLOWUP_NONE))
    doc.add(Para(W.CLEAR_NOTE, "note"))


# ---- 九、问题与建议 ------------------------------------------------------------------------

def _problems(doc: Document, f: Facts) -> None:
    """Each finding of facts.problems, then one suggestion per finding, in the same order."""
    doc.add(Heading(W.SECTIONS["problems"]))
    if not f.problems:
        doc.add(Para(W.PROBLEMS_NONE))
        return
    doc.add(Heading(W.PROBLEMS_HEAD, 2))
    for n, p in enumerate(f.problems, start=1):
        doc.add(Para(f"{n}. " + _problem_text(p)))
    doc.add(Heading(W.ADVICE_HEAD, 2))
    for n, p in enumerate(f.problems, start=1):
        doc.add(Para(f"{n}. " + _advice_text(p)))


def _problem_text(p: dict) -> str:
    if p["kind"] == "grades":
        change = W.PROBLEM_GRADES_CHANGE.format(direction=W.count_change(p["change"])) if p["change"] is not None else ""
        return W.PROBLEM_GRADES.format(red=len(p["red_units"]), red_units=W.join(p["red_units"]) or W.DASH,
                                       orange=p["orange"], change=change)
    if p["kind"] == "dimension":
        text = W.PROBLEM_DIMENSION.format(dimension=p["dimension_zh"], warnings=p["warnings"], units=p["units"],
                                          items=W.join(W.PROBLEM_DIMENSION_ITEM.format(indicator=i, units=n)
                                                       for i, n in p["indicators"]))
        if "rectification" in p:
            text += W.PROBLEM_RECTIFICATION_MORE.format(**p["rectification"])
        return text
    if p["kind"] == "rising":
        units = f"（{W.join(p['rising_units'])}）" if p["rising_units"] else ""
        return W.PROBLEM_RISING.format(rising=len(p["rising_units"]), rising_units=units, moves=p["moves"])
    return W.PROBLEM_RECTIFICATION.format(overdue=p["overdue"], overdue_units=p["overdue_units"],
                                          recurring=p["recurring"])


def _advice_text(p: dict) -> str:
    if p["kind"] == "grades":
        return W.ADVICE_GRADES.format(units=W.join(p["red_units"][:3])) if p["red_units"] else W.ADVICE_RISING
    if p["kind"] == "dimension":
        return W.ADVICE_DIMENSION.get(p["dimension"]) or W.ADVICE_DIMENSION_OTHER.format(dimension=p["dimension_zh"])
    if p["kind"] == "rising":
        return W.ADVICE_RISING
    return W.ADVICE_RECTIFICATION


def _rising_rule(f: Facts) -> str:
    tr = f.settings.get("trends") or {}
    return W.RISING_RULE.format(delta=tr.get("rising_delta", W.DASH), delta_yoy=tr.get("rising_delta_yoy", W.DASH))


# ---- 十、方法说明与不确定性 -------------------------------------------------------------------

def _method(doc: Document, f: Facts) -> None:
    doc.add(Heading(W.SECTIONS["method"]))
    s = f.settings
    idx = s.get("index") or {}
    unc = s.get("uncertainty") or {}
    n_ind = int((~f.catalogue.context.astype(bool) & (f.catalogue.weight > 0)).sum())
    rule = grading.rule_zh(s)  # the same sentences as the 方法与权重 page and the CLI
    grades = rule[0].rstrip("。")
    values = {
        "indicators": n_ind, "dimensions": len(f.dimensions),
        "normalise": W.NORMALISE_ZH.get(idx.get("normalise"), idx.get("normalise", "")),
        "aggregate": W.AGGREGATE_ZH.get(idx.get("aggregate"), idx.get("aggregate", "")),
        "basis": W.BASIS_ZH.get(idx.get("normalisation_basis"), idx.get("normalisation_basis", "")),
        "impute": W.IMPUTE_ZH.get((s.get("missing") or {}).get("impute"), (s.get("missing") or {}).get("impute", "")),
        "grades": grades, "rising_rule": _rising_rule(f),
        "draws": unc.get("draws", W.DASH), "noise": W.pct(unc.get("weight_noise"), 0),
        "norms": W.join(W.NORMALISE_ZH.get(n, n).removeprefix("经").removeprefix("按").removesuffix("标准化") or n
                        for n in unc.get("normalisations", [])),
        "aggs": W.join(W.AGGREGATE_ZH.get(a, a) for a in unc.get("aggregations", [])),
    }
    for line in W.METHOD_LINES:
        doc.add(Para(line.format(**values)))
    for line in rule[1:]:
        doc.add(Para(line))

    if len(f.sensitivity):
        sens = f.sensitivity.sort_values("first_order", ascending=False)
        doc.add(Para(W.SENS_INTRO.format(items=W.join(
            W.SENS_ITEM.format(name=vocabulary.sensitivity_factor(r.factor), first=W.pct(r.first_order, 0),
                               total=W.pct(r.total, 0)) for r in sens.itertuples()))
            + W.SENS_READING.format(top=vocabulary.sensitivity_factor(sens.factor.iloc[0]))))
        if len(f.leave_one_out):
            doc.add(Para(W.LOO_LINE.format(items=W.join(
                W.LOO_ITEM.format(name=r.name_zh or r.indicator_id, mean=W.num(r.mean_abs_rank_shift),
                                  max=W.num(r.max_abs_rank_shift, 0)) for r in f.leave_one_out.itertuples()))))
    else:
        doc.add(Para(W.SENS_NONE))

    if len(f.alpha):
        doc.add(Para(W.ALPHA_INTRO.format(items=W.join(
            W.ALPHA_ITEM.format(name=r.name_zh, alpha=W.num(r.cronbach_alpha, 2)) for r in f.alpha.itertuples()))))
        odd = f.alpha[(f.alpha.cronbach_alpha < 0) | (f.alpha.cronbach_alpha > 1)]
        doc.add(Para(W.ALPHA_NOTE.format(dims=W.join(odd.name_zh)) if len(odd) else W.ALPHA_NOTE_OK, "note"))

    if len(f.ledger):
        doc.add(Para(W.DATA_LINE.format(items=W.join(W.DATA_ITEM.format(kind=r.kind, records=int(r.records))
                                                     for r in f.ledger.itertuples()), rejected=f.rejected)))
    doc.add(Para(W.BUILD_LINE.format(build_id=f.build["build_id"], catalogue_version=f.build.get("catalogue_version", ""),
                                     sha=str(s.get("catalogue_sha256", ""))[:12])))
    doc.add(Para(W.CAVEAT_LONG, "caveat"))


# ---- small formatting helpers ----------------------------------------------------------------

def _int(v) -> str:
    return W.DASH if v is None or pd.isna(v) else str(int(round(float(v))))


def _interval(lo, hi) -> str:
    return W.DASH if lo is None or pd.isna(lo) or hi is None or pd.isna(hi) else f"{lo:.0f}–{hi:.0f}"


_CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    return _CN[n - 1] if 1 <= n <= 10 else str(n)
