"""`zhengtai index`: build a composite indicator from an iData CSV and an iMeta CSV."""

from __future__ import annotations

import click

from pipelines.errors import UserError

# The header row of each file is the first one that names this column; rows above it (a title, a note) are skipped.
HEADER_KEYS = {"data": "uCode", "meta": "iCode"}
HEADER_SEARCH_ROWS = 10


def _read_csv(path: str, what: str):
    """The CSV as a frame, its header found by name: files kept by hand often carry a title row or two above it."""
    import csv

    import pandas as pd

    key = HEADER_KEYS[what]
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), csv.reader(fh))]
    except FileNotFoundError:
        raise UserError(f"{what} file not found: {path}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read {what} CSV {path}: {str(exc).splitlines()[0]} (save it as UTF-8 CSV)") from None
    skip = next((i for i, row in enumerate(head) if key in (c.strip() for c in row)), None)
    if skip is None:
        raise UserError(f"{what} CSV {path} has no `{key}` column in its first {HEADER_SEARCH_ROWS} rows: "
                        f"name the column of {'unit codes' if what == 'data' else 'indicator codes'} {key}")
    try:
        df = pd.read_csv(path, skiprows=skip, keep_default_na=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {what} CSV {path}: {str(exc).splitlines()[0]}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def settings_from_options(normalise: str, aggregate: str, treat: str, impute: str, weights: str, *,
                          denominate: bool = False, screen: float | None = None, min_indicators: int | None = None,
                          p: float | None = None):
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
    extra = {} if p is None else {"p": p}
    return IndexSettings(normalise=normalise, aggregate=aggregate, treat=treat, impute=impute,
                         impute_group=group, weights=weights, denominate="meta" if denominate else None,
                         screen=screen, min_indicators=min_indicators, **extra)


@click.command("index")
@click.option("--data", "data_path", required=True,
              help="iData CSV: uCode + one column per indicator (title rows above the header are skipped).")
@click.option("--meta", "meta_path", required=True, help="iMeta CSV: Level, iCode, Parent, Direction, Weight, Type.")
@click.option("--denominate", is_flag=True,
              help="Divide each indicator by the data column its iMeta Denominator names (COINr Denominate).")
@click.option("--screen", type=float, default=None, metavar="SHARE",
              help="Drop units with less than SHARE (0-1] of their indicators present, before imputation.")
@click.option("--normalise", default="minmax", show_default=True,
              help="minmax | zscore | rank | percentile | target | none")
@click.option("--aggregate", default="arith", show_default=True, help="arith | geom | genmean (see --p)")
@click.option("--p", "p", type=float, default=None, help="Order of the generalised mean (--aggregate genmean).")
@click.option("--treat", default="none", show_default=True, help="none | winsorise | log")
@click.option("--impute", default="none", show_default=True, help="none | mean | median | zero | group-mean:COL")
@click.option("--weights", default="meta", show_default=True, help="meta | equal | entropy | pca")
@click.option("--min-indicators", type=int, default=None, metavar="N",
              help="Score only units with at least N indicators observed (the others get no score).")
@click.option("--round", "digits", type=int, default=None, metavar="D",
              help="Round scores to D decimals and rank on the rounded scores (ties share the best rank).")
@click.option("--out", "out_path", required=True, help="Results CSV: uCode, then score and rank of every level.")
def index(data_path, meta_path, denominate, screen, normalise, aggregate, p, treat, impute, weights,
          min_indicators, digits, out_path):
    """Composite index (JRC/OECD Handbook, COINr conventions): scores and ranks of every level.

    Steps in the JRC order: denominate, screen, impute, treat, normalise, weight, aggregate."""
    from pipelines.index.engine import compute

    if digits is not None and not 0 <= digits <= 15:
        raise UserError(f"--round takes 0 to 15 decimals, got {digits}")
    settings = settings_from_options(normalise, aggregate, treat, impute, weights, denominate=denominate,
                                     screen=screen, min_indicators=min_indicators, p=p)
    data = _read_csv(data_path, "data")
    meta = _read_csv(meta_path, "meta")
    result = compute(data, meta, settings)
    table = result.table(digits)
    try:
        table.to_csv(out_path, index=False, float_format="%.15g")
    except OSError as exc:
        raise UserError(f"cannot write {out_path}: {exc.strerror}") from None
    dropped = f"; screened out {len(result.screened_out)}: {', '.join(result.screened_out)}" \
        if result.screened_out else ""
    unscored = int(result.index.isna().sum())
    click.echo(f"{len(table)} units, {result.scores.shape[1]} aggregates -> {out_path}{dropped}"
               + (f"; {unscored} without a score" if unscored else ""))


COMMANDS = [index]
