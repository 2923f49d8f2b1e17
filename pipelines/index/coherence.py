"""Statistical coherence of the framework (Handbook step 4/7; COINr get_corr, get_cronbach).

Correlations are Pearson, pairwise-complete (a pair of columns uses the units where both are
present). Cronbach's alpha uses the units with every child present (listwise), as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.index.weighting import pairwise_corr


@dataclass
class Coherence:
    """within           aggregate code -> correlation matrix (DataFrame) of its children
    with_parent      per code (indicators and aggregates below the top): correlation with its parent
    with_index       per code: correlation with the top-level index
    cronbach_alpha   per aggregate: Cronbach's alpha of its children (NaN with < 2 children or
                     < 2 complete units)"""

    within: dict[str, pd.DataFrame]
    with_parent: pd.Series
    with_index: pd.Series
    cronbach_alpha: pd.Series


def cronbach_alpha(block: np.ndarray) -> float:
    """alpha = k / (k - 1) * (1 - sum of item variances / variance of the item total), over the units with every
    item present. Items that do not vary (a column at one value up to float noise) say nothing about consistency
    and are left out: kept, their float noise could push alpha past its bound of 1 (an all-but-constant block
    gave 4/3). NaN with fewer than two varying items or units; never above 1 (it may be negative)."""
    block = np.asarray(block, dtype=float)
    block = block[~np.isnan(block).any(axis=1)]
    if block.shape[0] < 2:
        return float("nan")
    var = block.var(axis=0, ddof=1)
    scale = np.max(np.abs(block)) if block.size else 0.0
    block = block[:, var > (1e-9 * max(scale, 1.0)) ** 2]
    n, k = block.shape
    if k < 2 or n < 2:
        return float("nan")
    item_var = block.var(axis=0, ddof=1).sum()
    total_var = block.sum(axis=1).var(ddof=1)
    if not total_var > 0:
        return float("nan")
    return float(min(1.0, k / (k - 1) * (1 - item_var / total_var)))


def _corr_pair(a: np.ndarray, b: np.ndarray) -> float:
    return float(pairwise_corr(np.column_stack([a, b]))[0, 1])


def coherence(result_or_data, meta: pd.DataFrame | None = None, settings=None) -> Coherence:
    """Coherence of an IndexResult (or of compute(data, meta, settings))."""
    from pipelines.index.engine import IndexResult, compute

    res = result_or_data if isinstance(result_or_data, IndexResult) else compute(result_or_data, meta, settings)
    fw = res.framework
    allv = res.aggregated
    top = allv[fw.top].to_numpy()
    parent = fw.parent_map()
    within, alpha = {}, {}
    for lv in fw.levels:
        block = allv[list(lv.children)].to_numpy()
        r = pairwise_corr(block)
        for k, p in enumerate(lv.parents):
            idx = np.flatnonzero(lv.parent_of == k)
            kids = [lv.children[i] for i in idx]
            within[p] = pd.DataFrame(r[np.ix_(idx, idx)], index=kids, columns=kids)
            alpha[p] = cronbach_alpha(block[:, idx])
    codes = [c for c in allv.columns if c != fw.top]
    with_parent = pd.Series({c: _corr_pair(allv[c].to_numpy(), allv[parent[c]].to_numpy()) for c in codes},
                            name="corr_with_parent")
    with_index = pd.Series({c: _corr_pair(allv[c].to_numpy(), top) for c in codes}, name="corr_with_index")
    return Coherence(within, with_parent, with_index, pd.Series(alpha, name="cronbach_alpha"))
