"""Method settings of a build (data/index_settings.yaml, optionally overlaid by the user's file)."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import UserError
from pipelines.settings import DATA_DIR

SETTINGS_PATH = DATA_DIR / "index_settings.yaml"
GRAINS = ("month", "quarter", "half", "year", "rolling12")


def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        where = f"{path}{key}"
        if key not in base:
            raise UserError(f"settings: unknown key {where!r}; known: {', '.join(sorted(base))}")
        if isinstance(base[key], dict) and isinstance(value, dict) and key != "ahp":
            out[key] = _merge(base[key], value, where + ".")
        else:
            out[key] = value
    return out


def _number(value: Any, where: str) -> float:
    try:
        return float(Fraction(str(value).replace(" ", "")))
    except (ValueError, ZeroDivisionError):
        raise UserError(f"settings: {where}: {value!r} is not a number (write 3 or 1/3)") from None


def _check_choice(value: Any, allowed: tuple, where: str) -> None:
    if value not in allowed:
        raise UserError(f"settings: {where} is {value!r}; choose one of {', '.join(map(str, allowed))}")


def load(path: str | Path | None = None) -> dict:
    """Defaults merged with the user's settings file; checked, with AHP fractions turned into numbers."""
    defaults = yaml.load(Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader), stream=SETTINGS_PATH.read_text(encoding="utf-8"))
    settings = defaults
    if path:
        p = Path(path)
        if not p.exists():
            raise UserError(f"settings file {p} not found")
        try:
            over = yaml.load(Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader), stream=p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"settings file {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(over, dict):
            raise UserError(f"settings file {p} must be a mapping")
        settings = _merge(defaults, over)
    for g in settings["grains"]:
        _check_choice(g, GRAINS, "grains")
    idx = settings["index"]
    _check_choice(idx["normalisation_basis"], ("panel", "period"), "index.normalisation_basis")
    _check_choice(idx["treat"], ("none", "winsorise", "log"), "index.treat")
    _check_choice(idx["normalise"], ("severity", "minmax", "zscore", "rank", "percentile", "excess"),
                  "index.normalise")
    _check_choice(idx["weights"], ("meta", "equal", "ahp", "entropy", "pca"), "index.weights")
    _check_choice(idx["aggregate"], ("arith", "geom", "genmean"), "index.aggregate")
    if not float(idx.get("p", 1)) >= 1:
        raise UserError(f"settings: index.p (order of the generalised mean) must be >= 1, got {idx.get('p')}")
    ahp = idx.get("ahp") or {}
    if ahp:
        matrix = [[_number(v, "index.ahp.matrix") for v in row] for row in ahp["matrix"]]
        if len(matrix) != len(ahp["dimensions"]) or any(len(r) != len(matrix) for r in matrix):
            raise UserError("settings: index.ahp.matrix must be square, one row per listed dimension")
        idx["ahp"] = {"dimensions": list(ahp["dimensions"]), "matrix": matrix}
    _check_choice(settings["missing"]["impute"], ("sector_median", "median"), "missing.impute")
    if not int(settings["missing"]["min_peers"]) >= 1:
        raise UserError("settings: missing.min_peers must be at least 1")
    for g in settings["grades"]["grains"]:
        _check_choice(g, GRAINS, "grades.grains")
    mr = settings["warnings"]["min_records"]
    if len(mr) != 3 or list(mr) != sorted(mr) or int(mr[0]) < 0:
        raise UserError("settings: warnings.min_records takes three ascending record counts (黄, 橙, 红), e.g. [1, 2, 3]")
    unc = settings["uncertainty"]
    for g in unc["grains"]:
        _check_choice(g, GRAINS, "uncertainty.grains")
    if int(unc["draws"]) < 0 or int(unc["periods"]) < 0:
        raise UserError("settings: uncertainty.draws and uncertainty.periods must be >= 0")
    for g in settings["warnings"]["grains"]:
        _check_choice(g, GRAINS, "warnings.grains")
    for g in settings["portraits"]["grains"]:
        _check_choice(g, GRAINS, "portraits.grains")
    for g in settings["contributions"]["grains"]:
        _check_choice(g, GRAINS, "contributions.grains")
    return settings
