"""Typologies: units grouped by their dimension profile, each group named from its centre.

Per grain, every unit-period's dimension scores (0-100, higher = riskier), taken relative to the county's mean
in the same period, are pooled, so a type means the same in every period and a unit can be seen moving between
types, while county-wide swings from one period to the next do not make types of their own. KMeans for k = k_min..k_max from several seeds;
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

from pipelines import vocabulary


def type_name(dimension: str, dim_names: dict[str, str]) -> str:
    """A type named by the dimension its centre leans on (data/vocabulary.yaml, group typology)."""
    names = vocabulary.words("typology")
    return names.get(dimension) or names["other"].format(name=dim_names.get(dimension, dimension))


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
    if len(X) > 10_000:  # at province scale k is chosen on a fixed sample; the final fit uses every point
        X = X[np.random.default_rng(random_state).choice(len(X), 10_000, replace=False)]
    n_distinct = len(np.unique(X, axis=0))
    for k in range(k_min, min(k_max, n_distinct - 1) + 1):
        labels = [_fit(X, k, random_state + s).labels_ for s in range(seeds)]
        stab = float(np.mean([adjusted_rand_score(a, b) for a, b in combinations(labels, 2)])) if seeds > 1 else 1.0
        # silhouette is quadratic in the points: a fixed sample of 4,000 keeps a province's build bounded
        sil = silhouette_score(X, labels[0], sample_size=min(len(X), 4000), random_state=random_state)
        cands[k] = {"silhouette": round(float(sil), 4), "stability": round(stab, 4)}
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
    calm, broad = vocabulary.word("typology", "calm"), vocabulary.word("typology", "broad")
    names = []
    for row in z:
        high = [j for j in np.argsort(-row, kind="stable") if row[j] >= lean]
        if not high:
            base = calm
        elif len(high) >= max(3, (len(dims) + 1) // 2):
            base = broad
        else:
            base = type_name(dims[high[0]], dim_names)
            if len(high) > 1 and base in names:
                base = base.removesuffix("型") + "·" + type_name(dims[high[1]], dim_names)
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
    # Profiles relative to the county in the same period: scores drift from period to period (the county as a
    # whole gets more petitions one quarter), and pooled raw scores would cluster periods, not units.
    periods = wide.index.get_level_values("period")
    X = (wide - wide.groupby(level="period").transform("mean")).to_numpy(dtype=float)
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
    out = pd.DataFrame({"period": periods, "unit_name": wide.index.get_level_values("unit_name"),
                        "cluster": km.labels_.astype(int), "type_name": np.asarray(names, dtype=object)[km.labels_],
                        "distance": own.round(2), "margin": (other - own).round(2)})
    sizes = np.bincount(km.labels_, minlength=k)
    stable = cands[k]["stability"] >= min_stability
    criterion = (vocabulary.template("learning_text", "typology_criterion", k_min=k_min, k_max=k_max, seeds=seeds,
                                     stability=min_stability) if stable
                 else vocabulary.template("learning_text", "typology_unstable", stability=min_stability))
    model = {"k": k, "criterion": criterion, "silhouette": cands[k]["silhouette"], "stability": cands[k]["stability"],
             "candidates": {str(kk): v for kk, v in cands.items()},
             "centres": [{"cluster": c, "type_name": names[c], "size": int(sizes[c]),
                          # centre: points above (+) or below (−) the county mean of the period, per dimension
                          "scores": {dims[j]: round(float(km.cluster_centers_[c, j]), 1) for j in range(len(dims))}}
                         for c in range(k)]}
    return Result(out, model)
