"""Does the ranking find the planted risk stories of a synthetic county (truth.json of `zhengtai generate`)?

Reported per judged period: precision@k (k = number of planted risky units, and 10), the rank, score,
grade and Monte Carlo rank interval of every planted unit, the decoy's rank (it should sit low), and the
ROC AUC of the index as a detector of risky units (decoy and ordinary units as negatives). And, over the whole
build, the hard checks of the grading rule (`checks`): they hold for any county, synthetic or not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipelines.analysis.terminal import open_build, resolve_period
from pipelines.errors import UserError


def _default_periods(con) -> list[str]:
    out = []
    for grain in ("year", "rolling12"):
        rows = con.execute("SELECT max(period) FROM unit_scores WHERE grain = ?", [grain]).fetchall()
        if rows and rows[0][0]:
            out.append(rows[0][0])
    return out


def evaluate(db: str | Path, truth_path: str | Path, period: str | None = None) -> dict:
    try:
        truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read truth file {truth_path}: {exc}") from None
    stories = truth.get("stories") or []
    if not stories:
        raise UserError(f"{truth_path} lists no planted stories")
    risky = set(truth.get("risky_units") or [s["unit_name"] for s in stories if s["type"] != "decoy"])
    decoys = set(truth.get("decoy_units") or [])
    con = open_build(db)
    try:
        periods = [period] if period else _default_periods(con)
        judged = []
        for p in periods:
            grain, key = resolve_period(con, p)
            df = con.execute("""SELECT unit_name, score, rank, grade, rank_p05, rank_p95 FROM unit_scores
                                WHERE level = 'index' AND grain = ? AND period = ? AND score IS NOT NULL
                                ORDER BY rank, unit_name""", [grain, key]).df()
            judged.append(_judge(df, grain, key, stories, risky, decoys))
        hard = checks(con)
        decoy_any = decoy_periods(con, decoys)
    finally:
        con.close()
    return {"truth": str(truth_path), "risky_units": sorted(risky), "decoy_units": sorted(decoys), "periods": judged,
            "checks": hard, "decoy_periods_red_orange": decoy_any}


def checks(con) -> dict:
    """The grading rule's hard checks over every unit-period of every grain and level of the build: counts of
    violations, each of which should be 0.
      record_less_coloured   a unit-period with no ledger record that is not 绿
      zero_score_coloured    a score of exactly 0 (index or dimension) that is coloured
      red_orange_unsupported a 红/橙 grade without a 红/橙 warning at that level
      thin_red_warnings      a 红 warning on fewer records than warnings.min_records asks (3 by default)
      degenerate_periods     a period with 红/橙 units but no warning at all (a month "on fire" with nothing behind it)
      graded_months          month unit-periods that carry a grade (months are scored, not graded)
    (The decoy's grades in the judged periods are in each period's stories; `decoy_periods_red_orange` in the
    evaluation counts its 红/橙 unit-periods over every grain, for information: a unit whose reports prove false
    can still have a bad quarter on other records.)"""
    one = lambda sql, params=(): int(con.execute(sql, list(params)).fetchall()[0][0] or 0)  # noqa: E731
    out = {
        "record_less_coloured": one("SELECT count(*) FROM unit_scores WHERE records = 0 AND grade IN ('红', '橙', '黄')"),
        "zero_score_coloured": one("SELECT count(*) FROM unit_scores WHERE score = 0 AND grade IN ('红', '橙', '黄')"),
        "red_orange_unsupported": one("""SELECT count(*) FROM unit_scores
                                         WHERE (grade = '红' AND warning_level < 3) OR (grade = '橙' AND warning_level < 2)"""),
        "thin_red_warnings": one("SELECT count(*) FROM warnings WHERE grade = '红' AND records < 3"),
        "degenerate_periods": one("""SELECT count(*) FROM (
            SELECT s.grain, s.period FROM unit_scores AS s WHERE s.level = 'index' GROUP BY ALL
            HAVING count(*) FILTER (WHERE s.grade IN ('红', '橙')) > 0
               AND NOT EXISTS (SELECT 1 FROM warnings AS w WHERE w.grain = s.grain AND w.period = s.period))"""),
        "graded_months": one("SELECT count(*) FROM unit_scores WHERE grain = 'month' AND grade IS NOT NULL"),
    }
    return out


def decoy_periods(con, decoys) -> int:
    """Unit-periods of any grain in which a decoy is graded 红 or 橙 (information, see `checks`)."""
    if not decoys:
        return 0
    return int(con.execute("""SELECT count(*) FROM unit_scores WHERE level = 'index' AND grade IN ('红', '橙')
                              AND list_contains(?, unit_name)""", [sorted(decoys)]).fetchall()[0][0])


def _judge(df, grain, period, stories, risky, decoys) -> dict:
    order = list(df.unit_name)
    n = len(order)
    k = len(risky)
    top = lambda m: set(order[:m])  # noqa: E731
    labels = np.array([u in risky for u in order])
    scores = df.score.to_numpy()
    pos, neg = scores[labels], scores[~labels]
    auc = float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum())
                / (len(pos) * len(neg))) if len(pos) and len(neg) else None
    by_unit = df.set_index("unit_name")
    rows = []
    for st in stories:
        u = st["unit_name"]
        if u in by_unit.index:
            r = by_unit.loc[u]
            rows.append({"story": st["id"], "type": st["type"], "unit_name": u, "rank": int(r["rank"]),
                         "score": round(float(r["score"]), 1), "grade": r["grade"],
                         "rank_p05": None if np.isnan(r["rank_p05"]) else float(r["rank_p05"]),
                         "rank_p95": None if np.isnan(r["rank_p95"]) else float(r["rank_p95"])})
        else:
            rows.append({"story": st["id"], "type": st["type"], "unit_name": u, "rank": None, "score": None,
                         "grade": None, "rank_p05": None, "rank_p95": None})
    return {
        "grain": grain, "period": period, "units": n, "k": k,
        "precision_at_k": round(len(top(k) & risky) / k, 3) if k else None,
        "precision_at_10": round(len(top(10) & risky) / min(10, n), 3) if n else None,
        "recall_red_orange": round(sum(1 for r in rows if r["unit_name"] in risky and r["grade"] in ("红", "橙"))
                                   / k, 3) if k else None,
        "auc": None if auc is None else round(auc, 3),
        "decoy_ranks": [r["rank"] for r in rows if r["unit_name"] in decoys],
        "stories": rows,
    }


def print_evaluation(result: dict) -> None:
    """Per judged period, one table: each planted story's unit with its rank, interval, score and grade,
    under a title with the detection figures, all in the team's words."""
    from rich.console import Console
    from rich.table import Table

    from pipelines import vocabulary
    from pipelines.board.periods import period_zh

    con = Console()
    if not con.is_terminal:
        con.width = 120  # logs and pipes: room for the title and the stories on one line each
    for p in result["periods"]:
        t = Table(title=f"合成县检验 · {vocabulary.word('grain', p['grain'])} {period_zh(p['period'])}：埋设风险单位{p['k']}个，"
                        f"前{p['k']}名命中率{_pct(p['precision_at_k'])}，前10名命中率{_pct(p['precision_at_10'])}，"
                        f"AUC {_num(p['auc'])}，评为红/橙的比例{_pct(p['recall_red_orange'])}（{p['units']}个单位）",
                  caption="埋设的风险情形由合成数据生成器写入 truth.json，计算时不读取；干扰项应排在后面。",
                  caption_justify="left")
        for col in ("情形", "类型", "单位", "名次", "名次区间", "指数", "等级"):
            t.add_column(col, justify="right" if col in ("名次", "名次区间", "指数") else "left",
                         overflow="fold" if col in ("类型", "单位") else "ellipsis")
        for r in p["stories"]:
            interval = vocabulary.DASH if r["rank_p05"] is None else f"{r['rank_p05']:.0f}–{r['rank_p95']:.0f}"
            t.add_row(r["story"], vocabulary.word("story_type", r["type"]), r["unit_name"],
                      vocabulary.DASH if r["rank"] is None else str(r["rank"]), interval,
                      vocabulary.DASH if r["score"] is None else f"{r['score']:.1f}", r["grade"] or vocabulary.DASH)
        con.print(t)
    if result.get("checks"):
        con.print("等级规则检查（违反次数，均应为0）：" + "，".join(
            f"{vocabulary.word('rule_check', k)} {v}" for k, v in result["checks"].items()))


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def _num(v) -> str:
    return "—" if v is None else f"{v:.2f}"
