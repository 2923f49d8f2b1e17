"""Masking personal names and numbers in ledger text, in layers, before anything is stored.

Every text cell of every ledger (free text, 职务, remarks, unmapped columns kept for rejected rows) goes
through the same masker:

1. numbers in any common writing — mobiles and landlines with spaces, dashes, brackets or +86, ID numbers
   with spaces, bank cards, e-mail addresses, WeChat/QQ ids and short numbers after 电话/手机;
2. every name known to the warehouse: a text substring whose keyed pseudonym is one of the pseudonyms in
   the person columns (this batch's and every earlier one's). Candidates are the 2-4 character runs that
   start with a surname; matching by pseudonym means no list of clear names is ever stored;
3. names by context: after 我叫/举报人/来访人 …, before or after a title (局长张三, 王书记) or a kinship word
   (其妻李某), and names that jieba's segmenter finds as unknown words starting with a surname.

Names become their pseudonym in brackets ([P…], the same as in the person columns, so an analyst can
link the text to the record); a surname used alone (王书记, 老李) becomes [某]. Matching runs on a
normalised copy (full-width folded, spaces inside names dropped); the stored text is otherwise exactly as
written. Work is done once per distinct text, and the costly layers only on texts that hold a surname.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing as mp
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.dictionary import _load_yaml
from pipelines.privacy import Pseudonymiser
from pipelines.settings import DATA_DIR

# ------------------------------------------------------------------------------------------ numbers
_SEP = r"[ \-\u2010-\u2015]?"  # one optional space or dash between digit groups
_NUMBER_PATTERNS: list[tuple[str, str]] = [
    ("[邮箱]", r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
    ("[微信号]", r"(?:(?<=微信)|(?<=微信号)|(?<=QQ)|(?<=qq)|(?<=QQ号))[:：号 ]*[A-Za-z0-9_\-]{5,20}"),
    # ID numbers: 18 characters (the last may be X), unbroken or grouped 6-8-4 / 6-4-4-4 / 3-3-4-4-4; old 15-digit ones.
    ("[身份证号]", r"(?<![0-9])(?:\d{6}" + _SEP + r"\d{8}" + _SEP + r"\d{3}[0-9Xx]"
                   r"|\d{6}" + _SEP + r"\d{4}" + _SEP + r"\d{4}" + _SEP + r"\d{3}[0-9Xx]"
                   r"|\d{3}" + _SEP + r"\d{3}" + _SEP + r"\d{4}" + _SEP + r"\d{4}" + _SEP + r"\d{3}[0-9Xx]"
                   r"|\d{15})(?![0-9Xx])"),
    # Bank cards: 16-19 digits, unbroken or in groups of four.
    ("[银行卡号]", r"(?<![0-9])(?:\d{4}(?:" + _SEP + r"\d{4}){3}(?:" + _SEP + r"\d{1,3})?|\d{16,19})(?![0-9])"),
    # Mobiles: 1[3-9]x with an optional +86/0086/86 prefix, grouped 3-4-4, 3-3-5, 4-3-4 or unbroken.
    ("[电话]", r"(?<![0-9])(?:(?:\+|00)?86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"\d{4}" + _SEP + r"\d{4}"
               r"|\d" + _SEP + r"\d{3}" + _SEP + r"\d{4}|" + _SEP + r"\d{3}" + _SEP + r"\d{5})(?![0-9])"),
    # Landlines with an area code: 0731-84561234, (0731)8888 6666, 0731 8888-6666.
    ("[电话]", r"(?<![0-9])(?:\(0\d{2,3}\)|0\d{2,3})" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}(?![0-9])"),
    # Short numbers only where the text says they are a phone: 电话 8888 6666, 手机：6123456.
    ("[电话]", r"(?:(?<=电话)|(?<=手机)|(?<=座机)|(?<=号码)|(?<=联系方式)|(?<=[Tt]el)|(?<=TEL))[:：是为 ]*\+?\d[\d \-]{5,20}\d(?![0-9]|[ \-][0-9])"),
]
_NUMBERS = re.compile("|".join(f"(?P<n{i}>{p})" for i, (_, p) in enumerate(_NUMBER_PATTERNS)))
_NUMBER_LABELS = {f"n{i}": label for i, (label, _) in enumerate(_NUMBER_PATTERNS)}
_HAS_DIGITS = re.compile(r"\d{5}|\d[ \-]\d|@")
# Runs of digits with their separators: the patterns above are tried only around these (and everywhere when the
# text has @, 微信 or QQ), not at every character of the text.
_CLUSTER = re.compile(r"\d[\d \-\u2010-\u2015()]*\d[Xx]?")

_HAN = r"\u3400-\u9fff"


@dataclass(frozen=True)
class Vocabulary:
    """data/privacy.yaml and data/surnames.txt, compiled."""

    surnames: frozenset[str]
    compound: tuple[str, ...]
    before: tuple[str, ...]
    titles: tuple[str, ...]
    kinship: tuple[str, ...]
    org_endings: frozenset[str]
    stop_chars: frozenset[str]
    not_alone: frozenset[str]
    given: frozenset[str]
    patterns: dict = field(default_factory=dict, compare=False, hash=False)


@functools.lru_cache(maxsize=2)
def vocabulary(data_dir: Path = DATA_DIR) -> Vocabulary:
    spec = _load_yaml(data_dir / "privacy.yaml")
    single, compound = set(), []
    for line in (data_dir / "surnames.txt").read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        (single.add(s) if len(s) == 1 else compound.append(s))
    v = Vocabulary(
        surnames=frozenset(single), compound=tuple(sorted(compound, key=len, reverse=True)),
        before=tuple(spec["before_name"]), titles=tuple(spec["titles"]), kinship=tuple(spec["kinship"]),
        org_endings=frozenset(spec["org_endings"]), stop_chars=frozenset(spec["stop_chars"]),
        not_alone=frozenset(spec["not_surname_alone"]),
        given=frozenset("".join(str(spec["given_name_chars"]).split())),
    )
    alt = lambda words: "|".join(sorted({re.escape(w) for w in words}, key=len, reverse=True))  # noqa: E731
    sur = "|".join(re.escape(c) for c in v.compound) + "|[" + "".join(sorted(v.surnames)) + "]"
    han = f"[{_HAN}]"
    v.patterns.update(
        # the gate of the name layers: a single surname (compound surnames mostly start with one too)
        surname_char=re.compile("[" + "".join(sorted(v.surnames)) + "]"),
        # the text before a name ends with a trigger word, maybe a colon: 我叫 | 举报人： | 其妻子 | 局长
        trigger_end=re.compile(f"(?:{alt(v.before + v.kinship + v.titles)})[:：是为 ]?$"),
        # 老王, 小李: a surname after 老/小, then no more Chinese (or a function character)
        familiar=re.compile(f"(?:(?<=老)|(?<=小))(?P<name>[{''.join(sorted(v.surnames))}])(?=$|[^{_HAN}]|[在和说也都就又还曾已被把让的经带])"),
        listed_before=re.compile(f"(?P<name>(?:{sur}){han}{{1,2}})(?=[、和与及])"),
        title_word=re.compile(f"(?:常务副|副|代)?(?:{alt(v.titles)})"),
    )
    return v


# Full-width forms and the ideographic and no-break spaces fold one character to one (NFKC), so folding them
# keeps every position: a translate table does it at C speed.
_FOLD_TABLE = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFF5F)}
_FOLD_TABLE.update({0x3000: " ", 0x00A0: " "})
_HAN_SPACE_HAN = re.compile(r"(?<=[" + _HAN + r"])\s+(?=[" + _HAN + "])")


def _fold(text: str) -> tuple[str, list[int] | None]:
    """The text as matched (full-width folded, spaces between Chinese characters dropped) and, when positions
    moved, the original index of every matched character."""
    folded = text.translate(_FOLD_TABLE)
    if not _HAN_SPACE_HAN.search(folded):
        return folded, None
    where = [i for i, ch in enumerate(folded)
             if not (ch.isspace() and 0 < i < len(folded) - 1 and _is_han(folded[i - 1]) and _is_han(folded[i + 1]))]
    return "".join(folded[i] for i in where), where


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def mask_numbers(text: str) -> str:
    """Identifiers and contact numbers in any common writing replaced by a label ([电话], [身份证号] …)."""
    if text is None:
        return text
    folded, where = _fold(text)
    spans = _number_spans(folded)
    return _apply(text, where, [(s, e, label) for s, e, label in spans])


_SEPARATORS = {cp: None for cp in map(ord, " -()\u2010\u2011\u2012\u2013\u2014\u2015")}


def _by_shape(cluster: str) -> str | None:
    """The label of a run of digits whose length and leading digits alone say what it is (the common case,
    decided without the patterns); None sends the run to the full patterns."""
    x = cluster[-1] in "Xx"
    digits = (cluster[:-1] if x else cluster).translate(_SEPARATORS)
    if not digits.isdigit():
        return None
    n = len(digits)
    if x:
        return "[身份证号]" if n == 17 else None
    if n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "[电话]"
    if (n == 13 and digits.startswith("861") and digits[3] in "3456789") or (n == 15 and digits.startswith("00861")):
        return "[电话]"
    if n == 18 or (n == 15 and digits[0] != "0"):
        return "[身份证号]"
    if 16 <= n <= 19:
        return "[银行卡号]"
    if 10 <= n <= 12 and digits[0] == "0":
        return "[电话]"
    return None


def mask_numbers_many(values: list[str | None]) -> list[str | None]:
    """mask_numbers over many texts at once (one pass over the texts joined by a NUL)."""
    present = [v for v in values if v]
    if not present:
        return list(values)
    joined = "\x00".join(v.replace("\x00", "") for v in present)
    spans = _number_spans(joined.translate(_FOLD_TABLE))
    masked = iter(_apply(joined, None, spans).split("\x00") if spans else [v.replace("\x00", "") for v in present])
    return [next(masked) if v else v for v in values]


_PSEUDONYM = re.compile(r"\[[PIT][0-9a-f]{16}\]")


def _number_spans(folded: str) -> list[tuple[int, int, str]]:
    """Spans of identifiers and contact numbers in the folded text (never inside a pseudonym already there)."""
    if "[" in folded:
        folded = _PSEUDONYM.sub(lambda m: "[" + "#" * 17 + "]", folded)  # same length: positions hold
    if "@" in folded or "微信" in folded or "QQ" in folded or "qq" in folded:
        return [(m.start(), m.end(), _NUMBER_LABELS[m.lastgroup]) for m in _NUMBERS.finditer(folded)]
    spans = []
    for m in _CLUSTER.finditer(folded):
        a, b = m.start(), m.end()
        if b - a < 6:
            continue
        label = _by_shape(m.group())
        if label is not None:
            if a and folded[a - 1] in "+(":
                a -= 1  # +86 …, (0731) …
            spans.append((a, b, label))
        else:  # an unusual shape: two numbers in one run, odd grouping, a short number after 电话
            spans += [(x.start(), x.end(), _NUMBER_LABELS[x.lastgroup]) for x in _NUMBERS.finditer(folded, max(0, a - 6), b)]
    return spans


def _apply(text: str, where: list[int] | None, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (in folded coordinates) of the original text."""
    if not spans:
        return text
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out, pos, last_end = [], 0, -1
    for s, e, label in spans:
        if s < last_end:
            continue  # overlaps a span already replaced
        a, b = (s, e) if where is None else (where[s], where[e - 1] + 1)
        if a < pos:
            continue
        out.append(text[pos:a])
        out.append(label)
        pos, last_end = b, e
    out.append(text[pos:])
    return "".join(out)


# ------------------------------------------------------------------------------------------ names

class _Segmenter:
    """jieba, loaded on first use (a second or two): its dictionary ships with the package."""

    CACHE = 500_000  # blocks kept

    def __init__(self) -> None:
        self._jieba = None
        self._blocks: dict[str, list[str]] = {}

    def cut(self, text: str) -> list[str]:
        """jieba.lcut(text), block by block: jieba cuts the text at every character outside its word pattern and
        segments each block on its own, so a block (a clause, mostly) seen before is not segmented again."""
        self.ready()
        out: list[str] = []
        blocks = self._blocks
        for blk in self._jieba.re_han_default.split(text):
            if not blk:
                continue
            got = blocks.get(blk)
            if got is None:
                got = self._jieba.lcut(blk)
                if len(blocks) < self.CACHE:
                    blocks[blk] = got
            out += got
        return out

    def ready(self) -> None:
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            self._jieba = jieba

    def freq(self, word: str) -> int:
        """How often jieba's dictionary has seen the word (0 when unknown)."""
        return (self._jieba.dt.FREQ.get(word) or 0) if self._jieba else 0


_SEGMENTER = _Segmenter()


class TextMasker:
    """Masks names and numbers in text; `known` holds the pseudonyms of every person in the warehouse."""

    def __init__(self, pseudo: Pseudonymiser, known: set[str] | None = None, data_dir: Path = DATA_DIR):
        self.pseudo = pseudo
        self.known: set[str] = set(known or ())
        self.v = vocabulary(data_dir)
        block = pseudo.key if len(pseudo.key) <= 64 else hashlib.sha256(pseudo.key).digest()
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._pid_cache: dict[str, str] = {}
        self.added: list[str] = []  # pseudonyms that add_names made known, in order (see Ingester.finish)
        # first characters a known name may start with: the single surnames and those of the names seen in clear
        # (compound surnames mostly start with a single one; 第五, 上官 … count once a name with them is seen)
        self.first_chars: set[str] = set(self.v.surnames)
        self._compound_by_first: dict[str, list[str]] = {}
        for c in self.v.compound:
            self._compound_by_first.setdefault(c[0], []).append(c)

    # -- pseudonyms
    def pid(self, name: str) -> str:
        """The person pseudonym of a (space-free) name, as zt_pid_person computes it in SQL."""
        got = self._pid_cache.get(name)
        if got is None:
            inner = self._inner.copy()
            inner.update(name.encode("utf-8"))
            outer = self._outer.copy()
            outer.update(inner.digest())
            got = "P" + outer.hexdigest()[:16]
            if len(self._pid_cache) < 2_000_000:
                self._pid_cache[name] = got
        return got

    def add_names(self, names) -> None:
        """Names from person columns (cells may list several: 张三、李四)."""
        for cell in names:
            if not cell:
                continue
            for part in re.split(r"[、,，;；/|\s]+(?=\S{2})", str(cell)):
                name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", part))
                if len(name) >= 2:
                    self._know(name)
            whole = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(cell)))
            if len(whole) >= 2:
                self._know(whole)

    def _know(self, name: str) -> None:
        pid = self.pid(name)
        if pid not in self.known:
            self.known.add(pid)
            self.added.append(pid)
        self.first_chars.add(name[0])

    def mask_known(self, text: str, pids: set[str]) -> str:
        """Only the names among `pids` masked (text already masked otherwise)."""
        folded, where = _fold(text)
        spans, n = [], len(folded)
        i = 0
        while i < n:
            hit = None
            if folded[i] in self.first_chars:
                for length in (4, 3, 2):
                    j = i + length
                    if j <= n and _all_han(folded, i, j) and self.pid(folded[i:j]) in pids:
                        hit = (i, j, f"[{self.pid(folded[i:j])}]")
                        break
            if hit:
                spans.append(hit)
                i = hit[1]
            else:
                i += 1
        return _apply(text, where, spans)

    # -- masking
    def mask(self, text: str | None, names: bool = True) -> str | None:
        if text is None or text == "":
            return text
        folded, where = _fold(text)
        spans = _number_spans(folded)
        if names and (self.v.patterns["surname_char"].search(folded) or (self.known and not self.first_chars.isdisjoint(folded))):
            spans += self._name_spans(folded, spans)
        return _apply(text, where, spans)

    def _compound_at(self, s: str, i: int) -> str | None:
        for c in self._compound_by_first.get(s[i], ()):
            if s.startswith(c, i):
                return c
        return None

    def _name_spans(self, s: str, taken: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        v, pat = self.v, self.v.patterns
        n = len(s)
        spans: list[tuple[int, int, str]] = []
        blocked = bytearray(n)
        for a, b, _ in taken:
            blocked[a:b] = b"\x01" * (b - a)

        def free(a: int, b: int) -> bool:
            return not any(blocked[a:b])

        def add(a: int, b: int, label: str) -> None:
            spans.append((a, b, label))
            blocked[a:b] = b"\x01" * (b - a)

        # Layer 2: names the warehouse knows, matched by pseudonym, longest first at each surname.
        if self.known:
            for i, ch in enumerate(s):
                if blocked[i] or ch not in self.first_chars:
                    continue
                for length in (4, 3, 2):
                    j = i + length
                    if j <= n and free(i, j) and _all_han(s, i, j) and self.pid(s[i:j]) in self.known:
                        add(i, j, f"[{self.pid(s[i:j])}]")
                        break

        # Layer 3: names by context, then by jieba's segmentation. Candidates are scanned character by
        # character (jieba's unknown-word model sometimes glues a name to its neighbour: 人高玉珍, 夏立华未).
        tokens = _SEGMENTER.cut(s)
        token_at: dict[int, str] = {}
        ends, pos = set(), 0
        for t in tokens:
            token_at[pos] = t
            pos += len(t)
            ends.add(pos)

        def title_after(b: int) -> bool:
            m = pat["title_word"].match(s, b)
            return bool(m) and (m.end() in ends or m.end() >= n or not _is_han(s[m.end()]) or s[m.end()] in v.stop_chars)

        def context_before(a: int) -> bool:
            if pat["trigger_end"].search(s, max(0, a - 8), a) or (a > 0 and s[a - 1] in "员"):
                return True
            return a > 1 and s[a - 1] in "、和与及" and any(e == a - 1 and lab.startswith("[P") for _, e, lab in spans)

        for a in range(n):
            if blocked[a]:
                continue
            sur = self._compound_at(s, a) or (s[a] if s[a] in v.surnames else None)
            if sur is None:
                continue
            options = [a + len(sur) + g for g in (2, 1) if a + len(sur) + g <= n]
            ctx = context_before(a)
            chosen = None
            for b in options:
                cand = s[a:b]
                if not (free(a, b) and self._plausible(cand)):
                    continue
                freq = _SEGMENTER.freq(cand)
                name_like = self._name_like(cand)
                aligned = token_at.get(a) == cand
                if (ctx or title_after(b)) and name_like and freq < 1000 and not (not ctx and _looks_like_place(s, b)):
                    chosen = b
                elif aligned and name_like and (freq == 0 or (len(cand) == 3 and freq < 100)) and not _looks_like_place(s, b):
                    chosen = b
                elif (ctx or title_after(b)) and aligned and freq == 0:
                    chosen = b
                if chosen:
                    break
            if chosen is None and token_at.get(a) == sur and sur not in v.not_alone:
                # jieba left the surname alone and the given name is a word of its own: 聂 / 海军, 郭 / 振华
                u = token_at.get(a + len(sur))
                if u and 1 <= len(u) <= 2 and self._plausible(sur + u) and self._name_like(sur + u) \
                        and free(a, a + len(sur) + len(u)) and not _looks_like_place(s, a + len(sur) + len(u)):
                    chosen = a + len(sur) + len(u)
            if chosen is not None:
                add(a, chosen, f"[{self.pid(s[a:chosen])}]")
            elif title_after(a + len(sur)) and sur not in v.not_alone and token_at.get(a) == sur \
                    and not (a > 0 and _SEGMENTER.freq(s[a - 1:a + len(sur)]) > 1000):
                add(a, a + len(sur), "[某]")  # a surname alone before a title: 王书记
        # a list whose later name was found: 郭振华、[董丽萍]
        for m in pat["listed_before"].finditer(s):
            a, b = m.start("name"), m.end("name")
            if free(a, b) and self._plausible(s[a:b]) and any(st == b + 1 and lab.startswith("[P") for st, _, lab in spans):
                add(a, b, f"[{self.pid(s[a:b])}]")
        for m in pat["familiar"].finditer(s):
            a, b = m.start("name"), m.end("name")
            if free(a, b) and _SEGMENTER.freq(s[a - 1:b]) < 1000:
                add(a, b, "[某]")
        return spans

    def _name_like(self, cand: str) -> bool:
        sur = self._compound_at(cand, 0) or cand[:1]
        return all(ch in self.v.given for ch in cand[len(sur):])

    def _plausible(self, cand: str) -> bool:
        """Surname + one or two given characters, none a stop character, not ending like a place."""
        v = self.v
        if not cand or not _all_han(cand, 0, len(cand)):
            return False
        sur = self._compound_at(cand, 0) or (cand[0] if cand[0] in v.surnames else None)
        if sur is None:
            return False
        given = cand[len(sur):]
        if not 1 <= len(given) <= 2 or "某" in given:
            return False
        if any(ch in v.stop_chars for ch in given) or given[-1] in v.org_endings:
            return False
        return True

    def mask_many(self, values: list[str], names: bool = True) -> list[str]:
        """mask() over many texts: numbers in one pass over the texts joined (a NUL, which no cell holds after
        reading, keeps them apart), names only for the texts that could hold one."""
        if not values:
            return []
        joined = "\x00".join(values)
        folded = joined.translate(_FOLD_TABLE)  # position-preserving: spans apply to the original
        spans = _number_spans(folded) if _HAS_DIGITS.search(folded) else []
        out = _apply(joined, None, spans).split("\x00") if spans else list(values)
        if names:
            # which texts could hold a name: a vectorised test (RE2 in Arrow) instead of one per text in Python
            chars = self.first_chars if self.known else self.v.surnames
            gate = pc.match_substring_regex(pa.array(out, pa.string()), "[" + "".join(sorted(chars)) + "]")
            todo = pc.indices_nonzero(pc.fill_null(gate, False)).to_pylist()
            for i, text in zip(todo, self._mask_names([out[i] for i in todo])):
                out[i] = text
        return out

    def _mask_names(self, texts: list[str]) -> list[str]:
        """mask(names=True) of each text; many texts are shared among worker processes (forked: they start with
        this masker's state, so each text is masked exactly as here)."""
        n = workers()
        if n <= 1 or len(texts) < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
            return [self.mask(t, names=True) for t in texts]
        global _FORKED
        _SEGMENTER.ready()  # loaded once here, not once per worker
        _FORKED = self
        try:
            size = -(-len(texts) // (4 * n))
            with mp.get_context("fork").Pool(n) as pool:
                parts = pool.map(_mask_names_chunk, [texts[i:i + size] for i in range(0, len(texts), size)])
        finally:
            _FORKED = None
        return [t for part in parts for t in part]

    def mask_column(self, col: pa.ChunkedArray | pa.Array, names: bool = True) -> pa.ChunkedArray:
        """A text column masked once per distinct value."""
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if col.null_count == len(col):
            return pa.chunked_array([col])
        distinct = pc.unique(col).drop_null()
        values = distinct.to_pylist()
        masked = self.mask_many(values, names)
        if masked == values:
            return pa.chunked_array([col])
        idx = pc.index_in(col, value_set=distinct)
        return pa.chunked_array([pc.take(pa.array(masked, pa.string()), idx)])


PARALLEL_MIN = 20_000  # texts to mask by name before worker processes pay for themselves
_FORKED: TextMasker | None = None  # the masker a forked worker inherited


def workers() -> int:
    """Processes that mask text: ZHENGTAI_WORKERS, else one per core."""
    value = os.environ.get("ZHENGTAI_WORKERS", "")
    return max(1, int(value)) if value.isdigit() else (os.cpu_count() or 1)


def _mask_names_chunk(texts: list[str]) -> list[str]:
    return [_FORKED.mask(t, names=True) for t in texts]


def _all_han(s: str, a: int, b: int) -> bool:
    return all("\u3400" <= ch <= "\u9fff" for ch in s[a:b])


_PLACE_AFTER = re.compile(r"(?:村|镇|乡|县|市|区|路|街|社区|小学|中学|湾|庄|屯|山|河|湖|桥|园|小区|公司|集团|酒店|宾馆|饭店)")


def _looks_like_place(s: str, end: int) -> bool:
    """A word followed by 村/镇/路 … names a place (刘家村, 黄山路), not a person."""
    return bool(_PLACE_AFTER.match(s, end))
