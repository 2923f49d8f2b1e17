"""Learning from the records (scikit-learn): where rules run out, models offer signals to examine, never verdicts.

  texts.py        Chinese text → masked, normalised character n-gram and jieba word TF-IDF features
  classifier.py   topic classifier: train, evaluate against baselines, apply, persist (`zhengtai classify`)
  sources.py      labelled texts from a spreadsheet or a warehouse table
  petitions.py    inside `zhengtai build`: predicted categories for petitions recorded as 其他 or without one
  anomalies.py    unusual units: isolation forest on robust-scaled unit-period indicator vectors (异常模式)
  typologies.py   units grouped by dimension profile, k chosen by silhouette and stability, named from centres
  clues.py        one pseudonymised person across ledgers within a window (analysts only)
  validation.py   indicators and the composite checked against next-period outcomes (time-split AUC, logit)
  signals.py      runs the above in the build and writes their result tables
Every model is deterministic (fixed random_state) and every output carries its quality.
"""
