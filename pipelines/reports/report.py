"""One report from a warehouse to a file: open → gather → compose → render → write atomically."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UserError

FORMATS = ("docx", "pdf", "html", "md")
SUFFIX_FORMAT = {".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


@dataclass
class Written:
    path: Path
    fmt: str
    facts: object  # pipelines.reports.facts.Facts
    document: object  # pipelines.reports.document.Document
    files: list[Path]  # every file written (the report, and for md its figures)


def format_for(out: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name implies; a name and a format that disagree, or a
    suffix no format has, are user errors (a Word file must never be written under a .pdf name)."""
    implied = SUFFIX_FORMAT.get(out.suffix.lower())
    if fmt:
        if fmt not in FORMATS:
            raise UserError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
        if out.suffix and implied != fmt:
            raise UserError(f"--out {out.name} does not name a {fmt} file; call it {out.stem}.{fmt} "
                            f"or leave --format out")
        return fmt
    if implied is None:
        raise UserError(f"--out {out.name}: say the format by the suffix (.docx, .pdf, .html, .md) or --format")
    return implied


def generate(db: str | os.PathLike, period: str, out: str | os.PathLike, *, team: str | None = None,
             fmt: str | None = None, figures: bool = True, now: dt.datetime | None = None) -> Written:
    from pipelines.reports import document
    from pipelines.reports.compose import compose
    from pipelines.reports.facts import gather
    from pipelines.reports.source import open_source

    out = Path(out)
    fmt = format_for(out, fmt)
    if out.exists() and out.is_dir():
        raise UserError(f"--out {out} is a directory; give a file name such as {out / ('report.' + fmt)}")
    if not out.parent.exists():
        raise UserError(f"folder {out.parent} does not exist; create it or choose another --out")
    with open_source(db, period, team) as src:
        facts = gather(src, now)
    doc = compose(facts, figures=figures)
    written = []
    if fmt == "docx":
        _write(out, document.to_docx(doc))
    elif fmt == "pdf":
        _write(out, document.to_pdf(doc))
    elif fmt == "html":
        _write(out, document.to_html(doc).encode("utf-8"))
    else:
        text, figs = document.to_markdown(doc, lambda i: f"{out.stem}-图{i}.png")
        for name, data in figs.items():
            _write(out.with_name(name), data)
            written.append(out.with_name(name))
        _write(out, text.encode("utf-8"))
    return Written(out, fmt, facts, doc, [out, *written])


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file and os.replace: a reader never sees half a report. Owner-only (0600)
    whatever the umask of the caller (a notebook, a shell): reports name units and their warnings."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # a leftover of a killed run may carry another mode
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
