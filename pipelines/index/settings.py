"""Every methodological choice of one index build, in one serialisable record.

An `IndexSettings` is stamped onto every result (`IndexResult.settings`) so a published score can be
traced to the exact recipe that made it. All fields are plain JSON types.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pipelines.errors import UserError

IMPUTATIONS = ("none", "mean", "median", "zero", "group-mean", "group-median")
TREATMENTS = ("none", "winsorise", "log")
NORMALISATIONS = ("minmax", "zscore", "rank", "percentile", "target", "excess", "none")
WEIGHTINGS = ("meta", "equal", "ahp", "entropy", "pca")
AGGREGATIONS = ("arith", "geom", "genmean")


@dataclass
class IndexSettings:
    """The recipe of a composite indicator, step by step (JRC/OECD Handbook order).

    Steps run in this order: denomination -> screening -> imputation -> outlier treatment -> normalisation
    -> weighting -> aggregation (level by level up the hierarchy).

    denominate       None (default, as COINr's ASEM example: raw indicators), "meta" (divide each
                     indicator by the column its iMeta `Denominator` names; indicators without one are
                     left alone), a column name (divide every indicator by it) or {indicator: column}.
    screen           None (default) or a share in (0, 1]: units with less than that share of their indicators
                     present (after denomination, before imputation: the JRC order, COINr Screen with
                     unit_screen = "byNA" and dat_thresh = share) are dropped from the results.
    min_indicators   None (default) or N >= 1: units with fewer than N indicators observed (before
                     imputation) keep their row but get no score at any level (too little data to rank).
    impute           "none" | "mean" | "median" | "zero" | "group-mean" | "group-median" (COINr i_mean,
                     i_median, i_mean_grp, i_median_grp). Group variants need `impute_group` (a group
                     column of the data); a unit whose whole group is missing stays missing, as in COINr.
    treat            "none" | "winsorise" (COINr Treat() default: winsorise one point at a time,
                     up to `winsorise_max` points, while the indicator fails the skew/kurtosis check; if it
                     still fails, log-transform the *original* values with COINr's log_CT instead)
                     | "log" (log_CT on every indicator: log(x - min + 0.01 (max - min))).
    treat_rule       "coinr" (default): an indicator passes if |skew| < skew_max OR kurtosis < kurt_max
                     (COINr check_SkewKurt); "both": it passes only if both hold (stricter reading of the
                     Handbook). Skewness and kurtosis are the bias-corrected (type 2, Excel) estimators.
    normalise        "minmax" to [bounds[0], bounds[1]]; "zscore" with mean zscore[0] and sd zscore[1]
                     (sample sd, as R); "rank" (average ranks, 1 = lowest, COINr n_rank); "percentile"
                     (COINr n_prank: (min-rank - 1)/(n - 1), mapped to bounds); "target" (COINr
                     n_dist2targ on the iMeta `Target` column, mapped to bounds, capped at the target when
                     `target_cap`). Direction is applied first (x * Direction), as COINr does; "target"
                     uses the direction inside its formula; "excess" (the excess over the median,
                     (x - median) / (max - median) mapped to bounds, values below the median at the lower
                     bound: for risk, where only what exceeds the norm is cause for attention); "none" (values as they are, direction applied:
                     for indicators already on a common scale).
    weights          "meta" (iMeta Weight column) | "equal" | "ahp" (pairwise matrices in `ahp`:
                     {aggregate code: {"children": [codes...], "matrix": [[...]]}}, Saaty CR must be
                     <= ahp_cr_max; aggregates without a matrix keep their iMeta weights) | "entropy" |
                     "pca" (data-driven methods are computed, for every aggregate, from the values of its
                     children at aggregation time). `weight_overrides` ({iCode: weight}) is applied last.
    aggregate        "arith" (weighted arithmetic mean) | "geom" (weighted geometric mean) | "genmean"
                     (weighted generalised mean of order `p`, COINr a_genmean; p > 1 lets a high child count
                     for more than its weight: partly non-compensatory, for risk). Missing
                     children are skipped and the others' weights renormalised (COINr a_amean/a_gmean).
    geom_zero        how the geometric mean copes with zeros: "shift" (default) computes
                     exp(sum w log(x - a + c)) + a - c, where a is the lower bound of the normalised
                     scale (bounds[0] for minmax/percentile/target, 1 for rank, and for zscore the lowest
                     value a sample z-score can take, m - s (n - 1)/sqrt(n), n = number of units) and
                     c = geom_shift (> 0); it keeps scores on the
                     same scale and never fails on zeros. "error" raises on values <= 0 (COINr behaviour).
    """

    denominate: None | str | dict[str, str] = None
    screen: float | None = None
    min_indicators: int | None = None
    impute: str = "none"
    impute_group: str | None = None
    treat: str = "none"
    treat_rule: str = "coinr"
    winsorise_max: int = 5
    skew_max: float = 2.0
    kurt_max: float = 3.5
    normalise: str = "minmax"
    bounds: tuple[float, float] = (0.0, 100.0)
    zscore: tuple[float, float] = (0.0, 1.0)
    target_cap: bool = True
    weights: str = "meta"
    ahp: dict[str, dict[str, Any]] = field(default_factory=dict)
    ahp_cr_max: float = 0.1
    weight_overrides: dict[str, float] = field(default_factory=dict)
    aggregate: str = "arith"
    geom_zero: str = "shift"
    geom_shift: float = 1.0
    p: float = 2.0

    def __post_init__(self) -> None:
        self.bounds = tuple(float(b) for b in self.bounds)  # JSON round trips give lists
        self.zscore = tuple(float(b) for b in self.zscore)
        self.validate()

    def validate(self) -> None:
        """Raise UserError (one line) on any unknown method or impossible parameter."""
        _choice("impute", self.impute, IMPUTATIONS)
        _choice("treat", self.treat, TREATMENTS)
        _choice("treat_rule", self.treat_rule, ("coinr", "both"))
        _choice("normalise", self.normalise, NORMALISATIONS)
        _choice("weights", self.weights, WEIGHTINGS)
        _choice("aggregate", self.aggregate, AGGREGATIONS)
        _choice("geom_zero", self.geom_zero, ("shift", "error"))
        if self.impute.startswith("group") and not self.impute_group:
            raise UserError(f"impute={self.impute!r} needs impute_group (the name of a group column)")
        if len(self.bounds) != 2 or not self.bounds[0] < self.bounds[1]:
            raise UserError(f"bounds must be (lower, upper) with lower < upper, got {self.bounds}")
        if len(self.zscore) != 2 or not self.zscore[1] > 0:
            raise UserError(f"zscore must be (mean, sd) with sd > 0, got {self.zscore}")
        if self.winsorise_max < 0:
            raise UserError("winsorise_max must be >= 0")
        if not (math.isfinite(float(self.p)) and float(self.p) >= 1):
            raise UserError(f"p (order of the generalised mean) must be a number >= 1, got {self.p}")
        if not self.geom_shift > 0:
            raise UserError("geom_shift must be > 0")
        if self.screen is not None and not 0 < float(self.screen) <= 1:
            raise UserError(f"screen must be a share of indicators in (0, 1], got {self.screen}")
        if self.min_indicators is not None and int(self.min_indicators) < 1:
            raise UserError(f"min_indicators must be at least 1, got {self.min_indicators}")
        if self.denominate is not None and not isinstance(self.denominate, (str, dict)):
            raise UserError("denominate must be None, 'meta', a column name or {indicator: column}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bounds"] = list(self.bounds)
        d["zscore"] = list(self.zscore)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IndexSettings":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(f"unknown index settings: {', '.join(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "IndexSettings":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> "IndexSettings":
        d = self.to_dict()
        d.update(changes)
        return IndexSettings.from_dict(d)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"unknown {name} method {value!r}; choose one of {', '.join(allowed)}")
