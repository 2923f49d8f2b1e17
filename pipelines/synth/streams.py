"""Seeded random streams: one independent generator per (seed, purpose, …) so that adding a stream
never shifts the numbers another part of the generator draws, and the same seed gives the same bytes."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *keys: object) -> np.random.Generator:
    """A generator for one purpose; keys are hashed stably (crc32), never with Python's salted hash()."""
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode("utf-8")) for k in keys]
    return np.random.default_rng(words)

