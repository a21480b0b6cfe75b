"""PDF renderers (reportlab) over get_advance_sheet's one content model: the advance sheet, the one-page day
sheet and the tour book. reportlab is imported only here, and this package only by the commands that print PDFs."""

from __future__ import annotations


def render_advance_sheet(sheet: dict) -> bytes:
    from oncore_cli.pdf.advance_sheet import render

    return render(sheet)


def render_day_sheet(sheet: dict) -> bytes:
    from oncore_cli.pdf.day_sheet import render

    return render(sheet)


def render_tour_book(sheets: list[dict], *, title: str, progress=None) -> bytes:
    from oncore_cli.pdf.tour_book import render

    return render(sheets, title=title, progress=progress)
