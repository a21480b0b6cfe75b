"""Figures: PDF render time, in-process, next to a bare reportlab anchor measured in the same run.

1. The advance sheet (`oncore_cli.pdf.render_advance_sheet`) of one show vs a bare reportlab document holding one
   table with the same rows (schedule, contacts, section fields, guest list) in Helvetica. Goal: <= 3x.
2. A 100-show tour book, time per page, vs the anchor's time per page. Goal: <= 1.5x.

Both sides render to memory; the embedded font is registered once before timing (as in any process that renders
more than one PDF). The content is tests/pdf/samples.py's, shaped as get_advance_sheet returns it.

    python bench/bench_pdf.py [--runs 15] [--shows 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.platypus import SimpleDocTemplate, Table  # noqa: E402

from oncore_cli.pdf import render_advance_sheet, render_tour_book  # noqa: E402
from oncore_cli.pdf.common import register_font, value_text  # noqa: E402
from tests.pdf.samples import sheet  # noqa: E402


def same_rows(doc: dict) -> list[list[str]]:
    """The advance sheet's rows as plain strings: what the anchor's one table holds."""
    rows = [["Time", "What"]] + [[item["at"][11:16], item["label"]] for item in doc["schedule"]]
    rows += [[c["role"], f"{c['name']} {c['phone']} {c['email']}"] for c in doc["contacts"]]
    for name in ("hospitality", "technical", "production"):
        rows += [[key, value_text(value)] for key, value in doc[name].items() if value_text(value)]
    rows += [[g["name"], f"{g['plus_ones']} {g['affiliation']} {g['pass_type']} {g['status']}"]
             for g in doc["hospitality"]["guest_list"]]
    return rows


def anchor(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([Table(rows, repeatRows=1)])
    return buffer.getvalue()


def timed(fn, runs: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pages(data: bytes) -> int:
    return data.count(b"/Type /Page\n") or data.count(b"/Type /Page ") or data.count(b"/Type/Page")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--shows", type=int, default=100)
    args = parser.parse_args()
    register_font()
    doc = sheet(4)
    rows = same_rows(doc)
    a = timed(lambda: anchor(rows), args.runs)
    s = timed(lambda: render_advance_sheet(doc), args.runs)
    anchor_pages, sheet_pages = pages(anchor(rows)), pages(render_advance_sheet(doc))

    sheets = [sheet(i, day=dt.date(2026, 5, 1) + dt.timedelta(days=i)) for i in range(args.shows)]
    book = render_tour_book(sheets, title="Bench tour book")
    book_pages = pages(book)
    book_runs = max(3, args.runs // 5)
    b = timed(lambda: render_tour_book(sheets, title="Bench tour book"), book_runs)
    per_page_anchor, per_page_book = a / anchor_pages, b / book_pages

    print(f"median of {args.runs} renders in memory ({book_runs} for the tour book); {len(rows)} rows")
    print(f"  anchor: reportlab, one table, same rows   {a * 1000:8.1f} ms  ({anchor_pages} pages)")
    print(f"  advance sheet                             {s * 1000:8.1f} ms  ({sheet_pages} pages)")
    print(f"  ratio                                     {s / a:8.2f}x   (goal <= 3.00x: "
          f"{'met' if s / a <= 3 else 'NOT met'})")
    print(f"  anchor per page                           {per_page_anchor * 1000:8.2f} ms")
    print(f"  tour book, {args.shows} shows, per page        {per_page_book * 1000:8.2f} ms  ({book_pages} pages, "
          f"{b:.2f} s)")
    print(f"  ratio per page                            {per_page_book / per_page_anchor:8.2f}x   (goal <= 1.50x: "
          f"{'met' if per_page_book / per_page_anchor <= 1.5 else 'NOT met'})")
    print(f"reproduce: python bench/bench_pdf.py --runs {args.runs} --shows {args.shows}")


if __name__ == "__main__":
    main()
