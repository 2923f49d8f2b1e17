"""A text classifier the team trains on its own history (问题类别, 四风 subtype, any labelled topic column).

Model: masked, normalised text → character 1–3-grams and jieba words, TF-IDF per block (texts.py) → a linear
support-vector machine (one-vs-rest) → probabilities by temperature scaling fitted on out-of-fold decisions
(scikit-learn's CalibratedClassifierCV, ensemble=False: one model on all data, calibrated on cross-validated
scores). Deterministic: every split and solver takes `random_state`.

Persistence is numbers, not pickles: a saved model is one .npz of arrays (vocabulary keys, idf, coefficients,
intercepts, temperature) and a JSON header (format, zhengtai and scikit-learn versions, settings, classes,
the SHA-256 of the training data, its evaluation), loaded with allow_pickle=False, so a model file cannot run
code and does not depend on the scikit-learn version that trained it.

Quality is measured, never assumed: `evaluate` runs stratified k-fold (and a time split where dates exist)
against a majority-class baseline and a reference model (scikit-learn's character 1–3-gram TF-IDF + LinearSVC,
the usual first attempt), all on the same folds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines import __version__
from pipelines.errors import UserError
from pipelines.ml import texts as text_mod
from pipelines.ml.texts import Block, TextFeatures

FORMAT = "zhengtai-text-classifier/1"


@dataclass(frozen=True)
class Settings:
    char_ngrams: int = 3          # character 1..n-grams
    min_df: int = 2               # a character n-gram or word must occur in this many training texts
    word_weight: float = 0.5      # weight of the word block beside the character block
    C: float = 0.5                # LinearSVC regularisation (smaller = smoother)
    calibration_folds: int = 5    # folds of the out-of-fold decisions the temperature is fitted on
    min_examples: int = 3         # a class needs this many usable texts to be learned
    review_below: float = 0.6     # a prediction less probable than this is listed for review
    conventions: bool = True      # learn 问题类别 with their definitions (data/petition_conventions.yaml) too
    random_state: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "Settings":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Prepared:
    """Texts after masking and normalisation, which ones carry anything, and the labels."""

    texts: pa.Array
    usable: np.ndarray
    labels: np.ndarray | None


def prepare(texts, labels=None) -> Prepared:
    norm = text_mod.normalise(text_mod.mask(texts))
    usable = text_mod.informative(norm)
    lab = None
    if labels is not None:
        lab = np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
                        for v in labels], dtype=object)
        lab[lab == ""] = None
    return Prepared(norm, usable, lab)


def data_hash(texts, labels) -> str:
    """SHA-256 of the training texts and labels, in order: says exactly what a model learned from."""
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(("" if t is None else str(t)).encode("utf-8") + b"\x1f" + ("" if y is None else str(y)).encode("utf-8") + b"\x1e")
    return h.hexdigest()


@dataclass
class Model:
    features: TextFeatures
    classes: list[str]
    coef: np.ndarray            # classes × features (one row for two classes: the second class's side)
    intercept: np.ndarray
    temperature: float          # probabilities = softmax(temperature · decision)
    settings: Settings
    meta: dict = field(default_factory=dict)

    # -- prediction ---------------------------------------------------------------------------------------------
    def decision(self, X) -> np.ndarray:
        d = np.asarray(X @ self.coef.T) + self.intercept
        return np.column_stack([-d[:, 0], d[:, 0]]) if len(self.classes) == 2 else d

    def predict_proba(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities (texts × classes) and whether each text had anything to classify."""
        p = prepare(texts)
        return self.proba_prepared(p.texts), p.usable

    def proba_prepared(self, norm: pa.Array) -> np.ndarray:
        logits = self.temperature * self.decision(self.features.transform(norm))
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT, "settings": asdict(self.settings), "classes": self.classes,
                  "temperature": self.temperature, "char_ngrams": self.features.char_ngrams,
                  "min_df": self.features.min_df, "word_weight": self.features.word_weight,
                  "words": self.features.words.names, **self.meta}
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
                char_keys=self.features.chars.keys, char_idf=self.features.chars.idf,
                word_keys=self.features.words.keys, word_idf=self.features.words.idf,
                coef=self.coef, intercept=self.intercept)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Model":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(bytes(z["header"]).decode("utf-8"))
                arrays = {k: z[k] for k in ("char_keys", "char_idf", "word_keys", "word_idf", "coef", "intercept")}
        except FileNotFoundError:
            raise UserError(f"model {path} not found: train one with `zhengtai classify train --model {path}`") from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            raise UserError(f"{path} is not a zhengtai text model: train one with `zhengtai classify train`") from None
        if header.get("format") != FORMAT:
            raise UserError(f"{path} is a model of format {header.get('format')!r}, this zhengtai reads {FORMAT}; retrain it")
        feats = TextFeatures(char_ngrams=header["char_ngrams"], min_df=header["min_df"],
                             word_weight=header["word_weight"],
                             chars=Block(arrays["char_keys"], arrays["char_idf"]),
                             words=Block(arrays["word_keys"], arrays["word_idf"], header["words"]))
        meta = {k: v for k, v in header.items()
                if k not in ("format", "settings", "classes", "temperature", "char_ngrams", "min_df", "word_weight", "words")}
        return cls(feats, header["classes"], arrays["coef"], arrays["intercept"], float(header["temperature"]),
                   Settings.from_dict(header["settings"]), meta)


# -- training ---------------------------------------------------------------------------------------------------

def learnable(p: Prepared, settings: Settings) -> tuple[np.ndarray, list[str]]:
    """Rows to learn from (usable text, a label, a class with enough examples) and one line per problem skipped."""
    notes = []
    labelled = np.array([v is not None for v in p.labels])
    empty = labelled & ~p.usable
    if empty.any():
        notes.append(f"{int(empty.sum())} 条文本为空或只有标点，未用于训练 (texts empty or punctuation only, skipped)")
    rows = labelled & p.usable
    classes, counts = np.unique(p.labels[rows].astype(str), return_counts=True)
    small = classes[counts < settings.min_examples]
    if len(small):
        detail = "、".join(f"{c}({n})" for c, n in zip(classes, counts) if c in set(small))
        notes.append(f"类别 {detail} 样本少于 {settings.min_examples} 条，未学习 (classes with fewer than "
                     f"{settings.min_examples} examples are not learned: merge them or label more)")
        rows &= ~np.isin(p.labels.astype(str), small)
    kept = np.unique(p.labels[rows].astype(str))
    if len(kept) < 2:
        raise UserError(f"need at least two classes with {settings.min_examples}+ usable texts each to learn from, "
                        f"found {len(kept)}: label more texts or check --label")
    return rows, notes


def conventions(classes: set[str], path: Path | None = None) -> tuple[list[str], list[str]]:
    """The definitions of the learned classes from data/petition_conventions.yaml, as (texts, labels), when the
    labels are that file's categories (at least two of them); else nothing."""
    import yaml

    from pipelines.settings import DATA_DIR

    path = path or DATA_DIR / "petition_conventions.yaml"
    if not path.exists():
        return [], []
    cats = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("categories", {})
    shared = [c for c in cats if c in classes]
    if len(shared) < 2:
        return [], []
    pairs = [(str(t), c) for c in shared for t in cats[c]]
    return [t for t, _ in pairs], [c for _, c in pairs]


def fit(norm: pa.Array, labels: np.ndarray, settings: Settings) -> Model:
    """Fit features and the calibrated linear model on prepared, learnable rows (plus the categories'
    definitions when the labels are 问题类别 and settings.conventions is on)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    y = labels.astype(str)
    prior_texts, prior_labels = conventions(set(y)) if settings.conventions else ([], [])
    if prior_texts:
        norm = pa.concat_arrays([norm.cast(pa.large_string()),
                                 text_mod.normalise(text_mod.mask(prior_texts)).cast(pa.large_string())])
        y = np.concatenate([y, np.asarray(prior_labels, dtype=str)])
    feats = TextFeatures(char_ngrams=settings.char_ngrams, min_df=settings.min_df, word_weight=settings.word_weight)
    X = feats.fit_transform(norm)
    classes, counts = np.unique(y, return_counts=True)
    folds = int(min(settings.calibration_folds, counts.min()))
    svm = LinearSVC(C=settings.C, random_state=settings.random_state)
    if folds >= 2:
        cal = CalibratedClassifierCV(svm, method="temperature", ensemble=False,
                                     cv=StratifiedKFold(folds, shuffle=True, random_state=settings.random_state))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal.fit(X, y)
        inner = cal.calibrated_classifiers_[0]
        # the inner estimator saw encoded labels: the names are the calibrated model's classes_
        est, names, temperature = inner.estimator, cal.classes_, float(np.asarray(inner.calibrators[0].beta_))
    else:  # pragma: no cover - learnable() guarantees min_examples ≥ 2 per class
        est = svm.fit(X, y)
        names, temperature = est.classes_, 1.0
    return Model(feats, [str(c) for c in names], np.asarray(est.coef_, dtype=np.float64),
                 np.asarray(est.intercept_, dtype=np.float64), temperature, settings,
                 {"convention_texts": len(prior_texts)})


def train(texts, labels, settings: Settings = Settings(), *, source: dict | None = None) -> tuple[Model, list[str]]:
    """Learn from labelled texts; the model carries its version, settings and the hash of its data."""
    p = prepare(texts, labels)
    rows, notes = learnable(p, settings)
    model = fit(p.texts.filter(pa.array(rows)), p.labels[rows], settings)
    counts = dict(zip(*np.unique(p.labels[rows].astype(str), return_counts=True)))
    model.meta = {**model.meta, "zhengtai_version": __version__, "sklearn_version": _sklearn_version(),
                  "trained_at": dt.datetime.now().replace(microsecond=0).isoformat(),
                  "data_sha256": data_hash(texts, labels), "n_texts": int(rows.sum()),
                  "class_counts": {str(k): int(v) for k, v in counts.items()}, "source": source or {}, "notes": notes}
    return model, notes


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


# -- evaluation -------------------------------------------------------------------------------------------------

def _reference_model(random_state: int):
    """The usual first attempt the product must beat: character 1–3-gram TF-IDF + LinearSVC, defaults."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), LinearSVC(random_state=random_state))


def _scores(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {"macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
            "accuracy": float(np.mean(y_true == y_pred)),
            "per_class": {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                              "f1": round(float(f[i]), 4), "support": int(s[i])} for i, c in enumerate(labels)}}


def _majority(y_train: np.ndarray, n: int) -> np.ndarray:
    vals, counts = np.unique(y_train, return_counts=True)
    return np.full(n, vals[np.argmax(counts)], dtype=object)


def _ece(proba: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: how far stated confidence is from observed accuracy, weighted by bin size."""
    conf = proba.max(axis=1)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def evaluate(texts, labels, *, dates=None, folds: int = 5, settings: Settings = Settings(),
             reference: bool = True) -> dict:
    """Macro-F1 and per-class precision/recall by stratified k-fold and, with dates, by a time split; against a
    majority baseline and the reference model on the same folds. Features are refitted inside every fold."""
    from sklearn.model_selection import StratifiedKFold

    if folds < 2:
        raise UserError(f"--folds must be at least 2 (got {folds})")
    p = prepare(texts, labels)
    rows, notes = learnable(p, settings)
    idx = np.flatnonzero(rows)
    y = p.labels[idx].astype(str)
    raw = np.array(["" if t is None else str(t) for t in texts], dtype=object)[idx]
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < folds:
        notes.append(f"最少的类别只有 {counts.min()} 条，少于 {folds} 折 (smallest class has fewer texts than folds; "
                     "some folds miss it)")
    labels_ = [str(c) for c in classes]
    pred = np.empty(len(idx), dtype=object)
    base = np.empty(len(idx), dtype=object)
    ref = np.empty(len(idx), dtype=object)
    proba = np.zeros((len(idx), len(labels_)))
    skf = StratifiedKFold(folds, shuffle=True, random_state=settings.random_state)
    norm = p.texts.take(pa.array(idx))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr, te in skf.split(np.zeros(len(y)), y):
            m = fit(norm.take(pa.array(tr)), y[tr], settings)
            pr = m.proba_prepared(norm.take(pa.array(te)))
            pred[te] = np.asarray(m.classes, dtype=object)[pr.argmax(axis=1)]
            col = [labels_.index(c) for c in m.classes]
            proba[np.ix_(te, col)] = pr
            base[te] = _majority(y[tr], len(te))
            if reference:
                ref[te] = _reference_model(settings.random_state).fit(raw[tr], y[tr]).predict(raw[te])
    out = {"n_texts": int(len(idx)), "folds": folds, "classes": labels_, **_scores(y, pred, labels_),
           "baseline_macro_f1": _scores(y, base, labels_)["macro_f1"],
           "reference_macro_f1": _scores(y, ref, labels_)["macro_f1"] if reference else None,
           "expected_calibration_error": round(_ece(proba, pred == y), 4),
           "review_share": round(float(np.mean(proba.max(axis=1) < settings.review_below)), 4),
           "notes": notes, "time_split": None}
    if dates is not None:
        out["time_split"] = _time_split(p, rows, np.asarray(dates, dtype="datetime64[D]"), raw, settings, reference)
    return out


def _time_split(p: Prepared, rows: np.ndarray, dates: np.ndarray, raw_kept: np.ndarray, settings: Settings,
                reference: bool) -> dict | None:
    """Train on the earliest 80% of dated texts, test on the rest: how the model ages. Labels the training
    part never saw count as errors and are named."""
    ok = rows & ~np.isnat(dates)
    idx = np.flatnonzero(ok)
    if len(idx) < 20:
        return None
    cut = np.sort(dates[idx])[int(0.8 * len(idx))]
    tr, te = idx[dates[idx] < cut], idx[dates[idx] >= cut]
    y_tr, y_te = p.labels[tr].astype(str), p.labels[te].astype(str)
    if len(te) == 0 or len(np.unique(y_tr)) < 2:
        return None
    m = fit(p.texts.take(pa.array(tr)), y_tr, settings)
    pr = m.proba_prepared(p.texts.take(pa.array(te)))
    pred = np.asarray(m.classes, dtype=object)[pr.argmax(axis=1)]
    labels_ = sorted(set(y_tr) | set(y_te))
    unseen = sorted(set(y_te) - set(y_tr))
    res = {"train_until": str(cut), "n_train": int(len(tr)), "n_test": int(len(te)), **_scores(y_te, pred, labels_),
           "baseline_macro_f1": _scores(y_te, _majority(y_tr, len(te)), labels_)["macro_f1"],
           "unseen_labels": unseen}
    if reference:
        pos = {r: k for k, r in enumerate(np.flatnonzero(rows))}
        raw_tr = raw_kept[[pos[r] for r in tr]]
        raw_te = raw_kept[[pos[r] for r in te]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = _reference_model(settings.random_state).fit(raw_tr, y_tr).predict(raw_te)
        res["reference_macro_f1"] = _scores(y_te, ref, labels_)["macro_f1"]
    return res


# -- applying ---------------------------------------------------------------------------------------------------

@dataclass
class Predictions:
    label: np.ndarray           # predicted class, None where the text has nothing to classify
    probability: np.ndarray     # its calibrated probability (NaN where no prediction)
    review: np.ndarray          # listed for review: probability below the model's review threshold, or no text
    reason: np.ndarray          # why a row is listed for review (Chinese), '' otherwise


def apply(model: Model, texts) -> Predictions:
    proba, usable = model.predict_proba(texts)
    best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    label = np.asarray(model.classes, dtype=object)[best] if len(proba) else np.zeros(0, dtype=object)
    prob = proba.max(axis=1) if len(proba) else np.zeros(0)
    label = np.where(usable, label, None)
    prob = np.where(usable, prob, np.nan)
    low = usable & (prob < model.settings.review_below)
    from pipelines import vocabulary

    reason = np.where(~usable, vocabulary.word("learning_text", "review_empty"),
                      np.where(low, vocabulary.template("learning_text", "review_low",
                                                        threshold=f"{model.settings.review_below:.0%}"), ""))
    return Predictions(label, prob, ~usable | low, reason.astype(object))
