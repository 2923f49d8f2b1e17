"""From the warehouse ledgers to indicators, composite scores, warnings, trends and unit portraits.

`build.build(db)` is the entry point (CLI: `zhengtai build`); the indicator catalogue lives in
data/indicators.yaml and the method settings in data/index_settings.yaml. The composite-index maths
(normalisation, weights, aggregation, Monte Carlo) is pipelines.index's; this package feeds it.
"""
