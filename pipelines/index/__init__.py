"""Composite-indicator engine (JRC/OECD Handbook on Constructing Composite Indicators; checked against
COINr, the JRC's R package). Domain-free: give it a units x indicators table and a hierarchy.

Inputs (COINr conventions)
--------------------------
data  (iData)  DataFrame with a `uCode` column (unit code, read as text; or the index named uCode),
               one numeric column per indicator, optionally group columns (for group-mean imputation) and denominator
               columns (for denomination). Other columns are ignored.
meta  (iMeta)  DataFrame, one row per code, columns:
               Level      1 for indicators, 2.. for aggregates (the top code has the highest level)
               iCode      code, matching the indicator columns of `data`
               Parent     iCode of the aggregate one level up (empty/NA for the top code only)
               Direction  1 (higher = more) or -1 (higher = less) for indicators
               Weight     weight within the parent (only ratios within a parent matter)
               Type       Indicator | Aggregate | Group | Denominator (Group/Denominator rows just name
                          columns of `data`)
               Target     optional, per indicator, for normalise="target"
               Denominator optional, per indicator, the data column to divide by with denominate="meta"

API
---
IndexSettings(...)                      dataclass of every choice (see its docstring); .to_dict(),
                                        .to_json(), IndexSettings.from_dict(d) / .from_json(s),
                                        .replace(**changes). Defaults: no denomination, no screening,
                                        no imputation, no treatment, minmax 0-100, iMeta weights,
                                        arithmetic mean (also geometric, and generalised of order p).
compute(data, meta, settings=None) -> IndexResult
    .settings (dict), .treated, .normalised (units x indicators), .scores (units x aggregates, all
    levels, top code last), .ranks (1 = highest), .weights, .effective_weights (Series by iCode),
    .contributions (units x indicators; each row sums to the top score), .treatment (per-indicator log),
    .imputed (mask), .screened_out (units dropped by screening), .index (top score Series),
    .aggregated (normalised + scores, as COINr), .table(digits=None) (uCode, then score and rank of every
    aggregate, top first; with digits, ranks of the rounded scores, ties sharing the best rank).
uncertainty(data, meta, settings=None, n_draws=1000, weight_noise=0.25,
            normalisations=("minmax", "zscore"), aggregations=("arith", "geom"),
            leave_one_out=True, seed=0, keep_draws=True) -> UncertaintyResult
    .ranks (per unit: nominal, mean, p05, p50, p95), .sensitivity (index = factor in weights,
    normalisation, aggregation, exclusion; columns first_order and total share of rank variance),
    .sensitivity_by_unit (units x factors), .loo_shift (units x indicators: rank with the indicator
    left out minus nominal rank), .loo_summary (mean/max absolute shift per indicator), .n_runs,
    .n_base, .draws (the sampled inputs per run), .rank_draws (runs x units, float32), .settings.
    Saltelli pick-freeze design: about n_draws runs in all (see pipelines/index/uncertainty.py).
coherence(result_or_data, meta=None, settings=None) -> Coherence
    .within (aggregate -> correlation matrix of its children), .with_parent, .with_index (Series per
    code), .cronbach_alpha (Series per aggregate).
assign_grades(scores, thresholds=None, quantiles=None, labels=("红", "橙", "黄", "绿"),
              higher_is_worse=True) -> Series of labels
ahp_weights(matrix, cr_max=0.1) -> (weights, lambda_max, CR); raises AHPInconsistencyError (a UserError).
entropy_weights(x), pca_weights(x), topsis(matrix, weights, types)
build_framework(meta) -> Framework      validated hierarchy (raises UserError with one line).

Steps and their COINr counterparts: Denominate -> Screen (units, byNA) -> Impute -> Treat -> Normalise ->
(weights) -> Aggregate (a_amean, a_gmean, a_genmean). Outlier treatment follows COINr's Treat() defaults, including its pass rule (an indicator
passes if |skew| < 2 OR kurtosis < 3.5); treat_rule="both" requires both.

All bad input (missing columns, Parent not in hierarchy, unknown method) raises
pipelines.errors.UserError with one clear line.
"""

from pipelines.index.aggregation import topsis
from pipelines.index.coherence import Coherence, coherence
from pipelines.index.engine import IndexResult, compute
from pipelines.index.framework import Framework, build_framework
from pipelines.index.grades import assign_grades
from pipelines.index.settings import IndexSettings
from pipelines.index.uncertainty import UncertaintyResult, uncertainty
from pipelines.index.weighting import AHPInconsistencyError, ahp_weights, entropy_weights, pca_weights

__all__ = [
    "AHPInconsistencyError",
    "Coherence",
    "Framework",
    "IndexResult",
    "IndexSettings",
    "UncertaintyResult",
    "ahp_weights",
    "assign_grades",
    "build_framework",
    "coherence",
    "compute",
    "entropy_weights",
    "pca_weights",
    "topsis",
    "uncertainty",
]
