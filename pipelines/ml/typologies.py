"""Typologies: units grouped by their dimension profile, each group named from its centre.

Per grain, every unit-period's dimension scores (0-100, higher = riskier) are pooled, so a type means the same
in every period and a unit can be seen moving between types. KMeans for k = k_min..k_max from several seeds;
the criterion: the largest silhouette among the k whose groups the seeds agree on (mean adjusted Rand index
≥ min_stability), so the number of groups is neither a guess nor an accident of one seed. A centre that leans
`lean` standard deviations (the dimensions' common spread) above the pooled mean on a dimension names its type
after that dimension
(信访高发型, 整改滞后型 …); a centre below the mean everywhere is 平稳型.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

# Type names by leading dimension; dimensions missing here are named "<dimension>突出型".
TYPE_NAMES = {
    "petitions": "信访高发型",
    "rectification": "整改滞后型",
    "style": "作风风险型",
    "key_few": "关键少数风险型",
    "discipline": "执纪问责高发型",
    "supervision": "谈话函询质效偏低型",
    "governance": "权力运行失范型",
    "special": "专项领域风险型",
}
CALM = "平稳型"
BROAD = "多维高风险型"


@dataclass
class Result:
    frame: pd.DataFrame       # period, unit_name, cluster, type_name, distance, margin
    model: dict               # k, criterion, silhouette, stability, candidates, centres


def _fit(X: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=3, random_state=seed).fit(X)


def choose(X: np.ndarray, k_min: int, k_max: int, seeds: int, min_stability: float, random_state: int) -> tuple[int, dict]:
    """k by the stated criterion; every candidate's silhouette and stability for the method page."""
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    cands = {}
    n_distinct = len(np.unique(X, axis=0))
    for k in range(k_min, min(k_max, n_distinct - 1) + 1):
        labels = [_fit(X, k, random_state + s).labels_ for s in range(seeds)]
        stab = float(np.mean([adjusted_rand_score(a, b) for a, b in combinations(labels, 2)])) if seeds > 1 else 1.0
        cands[k] = {"silhouette": round(float(silhouette_score(X, labels[0])), 4), "stability": round(stab, 4)}
    if not cands:
        return 0, cands
    stable = {k: v for k, v in cands.items() if v["stability"] >= min_stability}
    pool = stable or cands
    best = max(pool, key=lambda k: (pool[k]["silhouette"], -k))
    return best, cands


def name_centres(centres: np.ndarray, mean: np.ndarray, sd: np.ndarray, dims: list[str], dim_names: dict[str, str],
                 lean: float) -> list[str]:
    """One distinct name per centre from the dimensions it leans on most. Dimension scores share one 0-100 scale,
    so leaning is measured on one common spread: a dimension where every unit is alike cannot name a type by a
    few points' difference."""
    common = float(np.sqrt(np.mean(np.square(sd)))) or 1.0
    z = (centres - mean) / common
    names = []
    for row in z:
        high = [j for j in np.argsort(-row, kind="stable") if row[j] >= lean]
        if not high:
            base = CALM
        elif len(high) >= max(3, (len(dims) + 1) // 2):
            base = BROAD
        else:
            base = TYPE_NAMES.get(dims[high[0]], f"{dim_names.get(dims[high[0]], dims[high[0]])}突出型")
            if len(high) > 1 and base in names:
                second = TYPE_NAMES.get(dims[high[1]], dim_names.get(dims[high[1]], dims[high[1]]))
                base = base.removesuffix("型") + "·" + second
        name, n = base, 2
        while name in names:  # two centres alike: number them rather than merge them
            name, n = f"{base}（{n}）", n + 1
        names.append(name)
    return names


def cluster(frame: pd.DataFrame, dim_names: dict[str, str], *, k_min: int = 2, k_max: int = 6, seeds: int = 5,
            min_stability: float = 0.8, lean: float = 0.5, random_state: int = 0) -> Result | None:
    """frame: one grain's dimension scores (period, unit_name, level, score), the index level excluded."""
    wide = frame.pivot_table(index=["period", "unit_name"], columns="level", values="score", aggfunc="first")
    wide = wide.loc[:, wide.notna().any(axis=0)]
    if len(wide) < 10 or wide.shape[1] < 2:
        return None
    wide = wide.fillna(wide.median())
    X = wide.to_numpy(dtype=float)
    k, cands = choose(X, k_min, k_max, seeds, min_stability, random_state)
    if k < 2:
        return None
    km = _fit(X, k, random_state)
    dims = list(wide.columns)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    names = name_centres(km.cluster_centers_, mean, sd, dims, dim_names, lean)
    d = km.transform(X)
    own = d[np.arange(len(X)), km.labels_]
    other = np.where(np.eye(k, dtype=bool)[km.labels_], np.inf, d).min(axis=1)
    out = pd.DataFrame({"period": wide.index.get_level_values("period"), "unit_name": wide.index.get_level_values("unit_name"),
                        "cluster": km.labels_.astype(int), "type_name": np.asarray(names, dtype=object)[km.labels_],
                        "distance": own.round(2), "margin": (other - own).round(2)})
    sizes = np.bincount(km.labels_, minlength=k)
    stable = cands[k]["stability"] >= min_stability
    criterion = (f"k 取 {k_min}–{k_max} 中轮廓系数最高且 {seeds} 个随机种子分组一致（调整兰德指数≥{min_stability}）者"
                 if stable else f"各 k 的分组在随机种子间均不够一致（调整兰德指数<{min_stability}），取轮廓系数最高者，分型仅供参考")
    model = {"k": k, "criterion": criterion, "silhouette": cands[k]["silhouette"], "stability": cands[k]["stability"],
             "candidates": {str(kk): v for kk, v in cands.items()},
             "centres": [{"cluster": c, "type_name": names[c], "size": int(sizes[c]),
                          "scores": {dims[j]: round(float(km.cluster_centers_[c, j]), 1) for j in range(len(dims))}}
                         for c in range(k)]}
    return Result(out, model)
