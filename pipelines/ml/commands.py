"""CLI: `zhengtai classify train|evaluate|apply` — a text classifier trained on the team's own labelled records."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from pipelines.errors import UserError

_SOURCE = [
    click.option("--data", type=click.Path(dir_okay=False, path_type=Path), help="labelled spreadsheet or CSV"),
    click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="warehouse (reads a ledger table)"),
    click.option("--table", default="petitions", show_default=True, help="ledger table when reading --db"),
    click.option("--text", "text", help="text column(s), comma-separated, e.g. 反映内容 (--db default: content)"),
    click.option("--date", "date", help="date column for the time split (default: a date column if there is one)"),
]


def _source(f):
    for opt in reversed(_SOURCE):
        f = opt(f)
    return f


def _settings(**overrides):
    from pipelines.ml.classifier import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@click.group()
def classify() -> None:
    """Learn a category (问题类别, 四风类型, any labelled topic) from free text: train, evaluate, apply."""


@classify.command()
@_source
@click.option("--label", required=True, help="label column, e.g. 问题类别")
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="where to save the model (.npz)")
@click.option("--folds", type=int, default=5, show_default=True, help="folds of the evaluation stored with the model (0: none)")
@click.option("--review-below", type=float, help="list predictions less probable than this for review (default 0.6)")
def train(data, db, table, text, date, label, model_path, folds, review_below) -> None:
    """Train on labelled texts and save the model with its settings, data hash and evaluation."""
    from pipelines.ml import classifier, sources

    src = sources.load(data, db, table, text, label, date)
    settings = _settings(review_below=review_below)
    model, notes = classifier.train(src.texts, src.labels, settings,
                                    source={"origin": str(src.origin), "text": src.text_columns, "label": src.label_column})
    for n in notes:
        click.echo(f"注意 note: {n}", err=True)
    if folds:
        ev = classifier.evaluate(src.texts, src.labels, dates=src.dates, folds=folds, settings=settings)
        model.meta["evaluation"] = _summary(ev)
        click.echo(f"evaluation ({folds}-fold): macro-F1 {ev['macro_f1']:.3f}, majority baseline "
                   f"{ev['baseline_macro_f1']:.3f}, char TF-IDF + LinearSVC {ev['reference_macro_f1']:.3f}")
    path = model.save(model_path)
    click.echo(f"model saved: {path} ({len(model.classes)} classes, {model.meta['n_texts']} texts, "
               f"data sha256 {model.meta['data_sha256'][:12]})")


@classify.command()
@_source
@click.option("--label", required=True, help="label column, e.g. 问题类别")
@click.option("--folds", type=int, default=5, show_default=True, help="stratified k-fold")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-reference", is_flag=True, help="skip the char TF-IDF + LinearSVC reference model")
def evaluate(data, db, table, text, date, label, folds, fmt, no_reference) -> None:
    """Macro-F1 and per-class precision/recall (k-fold, and a time split where dates exist) against baselines."""
    from pipelines.ml import classifier, sources

    src = sources.load(data, db, table, text, label, date)
    ev = classifier.evaluate(src.texts, src.labels, dates=src.dates, folds=folds, settings=_settings(),
                             reference=not no_reference)
    if fmt == "json":
        click.echo(json.dumps(ev, ensure_ascii=False, indent=1, default=str))
        return
    for n in ev["notes"]:
        click.echo(f"注意 note: {n}", err=True)
    _print_evaluation(ev)


@classify.command()
@_source
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--label", help="recorded label column: compare predictions with it")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write predictions to .csv or .xlsx")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def apply(data, db, table, text, date, model_path, label, out, fmt) -> None:
    """Predict the category of every text, with its probability; low-confidence ones are marked for review."""
    import pandas as pd

    from pipelines.ml import classifier, sources

    model = classifier.Model.load(model_path)
    src = sources.load(data, db, table, text, label, date, need_label=False)
    pred = classifier.apply(model, src.texts)
    df = pd.DataFrame({"行": src.frame["key"], "预测类别": pred.label, "预测概率": pred.probability.round(3),
                       "需复核": pred.review, "说明": pred.reason})
    if label:
        recorded = src.frame["label"]
        df.insert(1, "登记类别", recorded)
        unseen = sorted({str(v) for v in recorded.dropna()} - set(model.classes))
        if unseen:
            click.echo(f"注意 note: 登记类别 {'、'.join(unseen)} 不在模型的类别中，这些行的预测必然不同 "
                       f"(labels the model never saw: {', '.join(unseen)})", err=True)
    if out:
        _write(df, out)
        click.echo(f"{len(df)} predictions, {int(df['需复核'].sum())} for review → {out}")
    elif fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", force_ascii=False, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"预测 predictions: {model_path.name} ({len(df)} texts, {int(df['需复核'].sum())} for review)")
        for c in df.columns:
            t.add_column(c)
        for row in df.head(200).itertuples(index=False):
            t.add_row(*["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row])
        Console(width=120).print(t)


def _write(df, out: Path) -> None:
    """Predictions name petitions and units: owner-only (0600) whatever the caller's umask."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"--out {out.name}: write .csv or .xlsx")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open
    with os.fdopen(fd, "wb") as fh:
        if suffix == ".csv":
            df.to_csv(fh, index=False, encoding="utf-8-sig")
        else:
            df.to_excel(fh, index=False)


def _summary(ev: dict) -> dict:
    keep = ("n_texts", "folds", "macro_f1", "accuracy", "baseline_macro_f1", "reference_macro_f1",
            "expected_calibration_error", "review_share", "per_class")
    out = {k: ev[k] for k in keep}
    if ev.get("time_split"):
        out["time_split"] = {k: ev["time_split"][k] for k in ("train_until", "n_test", "macro_f1", "baseline_macro_f1")}
    return out


def _print_evaluation(ev: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=110)
    t = Table(title=f"分类评估 {ev['folds']}-fold, {ev['n_texts']} texts")
    for c in ("类别 class", "精确率 precision", "召回率 recall", "F1", "样本 support"):
        t.add_column(c, justify="right" if c != "类别 class" else "left")
    for c, s in ev["per_class"].items():
        t.add_row(c, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
    console.print(t)
    ref = ev.get("reference_macro_f1")
    console.print(f"macro-F1 {ev['macro_f1']:.3f} · majority baseline {ev['baseline_macro_f1']:.3f}"
                  + (f" · char TF-IDF + LinearSVC {ref:.3f}" if ref is not None else "")
                  + f" · calibration error {ev['expected_calibration_error']:.3f}")
    ts = ev.get("time_split")
    if ts:
        console.print(f"time split (train before {ts['train_until']}, test {ts['n_test']} texts): macro-F1 "
                      f"{ts['macro_f1']:.3f} · majority {ts['baseline_macro_f1']:.3f}"
                      + (f" · unseen labels: {'、'.join(ts['unseen_labels'])}" if ts["unseen_labels"] else ""))


COMMANDS = [classify]
