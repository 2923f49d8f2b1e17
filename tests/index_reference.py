"""Where COINr's ASEM reference files live (read in place, never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest


def asem_dir() -> Path:
    env = os.environ.get("ZHENGTAI_ASEM_DIR")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[1]
    candidates += [repo.parent / "shared" / "reference-data" / "coinr-asem",
                   Path("/work/shared/reference-data/coinr-asem")]
    for c in candidates:
        if (c / "ASEM_iData.csv").exists():
            return c
    pytest.fail(f"COINr ASEM reference data not found in {', '.join(map(str, candidates))}")


def asem() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = asem_dir()
    return pd.read_csv(d / "ASEM_iData.csv"), pd.read_csv(d / "ASEM_iMeta.csv")


def asem_ref(name: str) -> pd.DataFrame:
    return pd.read_csv(asem_dir() / name).set_index("uCode")
