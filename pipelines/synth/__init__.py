"""Synthetic ledgers for development, tests and benchmarks: `generate(scale, seed, out)`."""

from pipelines.synth.generator import SCALES, generate

__all__ = ["SCALES", "generate"]
