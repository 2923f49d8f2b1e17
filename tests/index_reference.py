"""Where COINr's reference files live: the inputs and R's outputs of the shared reference data are read in place
(never copied into the repository); the few small results the tests pin are in tests/reference (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "reference"


def _shared(name: str, probe: str, env: str) -> Path:
    """reference-data/<name> beside the checkout (in any folder above it), or where the environment says."""
    candidates = [Path(os.environ[env])] if os.environ.get(env) else []
    candidates += [up / "shared" / "reference-data" / name for up in REPO.parents]
    for c in candidates:
        if (c / probe).exists():
            return c
    pytest.fail(f"COINr reference data {name} not found; set {env} to its folder")


def asem_dir() -> Path:
    return _shared("coinr-asem", "ASEM_iData.csv", "ZHENGTAI_ASEM_DIR")


def asem() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = asem_dir()
    return pd.read_csv(d / "ASEM_iData.csv"), pd.read_csv(d / "ASEM_iMeta.csv")


def asem_ref(name: str) -> pd.DataFrame:
    return pd.read_csv(asem_dir() / name).set_index("uCode")


def coinr_full_dir() -> Path:
    """COINr's full example coin: iData, iMeta and every stage."""
    return _shared("coinr-full", "iData.csv", "ZHENGTAI_COINR_FULL_DIR")


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)
