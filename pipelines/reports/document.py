"""A small document model (headings, paragraphs, tables, figures) and its four renderings.

compose.py writes the report once as a Document; `to_docx` (python-docx, the format the offices use),
`to_html` (self-contained, images inline, for previews), `to_pdf` (that HTML laid out on A4 pages by
WeasyPrint with the Noto CJK fonts) and `to_markdown` (text plus the figure files beside it) render it.
Cells that are exactly a grade (红/橙/黄/绿) are shaded in its colour. Every table carries relative
column widths, which Word and the PDF both honour; a figure and its caption never part across a page.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

GRADE_FILL = {"红": "F4B6B6", "橙": "FAD3A8", "黄": "FBEFA6", "绿": "C7E6C1"}


@dataclass
class Heading:
    text: str
    level: int = 1  # 1 = section (一、), 2 = subsection ((一) / 1.)


@dataclass
class Para:
    text: str
    style: str = "body"  # body | note (small, grey) | caveat (boxed, bold)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str | None = None
    widths: list[float] | None = None  # relative column widths


@dataclass
class Figure:
    png: bytes
    caption: str
    width_cm: float = 15.5


@dataclass
class Document:
    title: str
    subtitle: str
    stamp: list[tuple[str, str]]
    blocks: list = field(default_factory=list)
    footer: str = ""

    def add(self, *blocks) -> None:
        self.blocks.extend(b for b in blocks if b is not None)

    def text(self) -> str:
        """Every word of the document (headings, paragraphs, table cells, captions), for checks."""
        parts = [self.title, self.subtitle] + [f"{k} {v}" for k, v in self.stamp]
        for b in self.blocks:
            if isinstance(b, (Heading, Para)):
                parts.append(b.text)
            elif isinstance(b, Table):
                parts += ([b.caption] if b.caption else []) + b.columns + [c for r in b.rows for c in r]
            elif isinstance(b, Figure):
                parts.append(b.caption)
        return "\n".join(parts + [self.footer])


# ---- Markdown --------------------------------------------------------------------------------

def to_markdown(doc: Document, figure_name) -> tuple[str, dict[str, bytes]]:
    """(markdown text, {file name: png}); `figure_name(i)` names the i-th figure's file (1-based)."""
    out = [f"# {doc.title}", "", f"**{doc.subtitle}**", ""]
    out += [f"- **{k}**：{v}" for k, v in doc.stamp] + [""]
    files: dict[str, bytes] = {}
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * (b.level + 1)} {b.text}", ""]
        elif isinstance(b, Para):
            text = b.text.replace("\n", "  \n")
            out += [f"> **{text}**" if b.style == "caveat" else f"> {text}" if b.style == "note" else text, ""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"*{b.caption}*", ""]
            out.append("| " + " | ".join(_md_cell(c) for c in b.columns) + " |")
            out.append("|" + "|".join("---" for _ in b.columns) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            name = figure_name(len(files) + 1)
            files[name] = b.png
            out += [f"![{b.caption}]({name})", "", f"*{b.caption}*", ""]
    if doc.footer:
        out += ["---", "", f"*{doc.footer}*", ""]
    return "\n".join(out), files


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


# ---- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "FangSong", "SimSun", serif; color: #111;
       max-width: 52em; margin: 2em auto; padding: 0 1.5em; line-height: 1.75; font-size: 15px; }
h1, h2, h3, .subtitle, caption, th { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", sans-serif; }
h1 { text-align: center; font-size: 26px; margin-bottom: 0.1em; }
.subtitle { text-align: center; font-size: 18px; margin-top: 0; }
h2 { font-size: 19px; margin-top: 1.6em; border-bottom: 1px solid #999; }
h3 { font-size: 16px; margin-top: 1.2em; }
p.body { text-indent: 2em; margin: 0.4em 0; }
p.note { color: #555; font-size: 13px; margin: 0.3em 0; }
p.caveat { border: 1.5px solid #b22; padding: 0.5em 0.8em; font-weight: bold; color: #7a0000; }
table { border-collapse: collapse; margin: 0.6em 0 1em; width: 100%; font-size: 13px; }
caption { caption-side: top; text-align: left; font-size: 13px; padding-bottom: 0.3em; color: #333; }
th, td { border: 1px solid #777; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
dl.stamp { display: grid; grid-template-columns: 7em auto; gap: 0 1em; font-size: 13px; color: #333;
           border-top: 1px solid #ccc; border-bottom: 1px solid #ccc; padding: 0.4em 0; }
dl.stamp dt { font-weight: bold; } dl.stamp dd { margin: 0; }
figure { margin: 1em 0; text-align: center; } figure img { max-width: 100%; }
figcaption { font-size: 13px; color: #333; }
footer { margin-top: 2em; border-top: 1px solid #999; font-size: 12px; color: #555; }
table { table-layout: fixed; } td, th { overflow-wrap: anywhere; }
figure, tr { break-inside: avoid; } caption, h2, h3 { break-after: avoid; }
@media print {
  @page { size: A4; margin: 2.2cm 2cm 2.4cm 2cm;
          @bottom-center { content: "第 " counter(page) " / " counter(pages) " 页";
                           font-family: "Noto Serif CJK SC", serif; font-size: 8pt; color: #555; } }
  body { max-width: none; margin: 0; padding: 0; font-size: 11.5pt; line-height: 1.6; }
  h1 { font-size: 20pt; } h2 { font-size: 14pt; } h3 { font-size: 12pt; }
  table, caption, figcaption, dl.stamp { font-size: 9pt; }
  footer { display: none; }
}
"""


def to_html(doc: Document) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{e(doc.title)}{e(doc.subtitle)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(doc.title)}</h1>", f'<p class="subtitle">{e(doc.subtitle)}</p>', '<dl class="stamp">']
    out += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in doc.stamp]
    out.append("</dl>")
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level + 1}>{e(b.text)}</h{b.level + 1}>")
        elif isinstance(b, Para):
            out.append(f'<p class="{b.style}">{e(b.text).replace(chr(10), "<br>")}</p>')
        elif isinstance(b, Table):
            out.append("<table>")
            if b.caption:
                out.append(f"<caption>{e(b.caption)}</caption>")
            if b.widths:
                total = sum(b.widths)
                out.append("<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in b.widths)
                           + "</colgroup>")
            out.append("<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in b.columns) + "</tr></thead><tbody>")
            for r in b.rows:
                cells = []
                for c in r:
                    fill = GRADE_FILL.get(str(c))
                    style = f' style="background:#{fill};text-align:center"' if fill else ""
                    cells.append(f"<td{style}>{e(str(c))}</td>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table>")
        elif isinstance(b, Figure):
            data = base64.b64encode(b.png).decode("ascii")
            out.append(f'<figure><img alt="{e(b.caption)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{e(b.caption)}</figcaption></figure>")
    if doc.footer:
        out.append(f"<footer>{e(doc.footer)}</footer>")
    out.append("</body></html>")
    return "\n".join(out)


def to_pdf(doc: Document) -> bytes:
    """The HTML rendering laid out on A4 by WeasyPrint (fonts from fontconfig: Debian's fonts-noto-cjk)."""
    import logging

    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint is installed but Pango, its text layout library, is not
        from pipelines.errors import UserError

        raise UserError(f"PDF reports need the Pango library ({exc}); on Debian: "
                        "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk") from None

    page = to_html(doc)
    if doc.footer:  # every page's footer repeats the caveat before the page number
        quoted = doc.footer.replace("\\", "\\\\").replace('"', '\\"')
        page = page.replace("</style>", '@media print { @page { @bottom-center { content: "' + quoted
                            + '　第 " counter(page) " / " counter(pages) " 页"; } } }</style>', 1)
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # subsetting the CJK fonts is chatty
    return HTML(string=page).write_pdf()


# ---- Word ------------------------------------------------------------------------------------

BODY_FONT, HEADING_FONT, TABLE_FONT, LATIN_FONT = "仿宋", "黑体", "宋体", "Times New Roman"
TEXT_WIDTH_CM = 16.2  # A4 less the 2.4 cm margins


def to_docx(doc: Document) -> bytes:
    from docx import Document as Docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    d = Docx()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    sec.left_margin = sec.right_margin = Cm(2.4)

    normal = d.styles["Normal"]
    _font(normal, BODY_FONT, 12)
    normal.paragraph_format.line_spacing = 1.4
    normal.paragraph_format.space_after = Pt(3)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 13)):
        st = d.styles[name]
        _font(st, HEADING_FONT, size, bold=name != "Title")
        st.font.color.rgb = RGBColor(0, 0, 0)
        st.paragraph_format.space_before = Pt(12 if name == "Heading 1" else 8)
        st.paragraph_format.space_after = Pt(6)

    t = d.add_paragraph(doc.title, style="Title")
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _bottom_border_off(t)
    s = d.add_paragraph(doc.subtitle)
    s.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(s.runs[0], HEADING_FONT, 14)
    stamp = d.add_table(rows=0, cols=2)
    for k, v in doc.stamp:
        row = stamp.add_row().cells
        _cell(row[0], k, bold=True, size=9.5)
        _cell(row[1], v, size=9.5)
    _widths(stamp, [3.2, 13.0], Cm)

    for b in doc.blocks:
        if isinstance(b, Heading):
            d.add_paragraph(b.text, style=f"Heading {min(b.level, 2)}")
        elif isinstance(b, Para):
            p = d.add_paragraph()
            run = p.add_run(b.text)
            if b.style == "body":
                p.paragraph_format.first_line_indent = Pt(24)
            elif b.style == "note":
                _run_font(run, BODY_FONT, 10)
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            elif b.style == "caveat":
                run.bold = True
                run.font.color.rgb = RGBColor(0x8B, 0, 0)
                _box(p)
        elif isinstance(b, Table):
            if b.caption:
                cap = d.add_paragraph()
                _run_font(cap.add_run(b.caption), HEADING_FONT, 10)
                cap.paragraph_format.keep_with_next = True
            table = d.add_table(rows=1, cols=len(b.columns))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, b.columns):
                _cell(cell, text, bold=True, fill="E8E8E8")
            _repeat_header(table.rows[0])
            for r in b.rows:
                row = table.add_row()
                _cant_split(row)
                for cell, text in zip(row.cells, r):
                    _cell(cell, str(text), fill=GRADE_FILL.get(str(text)),
                          center=str(text) in GRADE_FILL)
            widths = b.widths or [1.0] * len(b.columns)
            total = sum(widths)
            _widths(table, [TEXT_WIDTH_CM * w / total for w in widths], Cm)
            d.add_paragraph().paragraph_format.space_after = Pt(2)
        elif isinstance(b, Figure):
            d.add_picture(io.BytesIO(b.png), width=Cm(b.width_cm))
            d.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            d.paragraphs[-1].paragraph_format.keep_with_next = True  # the caption stays under its figure
            cap = d.add_paragraph()
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run_font(cap.add_run(b.caption), HEADING_FONT, 10)

    if doc.footer:
        f = sec.footer.paragraphs[0]
        f.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run_font(f.add_run(doc.footer + "　第 "), BODY_FONT, 9)
        _page_field(f)
        _run_font(f.add_run(" 页"), BODY_FONT, 9)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _font(style, east_asia: str, size: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = LATIN_FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):  # theme fonts would override ours
        rfonts.attrib.pop(qn(attr), None)


def _run_font(run, east_asia: str, size: float | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = LATIN_FONT
    if size:
        run.font.size = Pt(size)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)


def _cell(cell, text: str, bold: bool = False, size: float = 9.5, fill: str | None = None,
          center: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    p = cell.paragraphs[0]
    p.paragraph_format.first_line_indent = None
    p.paragraph_format.line_spacing = 1.15
    p.paragraph_format.space_after = 0
    run = p.add_run(text)
    run.bold = bold
    _run_font(run, TABLE_FONT, size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if fill:
        tcpr = cell._element.get_or_add_tcPr()
        shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill})
        tcpr.append(shd)


def _widths(table, widths, unit) -> None:
    """Fixed column widths: the table grid (LibreOffice, WPS) and every cell (Word) get them, and the
    layout is fixed so Word does not re-balance the columns by their content."""
    from docx.oxml.ns import qn

    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = tblpr.find(qn("w:tblLayout"))
    if layout is None:
        layout = tblpr.makeelement(qn("w:tblLayout"), {})
        tblpr.append(layout)
    layout.set(qn("w:type"), "fixed")
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(unit(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = unit(w)


def _cant_split(row) -> None:
    """A row is not broken across two pages."""
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    trpr.append(trpr.makeelement(qn("w:cantSplit"), {qn("w:val"): "true"}))


def _repeat_header(row) -> None:
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    trpr.append(trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))


def _box(paragraph) -> None:
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.makeelement(qn("w:pBdr"), {})
    for side in ("top", "left", "bottom", "right"):
        borders.append(borders.makeelement(qn(f"w:{side}"), {qn("w:val"): "single", qn("w:sz"): "8",
                                                             qn("w:space"): "4", qn("w:color"): "B22222"}))
    ppr.append(borders)


def _bottom_border_off(paragraph) -> None:
    """python-docx's default Title style draws a blue rule under the title: not in an official report."""
    from docx.oxml.ns import qn

    ppr = paragraph.style.element.get_or_add_pPr()
    for b in ppr.findall(qn("w:pBdr")):
        ppr.remove(b)


def _page_field(paragraph) -> None:
    from docx.oxml.ns import qn

    fld = paragraph._p.makeelement(qn("w:fldSimple"), {qn("w:instr"): "PAGE"})
    r = fld.makeelement(qn("w:r"), {})
    t = r.makeelement(qn("w:t"), {})
    t.text = "1"
    r.append(t)
    fld.append(r)
    paragraph._p.append(fld)
