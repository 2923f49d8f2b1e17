"""Does the ranking find the planted risk stories of a synthetic county (truth.json of `zhengtai generate`)?

Reported per judged period: precision@k (k = number of planted risky units, and 10), the rank, score,
grade and Monte Carlo rank interval of every planted unit, the decoy's rank (it should sit low), and the
ROC AUC of the index as a detector of risky units (decoy and ordinary units as negatives).
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
    finally:
        con.close()
    return {"truth": str(truth_path), "risky_units": sorted(risky), "decoy_units": sorted(decoys), "periods": judged}


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


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def _num(v) -> str:
    return "—" if v is None else f"{v:.2f}"
