"""`generate()`: a synthetic county (or city, province, nation) written as messy ledger files, with the
planted stories and every other ground truth in truth.json beside them. Work runs chunk by chunk of
counties, so memory stays bounded at any scale; within a chunk everything is vectorised."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import UserError
from pipelines.synth import ledgers, people, petitions, roster, stories, texts, writers
from pipelines.synth.streams import stream

# counties per scale (≈50 units each): county ≈ 50 units, city ≈ 500, province ≈ 5,000, national ≈ 50,000
SCALES = {"county": 1, "city": 10, "province": 100, "national": 1000}
CHUNK_BLOCKS = 20
STORY_BLOCKS = 10  # counties that carry a full set of planted stories at larger scales

KIND_FILES = {  # kind: (per_year, name templates)
    "petitions": (True, ["信访举报台账{y}", "{y}年信访举报受理登记台账", "{y}年度信访件登记表", "信访举报线索登记{y}"]),
    "inspection_findings": (False, ["巡察整改台账", "巡察反馈问题整改台账", "巡察问题整改清单"]),
    "audit_findings": (True, ["审计发现问题整改台账{y}", "{y}年审计问题整改情况", "审计整改台账{y}年"]),
    "cases": (True, ["{y}年案件及四种形态台账", "四种形态处置台账{y}", "{y}年执纪审查及四种形态统计"]),
    "inquiries": (False, ["谈话函询台账", "谈话函询登记表", "谈话函询工作台账"]),
    "major_decisions": (None, ["三重一大事项报备台账", "三重一大报备登记"]),
    "responsibility_checks": (False, ["主体责任检查情况", "全面从严治党主体责任检查台账"]),
}
TITLES = {
    "petitions": "{y}年度信访举报受理登记台账", "inspection_findings": "巡察反馈问题整改落实台账",
    "audit_findings": "{y}年度审计发现问题整改台账", "cases": "{y}年监督执纪“四种形态”处置台账",
    "inquiries": "谈话函询工作台账", "major_decisions": "“三重一大”事项报备登记表",
    "responsibility_checks": "全面从严治党主体责任落实情况检查汇总表",
}


def _months(start: str, end: str) -> np.ndarray:
    try:
        a, b = np.datetime64(start, "M"), np.datetime64(end, "M")
    except ValueError as exc:
        raise UserError(f"start/end must be months like 2022-01, got {start!r}/{end!r}") from exc
    if b < a:
        raise UserError(f"end {end} is before start {start}")
    if b - a < 2:  # the planted stories need a few months to unfold
        raise UserError(f"the range {start}..{end} is too short: give at least 3 months")
    return np.arange(a, b + 1)


class Output:
    """The set of files being written, opened as the first rows for each arrive."""

    def __init__(self, out: Path, scale: str, seed: int, years: list[int], filled_on: str):
        self.out, self.scale, self.seed, self.years, self.filled_on = out, scale, seed, years, filled_on
        self.files: dict[str, writers.LedgerFile] = {}
        self.route: dict[tuple[str, int], tuple[str, str]] = {}
        xlsx_p = {"county": 0.6, "city": 0.4}.get(scale, 0.0)
        for kind, (per_year, templates) in KIND_FILES.items():
            rng = stream(seed, "files", kind)
            template = templates[int(rng.integers(0, len(templates)))]
            if per_year is None:  # one workbook with a sheet per year, or one csv per year
                per_year = not (scale == "county" and rng.random() < 0.6)
                if not per_year:
                    self._open(kind, f"{template}.xlsx", "xlsx", [f"{y}年" for y in years], None)
                    for y in years:
                        self.route[(kind, y)] = (f"{template}.xlsx", f"{y}年")
                    continue
                template = template + "{y}"
            if per_year:
                for y in years:
                    fmt = "xlsx" if rng.random() < xlsx_p else "csv"
                    name = template.format(y=y) + "." + fmt
                    self._open(kind, name, fmt, ["Sheet1" if rng.random() < 0.5 else f"{y}年"], TITLES[kind].format(y=y))
                    self.route[(kind, y)] = (name, next(iter(self.files[name].sheets)))
            else:
                fmt = "xlsx" if rng.random() < xlsx_p else "csv"
                name = template + "." + fmt
                title = TITLES[kind].format(y="") if "{y}" not in TITLES[kind] else TITLES[kind].format(y=f"{years[0]}-{years[-1]}")
                self._open(kind, name, fmt, ["Sheet1"], title)
                for y in years:
                    self.route[(kind, y)] = (name, "Sheet1")

    def _open(self, kind, name, fmt, sheets, title):
        style = writers.choose_style(kind, fmt, title, None, self.seed, name, big=self.scale not in ("county", "city"))
        self.files[name] = writers.LedgerFile(self.out, name, kind, style, self.seed, sheets)
        self.files[name].filled_on = self.filled_on

    def write(self, kind: str, df: pd.DataFrame, date_col: str, ctx: dict, first_chunk: bool) -> None:
        year = pd.DatetimeIndex(df[date_col]).year.to_numpy()
        for y in self.years:
            part = df[year == y]
            name, sheet = self.route[(kind, y)]
            f = self.files[name]
            n_bad = int(round(len(part) * f.style.bad_rate))
            if first_chunk and len(part) >= 20:
                n_bad = max(1, n_bad)
            f.append(sheet, part, ctx, n_bad)


def generate(scale: str, seed: int, out: Path, *, start: str = "2022-01", end: str = "2024-12") -> dict:
    """Write a synthetic set of ledgers and truth.json into `out`; return a summary of files and row counts."""
    if scale not in SCALES:
        raise UserError(f"unknown scale {scale!r}; choose one of: {', '.join(SCALES)}")
    t0 = time.perf_counter()
    months = _months(start, end)
    years = sorted({int(str(m)[:4]) for m in months})
    as_of = (months[-1] + 1).astype("datetime64[D]") - 1
    start_day = months[0].astype("datetime64[D]")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_blocks = SCALES[scale]
    prefixes = ["县"] if n_blocks == 1 else [n + "县" for n in roster.county_names(stream(seed, "counties"), n_blocks)]
    filled = pd.Timestamp(as_of + np.timedelta64(6, "D"))
    output = Output(out, scale, seed, years, f"{filled.year}年{filled.month}月{filled.day}日")
    truth: dict = {"seed": seed, "scale": scale, "start": str(months[0]), "end": str(months[-1]),
                   "as_of": str(as_of), "stories": [], "risky_units": [], "decoy_units": [],
                   "unit_name_variants": {}, "files": []}
    people_rows: list[pd.DataFrame] = []
    inline_people = n_blocks <= SCALES["city"]
    people_file = out / "truth_people.jsonl"  # large scales: beside truth.json, not a ledger format
    if not inline_people:
        people_file.write_bytes(b"")
    roster_frames = []
    counters = {"petitions": {}, "inquiries": {}, "cases": {}}
    for c0 in range(0, n_blocks, CHUNK_BLOCKS):
        blocks = [roster.Block(i, prefixes[i]) for i in range(c0, min(n_blocks, c0 + CHUNK_BLOCKS))]
        chunk = _chunk(blocks, seed, months, years, as_of, start_day, counters, truth)
        ctx = chunk["ctx"]
        for kind, date_col in (("petitions", "received_date"), ("inspection_findings", "feedback_date"),
                               ("audit_findings", "report_date"), ("cases", "closed_date"),
                               ("inquiries", "start_date"), ("major_decisions", "decision_date"),
                               ("responsibility_checks", "check_date")):
            output.write(kind, chunk[kind], date_col, ctx, first_chunk=c0 == 0)
        roster_frames.append(chunk["units"])
        ppl = chunk["people"].drop_duplicates()
        ppl = ppl.astype(object).where(ppl.notna(), None)
        truth["people_count"] = truth.get("people_count", 0) + len(ppl)
        if inline_people:
            people_rows.append(ppl)
        else:
            with open(people_file, "a", encoding="utf-8") as fh:
                ppl.to_json(fh, orient="records", lines=True, force_ascii=False)
    # the roster last: one small file, clean (no bad rows), names exactly as the master list has them
    units_all = pd.concat(roster_frames, ignore_index=True)
    roster_fmt = "xlsx" if len(units_all) <= 20_000 else "csv"
    name = f"单位名册.{roster_fmt}"
    style = writers.choose_style("units", roster_fmt, "县纪委监委派驻机构监督单位名册" if n_blocks == 1 else "派驻机构监督单位名册",
                                 None, seed, name, big=False)
    style.unit_alias_share = style.unit_fuzzy_share = 0.0
    style.blank_rows, style.total_row = 0, False
    f = writers.LedgerFile(out, name, "units", style, seed, ["单位名册"])
    f.append("单位名册", units_all, {"alias": {}, "fuzzy": {}, "prefix": ""}, 0)
    files = [f.close()] + [lf.close() for lf in output.files.values()]
    truth["files"] = files
    summary = {"scale": scale, "seed": seed, "out": str(out), "units": len(units_all),
               "files": [{"file": x["file"], "kind": x["kind"], "rows": x["data_rows"], "bad_rows": x["bad_rows"]}
                         for x in files]}
    if inline_people:
        truth["people"] = pd.concat(people_rows, ignore_index=True).to_dict(orient="records")
    else:
        truth["people_file"] = people_file.name
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, default=_json_default, allow_nan=False),
                                    encoding="utf-8")
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    summary["records"] = int(sum(x["rows"] for x in summary["files"]))
    return summary


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (np.datetime64, pd.Timestamp)):
        return str(pd.Timestamp(v).date())
    raise TypeError(type(v))


def _numbering(dates: np.ndarray, prefix: str, counters: dict, width: int) -> np.ndarray:
    """Register numbers per year, continuing across chunks: XF2023-0001 …"""
    years = pd.DatetimeIndex(dates).year.to_numpy()
    out = np.empty(len(dates), dtype=object)
    for y in np.unique(years):
        rows = np.flatnonzero(years == y)
        base = counters.get(int(y), 0)
        seq = np.arange(base + 1, base + len(rows) + 1)
        out[rows] = [f"{prefix}{y}-{s:0{width}d}" for s in seq]
        counters[int(y)] = base + len(rows)
    return out


def _chunk(blocks, seed, months, years, as_of, start_day, counters, truth) -> dict:
    def rng_for(part: str) -> np.random.Generator:  # one stream per ledger: changing one leaves the others as they were
        return stream(seed, "chunk", blocks[0].index, part)

    units = pd.concat([roster.build_block(b, stream(seed, "roster", b.index)) for b in blocks], ignore_index=True)
    taken: list[np.ndarray] = []
    pool = people.build_pool(units, stream(seed, "pool", blocks[0].index), taken)
    story_list: list[dict] = []
    for b in blocks:
        if b.index < STORY_BLOCKS:
            rows = np.flatnonzero(units["block"].to_numpy() == b.index)
            tag = "" if len(blocks) == 1 and b.index == 0 else f"C{b.index:03d}-"
            story_list += stories.plan(units, pool, rows, months, stream(seed, "stories", b.index), tag)
    r = rng_for("petitions")
    rates = petitions.monthly_rates(units, len(months), float(r.uniform(2.4, 3.4)))
    subst = np.ones_like(rates)
    stories.adjust_rates(story_list, units, rates, subst)
    pet = petitions.build(units, pool, months, rates, subst, as_of, r)
    pet = stories.petitions(story_list, pet, units, pool, months, as_of, r)
    pet = petitions.finish(pet, pool, r, taken)
    width = 4 if len(units) < 200 else 6
    pet["petition_no"] = _numbering(pet["received_date"].to_numpy(), "XF", counters["petitions"], width)
    stories.after_petitions(story_list, pet)
    unit_names = units["unit_name"].to_numpy()
    pet["_kind"] = units["kind"].to_numpy()[pet["unit_idx"].to_numpy()]
    pet["content"] = texts.petition_contents(pet, unit_names[pet["unit_idx"].to_numpy()],
                                             units["sector"].to_numpy()[pet["unit_idx"].to_numpy()], pool, r)

    r = rng_for("inquiries")
    inq = ledgers.inquiries(pet, units, pool, years, as_of, r)
    inq = inq.sort_values(["start_date", "unit_idx"], kind="stable").reset_index(drop=True)
    inq["inquiry_no"] = _numbering(inq["start_date"].to_numpy(), "HX", counters["inquiries"], width - 1)
    stories.inquiries(story_list, inq)

    r = rng_for("cases")
    cs = ledgers.cases(pet, units, pool, years, as_of, r)
    cs = stories.case_forms(story_list, cs, pool, months, as_of, r)
    ledgers.finalise_cases(cs, pool, as_of, r)
    cs = cs[(cs["closed_date"] <= as_of) & (cs["closed_date"] >= start_day)]
    cs = cs.sort_values(["closed_date", "unit_idx"], kind="stable").reset_index(drop=True)
    cs["case_no"] = _numbering(cs["closed_date"].to_numpy(), "AJ", counters["cases"], width - 1)
    stories.after_cases(story_list, cs)

    r = rng_for("inspection")
    s3 = [s["unit_idx"] for s in story_list if s["type"] == "rectification_overdue"]
    ins = ledgers.inspection(units, years, as_of, r, first_round=s3)
    stories.inspection(story_list, ins, as_of, r)
    ins["finding"] = texts.inspection_texts(ins, r)

    r = rng_for("audit")
    aud = ledgers.audit(units, years, as_of, r)
    aud = stories.audit(story_list, aud, units, years, as_of, r)
    aud["finding"] = texts.audit_texts(aud, r)

    r = rng_for("decisions")
    dec = ledgers.decisions(units, years, start_day, as_of, r)
    stories.decisions(story_list, dec, months, r)
    dec["item"] = texts.decision_items(dec, units["sector"].to_numpy()[dec["unit_idx"].to_numpy()], r)
    dec = dec.sort_values(["decision_date", "unit_idx"], kind="stable")
    dec = dec.drop_duplicates(["unit_idx", "item", "decision_date"]).reset_index(drop=True)

    r = rng_for("checks")
    chk = ledgers.checks(units, years, as_of, r)
    stories.checks(story_list, chk, r)
    rows = chk["story"].to_numpy() != ""
    if rows.any():
        sub = chk[rows].copy()
        ledgers.score_and_grade(sub, r)
        chk.loc[rows, ["score", "grade"]] = sub[["score", "grade"]].to_numpy()

    # ---- canonical frames with dictionary column names
    top = pool[pool["is_top"]].set_index("unit_idx")["name"]
    units_out = pd.DataFrame({
        "unit_name": unit_names, "aliases": units["aliases"], "kind": units["kind"], "sector": units["sector"],
        "team": units["team"], "headcount": units["headcount"], "budget_yuan": units["budget_wan"] * 10000,
        "leadership_posts": units["leadership_posts"], "top_leader_pid": top.reindex(range(len(units))).to_numpy(),
    })
    pn = pool["name"].to_numpy()
    frames = {
        "petitions": pd.DataFrame({
            "petition_no": pet["petition_no"], "received_date": pet["received_date"], "channel": pet["channel"],
            "signed": pet["signed"], "petitioner_pid": pet["petitioner"], "petitioner_phone_pid": pet["petitioner_phone"],
            "unit_name": unit_names[pet["unit_idx"].to_numpy()], "reported_pid": pet["reported_name"],
            "reported_post": pet["reported_post"], "reported_rank": pet["reported_rank"], "is_leader": pet["is_leader"],
            "category": pet["category"], "fourwinds": pet["fourwinds"], "hidden_variant": pet["hidden_variant"],
            "special_area": pet["special_area"], "content": pet["content"], "disposition": pet["disposition"],
            "outcome": pet["outcome"], "cleared": pet["cleared"], "closed_date": pet["closed_date"],
            "is_repeat": pet["is_repeat"], "story": pet["story"]}),
        "inquiries": pd.DataFrame({
            "inquiry_no": inq["inquiry_no"], "unit_name": unit_names[inq["unit_idx"].to_numpy()],
            "person_pid": pn[inq["person"].to_numpy()], "post": pool["post"].to_numpy()[inq["person"].to_numpy()],
            "is_leader": pool["is_leader"].to_numpy()[inq["person"].to_numpy()], "method": inq["method"],
            "petition_no": inq["petition_no"], "start_date": inq["start_date"], "reply_date": inq["reply_date"],
            "spot_checked": inq["spot_checked"], "truthful": inq["truthful"], "result": inq["result"], "story": inq["story"]}),
        "cases": pd.DataFrame({
            "case_no": cs["case_no"], "unit_name": unit_names[cs["unit_idx"].to_numpy()], "person_pid": pn[cs["person"].to_numpy()],
            "id_number_pid": pool["id_number"].to_numpy()[cs["person"].to_numpy()], "post": cs["post"], "rank": cs["rank"],
            "is_leader": cs["is_leader"], "source": cs["source"], "petition_no": cs["petition_no"],
            "filed_date": cs["filed_date"], "closed_date": cs["closed_date"], "violation": cs["violation"],
            "fourwinds": cs["fourwinds"], "hidden_variant": cs["hidden_variant"], "form": cs["form"],
            "party_sanction": cs["party_sanction"], "gov_sanction": cs["gov_sanction"], "transferred": cs["transferred"],
            "amount_yuan": cs["amount_yuan"], "followup_date": cs["followup_date"], "story": cs["story"]}),
        "inspection_findings": pd.DataFrame({
            "round": ins["round"], "unit_name": unit_names[ins["unit_idx"].to_numpy()], "finding_no": ins["finding_no"].astype(str),
            "feedback_date": ins["feedback_date"], "category": ins["category"], "finding": ins["finding"],
            "deadline": ins["deadline"], "status": ins["status"], "rectified_date": ins["rectified_date"],
            "is_recurrence": ins["is_recurrence"], "story": ins["story"]}),
        "audit_findings": pd.DataFrame({
            "audit_project": aud["audit_project"], "unit_name": unit_names[aud["unit_idx"].to_numpy()],
            "finding_no": aud["finding_no"].astype(str), "report_date": aud["report_date"], "finding_type": aud["finding_type"],
            "finding": aud["finding"], "amount_yuan": aud["amount_yuan"], "rectification": aud["rectification"],
            "rectified_date": aud["rectified_date"], "clue_transferred": aud["clue_transferred"], "story": aud["story"]}),
        "major_decisions": pd.DataFrame({
            "unit_name": unit_names[dec["unit_idx"].to_numpy()], "item": dec["item"], "item_type": dec["item_type"],
            "decision_date": dec["decision_date"], "filing_date": dec["filing_date"], "amount_yuan": dec["amount_yuan"],
            "collective": dec["collective"], "story": dec["story"]}),
        "responsibility_checks": pd.DataFrame({
            "unit_name": unit_names[chk["unit_idx"].to_numpy()], "check_period": chk["check_period"],
            "check_date": chk["check_date"], "score": chk["score"], "problems": chk["problems"], "grade": chk["grade"],
            "story": chk["story"]}),
    }
    # unit-name context for the writers: short/former names and near-miss spellings
    taken_names = set(unit_names) | {a for al in units["aliases"] for a in al}
    alias_map = {n: list(a) for n, a in zip(unit_names, units["aliases"]) if a}
    fuzzy_map = {}
    by_block: dict[int, list[tuple[str, list[str]]]] = {}
    for n, b, a in zip(unit_names, units["block"].to_numpy(), units["aliases"]):
        by_block.setdefault(int(b), []).append((n, [n] + list(a)))
    for n, b in zip(unit_names, units["block"].to_numpy()):
        # the other units of the same county are the ones a matcher could confuse it with
        others = [x for m, xs in by_block[int(b)] if m != n for x in xs]
        v = roster.fuzzy_variant(n, taken_names, others)
        if v:
            fuzzy_map[n] = [v]
            taken_names.add(v)
            truth["unit_name_variants"][v] = n
    ctx = {"alias": alias_map, "fuzzy": fuzzy_map, "prefix": blocks[0].prefix}

    _describe(story_list, units, pool, pet, inq, cs, months, truth)
    ppl = [pool[["name", "id_number", "phone"]].assign(role="staff", unit=unit_names[pool["unit_idx"].to_numpy()]),
           pet.loc[pet["petitioner"].notna(), ["petitioner", "petitioner_phone"]]
           .rename(columns={"petitioner": "name", "petitioner_phone": "phone"}).assign(id_number=None, role="petitioner", unit=None)]
    return {"units": units_out, "people": pd.concat(ppl, ignore_index=True), "ctx": ctx, **frames}


STORY_TEXT = {
    "deteriorating": ("政治生态持续恶化：近{q}个季度信访举报量和属实率逐季上升，并出现立案处理。",
                      ["petitions_rising", "substantiated_rising", "cases_appear", "check_scores_falling"]),
    "leader_multichannel": ("班子成员被多渠道反复举报（来信、电话、12388网络举报、上级转办），函询时不如实说明，后被立案查处。",
                            ["leader_reported_multichannel", "repeat_reports", "inquiry_untruthful", "case_filed_after_inquiry"]),
    "rectification_overdue": ("巡察反馈问题逾期未整改，第二轮巡察发现屡查屡犯，审计发现问题未整改。",
                              ["inspection_overdue", "recurrence", "audit_unrectified", "check_scores_low"]),
    "hidden_fourwinds": ("四风隐形变异问题集中：一桌餐、电子红包、吃老板、私车公养等在信访和案件中反复出现。",
                         ["hidden_variants_petitions", "hidden_variants_cases"]),
    "major_decisions_irregular": ("三重一大事项报备滞后、部分事项未经集体决策。",
                                  ["late_filings", "non_collective_decisions"]),
    "decoy": ("信访举报量大但均不属实，其中一件为诬告陷害并已澄清正名：不应被评为高风险。",
              ["many_petitions", "none_substantiated", "false_accusation", "cleared"]),
    "audit_funds_misuse": ("专项审计发现违规使用资金、虚报冒领，涉及金额占年度预算比例高，已移送问题线索。",
                           ["audit_amount_vs_budget", "funds_misuse", "clues_transferred"]),
}


def _describe(story_list, units, pool, pet, inq, cs, months, truth) -> None:
    for st in story_list:
        u = st["unit_idx"]
        text, signals = STORY_TEXT[st["type"]]
        entry = {
            "id": st["id"], "type": st["type"], "unit_name": units.loc[u, "unit_name"],
            "start_period": str(months[st["start_m"]]), "end_period": str(months[st["end_m"]]),
            "description": text.format(q=(st["end_m"] - st["start_m"] + 1) // 3), "expected_signals": signals,
            "petition_nos": st.get("petition_nos", []), "case_nos": st.get("case_nos", []),
        }
        if "person" in st:
            p = pool.loc[st["person"]]
            entry["person"] = {"name": p["name"], "post": p["post"], "is_leader": bool(p["is_leader"]),
                               "is_top_leader": bool(p["is_top"])}
            entry["people"] = f"{p['post']}（{'一把手' if p['is_top'] else '班子成员'}）"
        else:
            entry["people"] = "单位整体" if st["type"] != "hidden_fourwinds" else "单位班子成员及工作人员"
        for k in ("inquiry_nos", "late_filings", "non_collective", "amount_yuan", "budget_yuan"):
            if k in st:
                entry[k] = st[k]
        if st["type"] == "leader_multichannel":
            rows = pet[pet["story"] == st["id"]]
            entry["channels"] = sorted(set(rows["channel"]))
        if st["type"] in ("deteriorating", "decoy"):
            # quarterly petitions and substantiated ones, as written (bad rows included)
            mine = pet[pet["unit_idx"] == u]
            q = pd.PeriodIndex(pd.DatetimeIndex(mine["received_date"]), freq="Q").astype(str)
            sub = mine["outcome"].isin(["属实", "部分属实"]).to_numpy()
            by_q = pd.DataFrame({"q": q, "sub": sub}).groupby("q")["sub"].agg(["size", "sum"])
            entry["petitions_by_quarter"] = {k: int(v) for k, v in by_q["size"].items()}
            entry["substantiated_by_quarter"] = {k: int(v) for k, v in by_q["sum"].items()}
        truth["stories"].append(entry)
        (truth["decoy_units"] if st["type"] == "decoy" else truth["risky_units"]).append(entry["unit_name"])
