"""What every oncore PDF shares: the embedded Unicode font, paragraph styles, the generated-at footer with
"Page n of N", and the text helpers that turn the content model's values into table cells.

The font is WenQuanYi Micro Hei from the `paperang-p2-fonts-cjk` wheel (Apache 2.0 / GPLv3 with font exception,
TrueType outlines, so reportlab embeds a subset): one face that covers Latin with its accents (Köln, Łódź, São Paulo,
Zürich) and CJK (渋谷クラブクアトロ), installed as a dependency and never downloaded at run time."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

FONT = "OncoreSans"
PAGE = A4
MARGIN = 15 * mm
INK = colors.HexColor("#1d1d1f")
MUTED = colors.HexColor("#6e6e73")
RULE = colors.HexColor("#c7c7cc")
SHADE = colors.HexColor("#f2f2f5")
ACCENT = colors.HexColor("#0b5cad")


def font_path() -> str:
    from importlib.resources import files

    return str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")


@lru_cache(maxsize=1)
def register_font() -> str:
    import reportlab.rl_config

    reportlab.rl_config.useA85 = 0  # binary streams: ASCII85 of the embedded font costs a third of a render
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, font_path(), subfontIndex=0))
    for bold in (0, 1):  # one face: <b> keeps the font (emphasis comes from size and colour)
        for italic in (0, 1):
            addMapping(FONT, bold, italic, FONT)
    return FONT


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` the embedded font has no glyph for (they would print as boxes)."""
    from reportlab.pdfbase import pdfmetrics

    register_font()
    cmap = pdfmetrics.getFont(FONT).face.charToGlyph
    return {c for c in text if ord(c) not in cmap and c not in "\n\r\t"}


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    register_font()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11.5, textColor=INK)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontSize=20, leading=24, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=11, leading=14, textColor=MUTED),
        "h2": ParagraphStyle("h2", base, fontSize=12.5, leading=16, textColor=ACCENT, spaceBefore=10, spaceAfter=4),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=11.5),
        "head": ParagraphStyle("head", base, fontSize=8.5, leading=11, textColor=MUTED),
        "label": ParagraphStyle("label", base, fontSize=9, leading=11.5, textColor=MUTED),
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "right": ParagraphStyle("right", base, alignment=TA_RIGHT),
        "time": ParagraphStyle("time", base, fontSize=15, leading=18),
        "timelabel": ParagraphStyle("timelabel", base, fontSize=13, leading=18),
    }


def p(text: object, style: str = "cell") -> Paragraph:
    """A paragraph of plain text (escaped: user data never becomes markup); newlines become line breaks."""
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), styles()[style])


# Tables set their cells' font even around paragraphs: naming ours keeps Helvetica (not embedded) out of the file.
TABLE_FONT = [("FONTNAME", (0, 0), (-1, -1), FONT)]
PAD = 4


def cell(value: object, width: float, size: float = 9):
    """A table cell: plain text when every line fits the column (tables draw it directly, several times faster
    than a paragraph), a wrapping paragraph otherwise."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if value is None:
        return ""
    if not isinstance(value, str):
        if hasattr(value, "wrap"):  # already a flowable
            return value
        value = str(value)
    room = width - 2 * PAD
    if all(stringWidth(line, FONT, size) <= room for line in value.split("\n")):
        return value
    return p(value, "cell" if size == 9 else "small")


def grid(rows: list[list], widths: list[float], *, header: bool = True, zebra: bool = False,
         muted_columns: tuple[int, ...] = (), right_columns: tuple[int, ...] = ()) -> Table:
    """A table of plain values that splits across pages and repeats its header row on each."""
    body = [[cell(v, w) for v, w in zip(row, widths)] for row in rows]
    table = Table(body, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands = [*TABLE_FONT, ("FONTSIZE", (0, 0), (-1, -1), 9), ("LEADING", (0, 0), (-1, -1), 11.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE)]
    commands += [("TEXTCOLOR", (c, 0), (c, -1), MUTED) for c in muted_columns]
    commands += [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in right_columns]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
                     ("TEXTCOLOR", (0, 0), (-1, 0), MUTED), ("FONTSIZE", (0, 0), (-1, 0), 8.5)]
    if zebra:
        commands += [("BACKGROUND", (0, i), (-1, i), SHADE) for i in range(2 if header else 1, len(rows), 2)]
    table.setStyle(TableStyle(commands))
    return table


LABELS = {"pa": "PA", "foh": "FOH", "iem": "IEM", "ld": "LD", "plus_ones": "+1", "width_m": "Width (m)",
          "depth_m": "Depth (m)", "height_m": "Height (m)", "distance_m": "Distance (m)"}


def label(field: str) -> str:
    return LABELS.get(field) or field.replace("_", " ").capitalize()


def address(venue: dict | None) -> str:
    venue = venue or {}
    town = " ".join(x for x in (venue.get("postcode"), venue.get("city")) if x)
    return ", ".join(x for x in (venue.get("address"), town, venue.get("country")) if x)


def value_text(value: object) -> str:
    """A section value as lines a reader can scan: objects as `key: value`, lists one item a line."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0] != "summary")
        return "\n".join(v if k == "summary" and isinstance(v, str) else f"{label(k)}: {_inline(v)}"
                         for k, v in items)
    if isinstance(value, list):
        return "\n".join(f"• {_inline(v)}" for v in value)
    return _inline(value)


def _inline(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{label(k)}: {_inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_inline(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def local_time(at: str | None, tz: str | None, day: str | None) -> tuple[str, bool]:
    """("HH:MM", after_midnight) for an instant at the venue."""
    if not at:
        return "", False
    from oncore_cli.services.times import local_hhmm

    text = local_hhmm(at, tz, day)
    return text[:5], len(text) > 5


def place(sheet: dict) -> str:
    venue = sheet.get("venue") or {}
    return ", ".join(x for x in (venue.get("name"), venue.get("city"), venue.get("country")) if x)


def generated_text(sheet_or_now: dict | None = None) -> str:
    stamp = (sheet_or_now or {}).get("generated_at")
    moment = dt.datetime.fromisoformat(stamp) if stamp else dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def numbered_canvas(footer_left: str):
    """A canvas class that defers pages until the end so each footer can say "Page n of N"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            register_font()
            self.saveState()
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.3)
            self.line(MARGIN, 11 * mm, PAGE[0] - MARGIN, 11 * mm)
            self.drawString(MARGIN, 7.5 * mm, footer_left)
            self.drawRightString(PAGE[0] - MARGIN, 7.5 * mm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def build(story: list, *, title: str, footer: str, on_page=None) -> bytes:
    """The PDF's bytes; `on_page()` is called as each page after the first is laid out (progress bars)."""
    import io

    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=16 * mm, title=title, author="oncore", creator="oncore",
                            initialFontName=register_font())  # no page may name a font that is not embedded
    later = (lambda canvas, doc: on_page()) if on_page else (lambda canvas, doc: None)
    doc.build(story, onLaterPages=later, canvasmaker=numbered_canvas(footer))
    return buffer.getvalue()
