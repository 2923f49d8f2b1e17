"""The learned signals of a build: run every model of pipelines/ml on a build's results and ledgers.

`run` reads the build's indicator values, scores and catalogue (from the staged tables while a build is in
progress, `suffix`), and writes unit_anomalies, unit_typologies, typology_models, person_clues,
person_clue_records, indicator_validation, petition_predictions and learning_models (learning.sql) with the
same suffix, so they are swapped in with the rest of the build, all or nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from pipelines import vocabulary
from pipelines.errors import UserError
from pipelines.settings import DATA_DIR

TABLES = ("unit_anomalies", "unit_typologies", "typology_models", "person_clues", "person_clue_records",
          "indicator_validation", "petition_predictions", "learning_models")
SETTINGS_PATH = DATA_DIR / "learning.yaml"


def load_settings(path: Path | None = None) -> dict:
    path = Path(path) if path else SETTINGS_PATH
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UserError(f"learning settings {path} not found") from None
    except yaml.YAMLError as exc:
        raise UserError(f"learning settings {path} is not valid YAML: {str(exc).splitlines()[0]}") from None


def _insert(con, table: str, suffix: str, build_id: str, df: pd.DataFrame, json_cols=()) -> None:
    if df is None or len(df) == 0:
        return
    df = df.copy()
    for c in json_cols:
        df[c] = [json.dumps(v, ensure_ascii=False) for v in df[c]]
    df.insert(0, "build_id", build_id)
    con.register("signal_rows", df)
    casts = ", ".join(f"{c}::JSON AS {c}" if c in json_cols else c for c in df.columns)
    con.execute(f"INSERT INTO {table}{suffix} BY NAME SELECT {casts} FROM signal_rows")
    con.unregister("signal_rows")


def run(con: duckdb.DuckDBPyConnection, build_id: str, suffix: str = "", settings: dict | None = None) -> dict:
    """Compute and write every learned signal; returns seconds per model and counts."""
    import sklearn.cluster  # noqa: F401  (load the OpenMP and BLAS runtimes first: threadpool_limits only
    import sklearn.ensemble  # noqa: F401   limits libraries already loaded; KMeans ran 100x slower unlimited)
    from threadpoolctl import threadpool_limits

    # Small matrices: BLAS and OpenMP threads cost more in synchronisation than they gain, above all on a
    # busy two-core machine.
    with threadpool_limits(limits=1):
        return _run(con, build_id, suffix, settings)


def _run(con, build_id, suffix, settings) -> dict:
    from pipelines.ml import anomalies, clues, petitions, typologies, validation

    cfg = settings if settings is not None else load_settings()
    rs = int(cfg.get("random_state", 0))
    timings, counts = {}, {}
    t = time.perf_counter()
    cat = con.execute(f"SELECT * FROM indicator_catalogue{suffix}").df()
    names = dict(zip(cat.indicator_id, cat.name_zh))
    scored = cat[~cat["context"].fillna(False).astype(bool)]
    dim_names = dict(zip(cat.dimension, cat.dimension_zh))
    models = []

    # 异常模式
    a_cfg = cfg.get("anomalies", {})
    frames = []
    for grain in a_cfg.get("grains", []):
        iv = con.execute(f"""SELECT period, unit_name, indicator_id, value FROM indicator_values{suffix}
                             WHERE grain = ? AND indicator_id IN (SELECT unnest(?))""",
                         [grain, list(scored.indicator_id)]).df()
        res = anomalies.detect(iv, names, trees=int(a_cfg.get("trees", 300)), share=float(a_cfg.get("share", 0.05)),
                               drivers=int(a_cfg.get("drivers", 3)), random_state=rs)
        if res is not None:
            frames.append(res.frame.assign(grain=grain))
            models.append({"model": "anomalies", "detail": {"grain": grain, **res.detail}})
    an = pd.concat(frames, ignore_index=True) if frames else None
    _insert(con, "unit_anomalies", suffix, build_id, an, ("drivers",))
    counts["anomalies"] = 0 if an is None else int(an.flagged.sum())
    timings["anomalies"] = round(time.perf_counter() - t, 3)

    # typologies
    t = time.perf_counter()
    ty_cfg = cfg.get("typologies", {})
    frames, tm = [], []
    for grain in ty_cfg.get("grains", []):
        sc = con.execute(f"""SELECT period, unit_name, level, score FROM unit_scores{suffix}
                             WHERE grain = ? AND level <> 'index'""", [grain]).df()
        res = typologies.cluster(sc, dim_names, k_min=int(ty_cfg.get("k_min", 2)), k_max=int(ty_cfg.get("k_max", 6)),
                                 seeds=int(ty_cfg.get("seeds", 5)), min_stability=float(ty_cfg.get("min_stability", 0.8)),
                                 lean=float(ty_cfg.get("lean", 0.5)), random_state=rs)
        if res is not None:
            frames.append(res.frame.assign(grain=grain))
            m = res.model
            tm.append({"grain": grain, "k": m["k"], "criterion": m["criterion"], "silhouette": m["silhouette"],
                       "stability": m["stability"], "candidates": m["candidates"], "centres": m["centres"]})
    _insert(con, "unit_typologies", suffix, build_id, pd.concat(frames, ignore_index=True) if frames else None)
    _insert(con, "typology_models", suffix, build_id, pd.DataFrame(tm), ("candidates", "centres"))
    counts["typology_grains"] = len(tm)
    timings["typologies"] = round(time.perf_counter() - t, 3)

    # 人员线索汇聚
    t = time.perf_counter()
    c_cfg = cfg.get("clues", {})
    people, records = clues.aggregate(con, window_days=int(c_cfg.get("window_days", 365)),
                                      min_sources=int(c_cfg.get("min_sources", 2)),
                                      min_records=int(c_cfg.get("min_records", 2)))
    _insert(con, "person_clues", suffix, build_id, people)
    _insert(con, "person_clue_records", suffix, build_id, records)
    counts["person_clues"] = int(len(people))
    timings["clues"] = round(time.perf_counter() - t, 3)

    # indicators against outcomes
    t = time.perf_counter()
    v_cfg = cfg.get("validation", {})
    forms = [str(f) for f in v_cfg.get("outcome_forms", ["2", "3", "4"])]
    outcomes = con.execute("""SELECT unit_name, coalesce(filed_date, closed_date) AS date FROM cases
                              WHERE CAST(form AS VARCHAR) IN (SELECT unnest(?))""", [forms]).df()
    dw = dict(zip(scored.dimension, scored.dimension_weight.fillna(1.0)))
    raw_w = {r.indicator_id: float(r.weight) * float(dw.get(r.dimension, 1.0)) for r in scored.itertuples()}
    tot = sum(raw_w.values()) or 1.0
    preds = ([validation.Predictor(i, "indicator", names[i], round(w / tot, 4)) for i, w in raw_w.items()]
             + [validation.Predictor(d, "dimension", dim_names[d]) for d in dict.fromkeys(scored.dimension)]
             + [validation.Predictor("index", "composite", vocabulary.word("learning_text", "composite_expert"))])
    directions = dict(zip(cat.indicator_id, cat.direction.astype(int)))
    vframes = []
    for grain in v_cfg.get("grains", []):
        iv = con.execute(f"SELECT period, unit_name, indicator_id, value FROM indicator_values{suffix} WHERE grain = ?",
                         [grain]).df()
        sc = con.execute(f"SELECT period, unit_name, level, score FROM unit_scores{suffix} WHERE grain = ?", [grain]).df()
        res = validation.validate(iv, sc, outcomes, preds, directions, grain, bootstrap=int(v_cfg.get("bootstrap", 200)),
                                  test_share=float(v_cfg.get("test_share", 0.4)), random_state=rs)
        if res is not None:
            vframes.append(res[0].assign(grain=grain))
            models.append({"model": "validation", "detail": {"grain": grain, "outcome_forms": forms, **res[1]}})
    _insert(con, "indicator_validation", suffix, build_id, pd.concat(vframes, ignore_index=True) if vframes else None)
    timings["validation"] = round(time.perf_counter() - t, 3)

    # predicted petition categories
    t = time.perf_counter()
    p_cfg = cfg.get("petition_categories", {})
    if p_cfg.get("enabled", True):
        pred, detail = petitions.predict(con, p_cfg, rs)
        _insert(con, "petition_predictions", suffix, build_id, pred)
        models.append({"model": "petition_category", "detail": detail})
        counts["predicted_categories"] = int(len(pred))
    timings["petition_categories"] = round(time.perf_counter() - t, 3)

    for m in models:
        m["detail"] = {**m["detail"], "random_state": rs}
    _insert(con, "learning_models", suffix, build_id, pd.DataFrame(models), ("detail",))
    return {"timings": timings, "counts": counts}
