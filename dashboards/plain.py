"""Ledger text shown as text, never as markup.

Unit names, team names, summaries and record details come from ledgers anyone in an office can type
into. Streamlit renders Markdown (GitHub-flavoured, plus its own shortcodes, colour directives, LaTeX,
autolinks and arrow replacements) in titles, captions, alerts, metrics and widget labels, and Plotly
renders a subset of HTML (links included) in every text of a figure. So every value from the data goes
through one of these two functions before it reaches such an element; tables (st.dataframe) and
widget options show text as text already and need neither.
"""

from __future__ import annotations

import html
import re

# U+2060 WORD JOINER: invisible, not whitespace, not a word character. Put after each escaped character
# it breaks the patterns Streamlit's renderer looks for in text after Markdown parsing has removed the
# backslashes (`http://` and `www.` autolinks, `:shortcode:`, `:material/…:`, ` -> ` arrows, e-mails).
_JOIN = "\u2060"
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")  # every ASCII punctuation character
_SPACE = re.compile(r"\s+")
_WW = re.compile(r"([wW])(?=[wW])")


def md(value) -> str:
    """`value` as literal text inside Markdown: every ASCII punctuation character backslash-escaped
    and followed by a word joiner, `www` split, whitespace (line breaks included) collapsed to one space."""
    text = _SPACE.sub(" ", "" if value is None else str(value))
    text = _PUNCT.sub(lambda m: "\\" + m.group(0) + _JOIN, text)
    return _WW.sub(lambda m: m.group(1) + _JOIN, text)


def plot(value) -> str:
    """`value` as literal text inside a Plotly figure (axis labels, hover text, legend names)."""
    return html.escape("" if value is None else str(value), quote=False)


def unjoin(text: str) -> str:
    """Displayed text without the invisible joiners (what a person reads; for tests and comparisons)."""
    return text.replace(_JOIN, "")
