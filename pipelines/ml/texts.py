"""Chinese free text into features, fast enough for a million petitions.

Steps, every one set-wise:
  1. masking: ID and phone numbers with the ingest's own masking (pipelines/ingest/masking.py), names already pseudonymised on ingest (`[P…]`) and the masks become one placeholder character each,
     so no identifier can become a feature or enter a saved model;
  2. normalisation: NFKC (full-width letters, digits and punctuation), lower case, digit runs → one `0`;
  3. character 1–3-grams, keyed exactly from Unicode code points (21 bits each) with numpy over the whole batch;
  4. words: the vocabulary is what jieba (with the dictionary it ships) segments in the training texts; in every
     text, training texts included, a vocabulary word counts wherever it occurs (jieba's "full mode" restricted to
     that vocabulary), found by hashing all 2–6-character windows with numpy. Segmenting a million texts with
     jieba itself takes over ten minutes on two cores; this takes well under one.
  5. TF-IDF per block (sublinear tf, smoothed idf, L2 rows), blocks side by side.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

# One character per kind of masked identifier: a name's pseudonym, a phone, an ID number.
PLACEHOLDERS = {"person": "\u24c5", "phone": "\u24c9", "id_number": "\u24be"}  # Ⓟ Ⓣ Ⓘ
_PSEUDONYM = r"\[[PIT][0-9a-f]{16}\]"
_WINDOW = 6            # longest word looked for
_BLOCK = 50_000        # texts per numpy batch: bounded memory at any number of texts
_BITS = 21             # a Unicode code point fits in 21 bits, so a 3-gram is an exact 63-bit key
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the rolling word hash


def mask(texts: list[str] | np.ndarray | pa.Array) -> pa.Array:
    """Texts with identifiers masked by the project's ingest masking, as an Arrow string array (NULL → '')."""
    from pipelines.ingest.masking import mask_numbers_many

    arr = pa.array(texts, type=pa.large_string()) if not isinstance(texts, pa.Array) else texts.cast(pa.large_string())
    col = pa.array(mask_numbers_many(pc.fill_null(arr, "").to_pylist()), pa.large_string())
    col = pc.replace_substring_regex(col, _PSEUDONYM.replace("[PIT]", "[P]"), PLACEHOLDERS["person"])
    col = pc.replace_substring(col, "[某]", PLACEHOLDERS["person"])
    col = pc.replace_substring_regex(col, _PSEUDONYM.replace("[PIT]", "[IT]"), PLACEHOLDERS["id_number"])
    for label in ("[电话]", "[邮箱]", "[微信号]"):
        col = pc.replace_substring(col, label, PLACEHOLDERS["phone"])
    for label in ("[身份证号]", "[银行卡号]"):
        col = pc.replace_substring(col, label, PLACEHOLDERS["id_number"])
    return col


def normalise(texts: pa.Array) -> pa.Array:
    """NFKC, lower case, digit runs folded to 0, whitespace dropped: what the features are counted on."""
    col = pc.utf8_normalize(pc.fill_null(texts, ""), "NFKC")
    col = pc.utf8_lower(col)
    col = pc.replace_substring_regex(col, r"\d+(\.\d+)?", "0")
    return pc.replace_substring_regex(col, r"\s+", "")


def informative(texts: pa.Array) -> np.ndarray:
    """Whether a normalised text has anything to classify: a letter, a digit or a Han character."""
    return np.asarray(pc.fill_null(pc.match_substring_regex(texts, r"[\p{L}\p{N}]"), False))


def _codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts' code points in one array with a 0 between texts, and each position's text index."""
    joined = "\x00".join(texts) + "\x00"
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    doc = np.cumsum(cps == 0) - (cps == 0)  # the separator belongs to the text before it
    return cps, doc


def _char_keys(cps: np.ndarray, doc: np.ndarray, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact keys of every character n-gram (n = 1..n_max ≤ 3) that stays inside one text."""
    keys, docs = [], []
    ok = cps != 0
    key = np.zeros(len(cps), dtype=np.uint64)
    valid = np.ones(len(cps), dtype=bool)
    for n in range(1, n_max + 1):
        m = len(cps) - n + 1
        key = (key[:m] << np.uint64(_BITS)) | cps[n - 1:n - 1 + m]
        valid = valid[:m] & ok[n - 1:n - 1 + m]
        keys.append(key[valid])
        docs.append(doc[:m][valid])
    return np.concatenate(keys), np.concatenate(docs)


def _window_hashes(cps: np.ndarray, doc: np.ndarray, lengths: range) -> tuple[np.ndarray, np.ndarray]:
    """Rolling 64-bit hashes of every window of the given lengths inside one text."""
    keys, docs = [], []
    ok = cps != 0
    h = np.zeros(len(cps), dtype=np.uint64)
    valid = np.ones(len(cps), dtype=bool)
    with np.errstate(over="ignore"):
        for n in range(1, max(lengths) + 1):
            m = len(cps) - n + 1
            h = h[:m] * _MULT + cps[n - 1:n - 1 + m] + np.uint64(n)
            valid = valid[:m] & ok[n - 1:n - 1 + m]
            if n in lengths:
                keys.append(h[valid])
                docs.append(doc[:m][valid])
    return np.concatenate(keys), np.concatenate(docs)


def word_hash(words: list[str]) -> np.ndarray:
    """The rolling hash of whole words, as _window_hashes computes it for a window holding the word."""
    out = np.empty(len(words), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k, w in enumerate(words):
            h = np.uint64(0)
            for n, ch in enumerate(w, start=1):
                h = h * _MULT + np.uint64(ord(ch)) + np.uint64(n)
            out[k] = h
    return out


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


_WORDLIKE = re.compile(r"^[\w\u4e00-\u9fff]+$")


def segment_vocabulary(texts: list[str], min_df: int) -> list[str]:
    """Words jieba finds in the (masked, normalised) training texts, two to six characters, in at least min_df texts."""
    jieba = _jieba()
    df: dict[str, int] = {}
    for t in texts:
        for w in set(jieba.lcut(t)):
            if 2 <= len(w) <= _WINDOW and _WORDLIKE.match(w) and not w.isdigit() \
                    and not any(ch in w for ch in PLACEHOLDERS.values()):
                df[w] = df.get(w, 0) + 1
    return sorted(w for w, n in df.items() if n >= min_df)


@dataclass
class Block:
    """One block of features: sorted keys, their idf and the names a reader sees (for explanations)."""

    keys: np.ndarray
    idf: np.ndarray
    names: list[str] = field(default_factory=list)


@dataclass
class TextFeatures:
    """Fitted featuriser: character n-gram and word blocks with their vocabularies and idf."""

    char_ngrams: int = 3
    min_df: int = 2
    word_weight: float = 1.0
    sublinear: bool = True        # tf → 1 + log(tf)
    chars: Block | None = None
    words: Block | None = None

    @property
    def n_features(self) -> int:
        return len(self.chars.keys) + len(self.words.keys)

    def feature_names(self) -> list[str]:
        return self.chars.names + self.words.names

    def fit_transform(self, texts: pa.Array) -> sp.csr_matrix:
        """Learn vocabularies and idf from normalised texts; the training matrix."""
        pylist = texts.to_pylist()
        cps, doc = _codepoints(pylist)
        n = len(pylist)
        ck, cd = _char_keys(cps, doc, self.char_ngrams)
        uniq, inverse = np.unique(ck, return_inverse=True)
        df = np.bincount(np.unique(cd * len(uniq) + inverse) % len(uniq), minlength=len(uniq))
        keep = df >= self.min_df
        self.chars = Block(uniq[keep], _idf(df[keep], n), _char_names(uniq[keep]))
        vocab = segment_vocabulary(pylist, self.min_df)
        wh = word_hash(vocab)
        order = np.argsort(wh, kind="stable")
        wh, vocab = wh[order], [vocab[i] for i in order]
        wh, first = np.unique(wh, return_index=True)  # a hash collision keeps one word (never seen in practice)
        vocab = [vocab[i] for i in first]
        counts = _count(*_window_hashes(cps, doc, range(2, _WINDOW + 1)), wh, n)
        wdf = np.asarray((counts > 0).sum(axis=0)).ravel()
        self.words = Block(wh, _idf(wdf, n), vocab)
        return self.transform(texts)

    def transform(self, texts: pa.Array) -> sp.csr_matrix:
        """TF-IDF rows for normalised texts, in batches of _BLOCK texts (bounded memory)."""
        parts = []
        for start in range(0, len(texts), _BLOCK):
            pylist = texts.slice(start, _BLOCK).to_pylist()
            cps, doc = _codepoints(pylist)
            n = len(pylist)
            c = _tfidf(_count(*_char_keys(cps, doc, self.char_ngrams), self.chars.keys, n), self.chars.idf,
                       self.sublinear)
            w = _tfidf(_count(*_window_hashes(cps, doc, range(2, _WINDOW + 1)), self.words.keys, n), self.words.idf,
                       self.sublinear)
            parts.append(sp.hstack([c, w * self.word_weight], format="csr"))
        if not parts:
            return sp.csr_matrix((0, self.n_features))
        return sp.vstack(parts, format="csr")


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log((1.0 + n) / (1.0 + df)) + 1.0  # scikit-learn's smoothed idf


def _count(keys: np.ndarray, docs: np.ndarray, vocab: np.ndarray, n_docs: int) -> sp.csr_matrix:
    """Term counts: keys found in the sorted vocabulary, summed per (text, term)."""
    if len(vocab) == 0:
        return sp.csr_matrix((n_docs, 0))
    pos = np.searchsorted(vocab, keys)
    pos[pos == len(vocab)] = 0
    hit = vocab[pos] == keys
    m = sp.coo_matrix((np.ones(int(hit.sum()), dtype=np.float64), (docs[hit], pos[hit])),
                      shape=(n_docs, len(vocab)))
    return m.tocsr()  # sums duplicates


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    if sublinear:
        counts.data = 1.0 + np.log(counts.data)
    counts = counts @ sp.diags(idf)
    norm = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norm[norm == 0] = 1.0
    return sp.diags(1.0 / norm) @ counts


def _char_names(keys: np.ndarray) -> list[str]:
    out = []
    mask = np.uint64((1 << _BITS) - 1)
    for k in keys:
        chars = []
        while k:
            chars.append(chr(int(k & mask)))
            k = k >> np.uint64(_BITS)
        out.append("".join(reversed(chars)))
    return out
