"""What a user must never read: code identifiers, None / nan, midnight timestamps, raw JSON.

`problems(text)` lists every offence in a piece of user-facing text (a page, a report, an export); the
page, report and export tests assert it is empty. Codes are found two ways: the identifier shapes code
uses (snake_case, prefix:code) and every code the vocabulary and the catalogue know (petitions, quarter,
small_sample, case_rate …), matched as whole ASCII words.

Allowed ASCII, on purpose and kept short: names of file formats and products a user meets (Excel, Word,
PDF), the statistic's author (Cronbach), and record numbers as the ledgers write them (XF2024-0180: letters,
digits and hyphens, never underscores).
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from pipelines import vocabulary
from pipelines.settings import DATA_DIR

IDENTIFIER = re.compile(r"(?<![A-Za-z0-9\-])[A-Za-z][A-Za-z0-9]*(?:[_:][A-Za-z0-9]+)+(?![A-Za-z0-9])")
PERIOD_KEY = re.compile(r"(?<![0-9A-Za-z])(?:\d{4}[QH]\d|R12-\d{4}-\d{2})(?![0-9A-Za-z])")
NULLS = re.compile(r"(?<![A-Za-z])(?:None|nan|NaN|NaT|null|<NA>|true|false|True|False)(?![A-Za-z])")
MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]00:00:00")
RAW_JSON = re.compile(r"[\[{]\s*\"[^\"]+\"\s*:|\[\s*\{")
ALLOWED_WORDS = {"Excel", "Word", "PDF", "Cronbach", "OIDC", "Markdown"}


@lru_cache(maxsize=1)
def known_codes() -> frozenset[str]:
    """Every code the software keeps that is an ASCII word: vocabulary codes, indicator and dimension ids."""
    codes = set()
    for entries in vocabulary.vocabulary().values():
        codes |= {c for c in entries if re.fullmatch(r"[a-z][a-z0-9_]+", c)}
    cat = yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    codes |= {i["id"] for i in cat["indicators"]} | {d["id"] for d in cat["dimensions"]}
    return frozenset(codes)


def problems(text: str) -> list[str]:
    """Every offence in `text`, each with a little context."""
    found = []

    def note(kind: str, m: re.Match) -> None:
        lo, hi = max(0, m.start() - 20), min(len(text), m.end() + 20)
        found.append(f"{kind}: …{text[lo:hi]}…".replace("\n", " "))

    for kind, pattern in (("identifier", IDENTIFIER), ("period key", PERIOD_KEY), ("null", NULLS),
                          ("midnight", MIDNIGHT), ("raw JSON", RAW_JSON)):
        for m in pattern.finditer(text):
            note(kind, m)
    for m in re.finditer(r"(?<![A-Za-z0-9_\-])[a-z][a-z0-9_]+(?![A-Za-z0-9_\-])", text):
        if m.group(0) in known_codes() and m.group(0) not in ALLOWED_WORDS:
            note("code", m)
    return found
