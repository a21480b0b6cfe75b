"""The tour book: a contents page, then one day-sheet page per show.

Each show page is exactly one page (the day sheet shrinks to fit), so the contents can name page numbers in one
pass: no second build."""

from __future__ import annotations

import math

from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Spacer

from oncore_cli.pdf.common import MARGIN, PAGE, build, generated_text, grid, p
from oncore_cli.pdf.day_sheet import page

WIDTH = PAGE[0] - 2 * MARGIN
CONTENTS_ROWS = 36  # rows per contents page; fixed so show pages are numbered before they are laid out


def contents_pages(count: int) -> int:
    return max(1, math.ceil(count / CONTENTS_ROWS))


def contents(sheets: list[dict], title: str) -> list:
    first = contents_pages(len(sheets)) + 1
    rows = []
    for number, sheet in enumerate(sheets, start=first):
        show, venue = sheet.get("show") or {}, sheet.get("venue") or {}
        rows.append([show.get("date"), venue.get("name") or "—", venue.get("city"), sheet.get("timezone"), str(number)])
    flow = [p(title, "title"), p(f"{len(sheets)} show{'s' if len(sheets) != 1 else ''}", "subtitle"),
            Spacer(0, 5 * mm)]
    widths = [24 * mm, WIDTH - 24 * mm - 40 * mm - 38 * mm - 14 * mm, 40 * mm, 38 * mm, 14 * mm]
    head = ["Date", "Venue", "City", "Time zone", "Page"]
    for start in range(0, max(len(rows), 1), CONTENTS_ROWS):
        if start:
            flow.append(PageBreak())
        flow.append(grid([head] + rows[start:start + CONTENTS_ROWS], widths, zebra=True, right_columns=(4,)))
    return flow


def render(sheets: list[dict], *, title: str, progress=None) -> bytes:
    """`progress()` is called once per page after the first (contents pages, then one per show)."""
    story = contents(sheets, title)
    for sheet in sheets:
        story += [PageBreak(), page(sheet)]
    return build(story, title=title, footer=f"{title} · generated {generated_text()} by oncore", on_page=progress)
