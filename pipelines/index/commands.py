"""`zhengtai index`: build a composite indicator from an iData CSV and an iMeta CSV."""

from __future__ import annotations

import click

from pipelines.errors import UserError


def _read_csv(path: str, what: str):
    import pandas as pd

    try:
        return pd.read_csv(path, keep_default_na=True)
    except FileNotFoundError:
        raise UserError(f"{what} file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {what} CSV {path}: {str(exc).splitlines()[0]}") from None


def settings_from_options(normalise: str, aggregate: str, treat: str, impute: str, weights: str):
    """CLI option strings -> IndexSettings (unknown methods raise UserError)."""
    from pipelines.index.settings import IndexSettings

    group = None
    if impute.startswith("group-mean") or impute.startswith("group-median"):
        method, _, group = impute.partition(":")
        if not group:
            raise UserError(f"--impute {method} needs a group column: {method}:COLUMN")
        impute = method
    elif ":" in impute:
        raise UserError(f"unknown impute method {impute!r}; choose none, mean, median, zero or group-mean:COL")
    if weights not in ("meta", "equal", "entropy", "pca"):
        raise UserError(f"unknown weights method {weights!r}; choose meta, equal, entropy or pca")
    return IndexSettings(normalise=normalise, aggregate=aggregate, treat=treat, impute=impute,
                         impute_group=group, weights=weights)


@click.command("index")
@click.option("--data", "data_path", required=True, help="iData CSV: uCode + one column per indicator.")
@click.option("--meta", "meta_path", required=True, help="iMeta CSV: Level, iCode, Parent, Direction, Weight, Type.")
@click.option("--normalise", default="minmax", show_default=True, help="minmax | zscore | rank | percentile | target")
@click.option("--aggregate", default="arith", show_default=True, help="arith | geom")
@click.option("--treat", default="none", show_default=True, help="none | winsorise | log")
@click.option("--impute", default="none", show_default=True, help="none | mean | median | zero | group-mean:COL")
@click.option("--weights", default="meta", show_default=True, help="meta | equal | entropy | pca")
@click.option("--out", "out_path", required=True, help="Results CSV: uCode, then score and rank of every level.")
def index(data_path, meta_path, normalise, aggregate, treat, impute, weights, out_path):
    """Composite index (JRC/OECD Handbook, COINr conventions): scores and ranks of every level."""
    from pipelines.index.engine import compute

    settings = settings_from_options(normalise, aggregate, treat, impute, weights)
    data = _read_csv(data_path, "data")
    meta = _read_csv(meta_path, "meta")
    result = compute(data, meta, settings)
    table = result.table()
    try:
        table.to_csv(out_path, index=False, float_format="%.15g")
    except OSError as exc:
        raise UserError(f"cannot write {out_path}: {exc.strerror}") from None
    click.echo(f"{len(table)} units, {result.scores.shape[1]} aggregates -> {out_path}")


COMMANDS = [index]
