"""The day sheet: one page crews tape to the wall — large local times, contacts, venue address, hotel, notes.

Whatever the content, it stays one page: the body shrinks to fit the frame rather than flowing over."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Spacer, Table, TableStyle

from oncore_cli.pdf.common import (INK, MARGIN, MUTED, PAGE, RULE, TABLE_FONT, address, build, cell, generated_text,
                                   grid, label, local_time, p, place, value_text)

WIDTH = PAGE[0] - 2 * MARGIN
HEIGHT = PAGE[1] - MARGIN - 16 * mm


def body(sheet: dict) -> list:
    show = sheet.get("show") or {}
    venue = sheet.get("venue") or {}
    tz = sheet.get("timezone") or "UTC"
    flow = [p(f"Day sheet — {(sheet.get('organization') or {}).get('name') or ''}".rstrip(" —"), "subtitle"),
            p(f"{show.get('date', '')} · {place(sheet) or 'No venue'}", "title"),
            p(" · ".join(x for x in (show.get("title"), f"All times {tz}") if x), "subtitle"), Spacer(0, 4 * mm)]
    rows = []
    for item in sheet.get("schedule") or []:
        hhmm, next_day = local_time(item.get("at"), tz, show.get("date"))
        rows.append([hhmm, "+1" if next_day else "", cell(item.get("label"), WIDTH - 34 * mm, 13)])
    if rows:
        times = Table(rows, colWidths=[24 * mm, 10 * mm, WIDTH - 34 * mm], hAlign="LEFT")
        times.setStyle(TableStyle([*TABLE_FONT, ("FONTSIZE", (0, 0), (0, -1), 15), ("LEADING", (0, 0), (-1, -1), 18),
                                   ("FONTSIZE", (1, 0), (1, -1), 7.5), ("TEXTCOLOR", (1, 0), (1, -1), MUTED),
                                   ("FONTSIZE", (2, 0), (2, -1), 13), ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                                   ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
        flow += [times, Spacer(0, 5 * mm)]
    else:
        flow += [p("No times yet.", "label"), Spacer(0, 5 * mm)]

    hospitality = sheet.get("hospitality") or {}
    facts = [("Venue", "\n".join(x for x in (venue.get("name"), address(venue)) if x)),
             ("Capacity", venue.get("capacity")),
             ("Hotel", value_text(hospitality.get("hotel"))),
             ("Guest list", hospitality.get("guest_count")),
             ("Catering", value_text(hospitality.get("catering"))),
             ("Parking", value_text((sheet.get("production") or {}).get("parking")))]
    facts = [[k, v] for k, v in facts if v not in (None, "")]
    people = [[label(c.get("role") or ""), "\n".join(x for x in (c.get("name"), c.get("phone"), c.get("email")) if x)]
              for c in sheet.get("contacts") or [] if isinstance(c, dict)]
    half = (WIDTH - 6 * mm) / 2
    left = grid([["Where", ""]] + facts, [24 * mm, half - 24 * mm], muted_columns=(0,))
    right = grid([["Contacts", ""]] + (people or [["—", ""]]), [26 * mm, half - 26 * mm], muted_columns=(0,))
    columns = Table([[left, right]], colWidths=[half + 6 * mm, half], hAlign="LEFT")
    columns.setStyle(TableStyle([*TABLE_FONT, ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    flow.append(columns)
    notes = [text for text in (show.get("notes"), hospitality.get("notes"),
                               (sheet.get("technical") or {}).get("notes"),
                               (sheet.get("production") or {}).get("notes")) if text]
    if notes:
        flow += [Spacer(0, 5 * mm), p("Notes", "h2"), p("\n".join(notes))]
    return flow


def page(sheet: dict) -> KeepInFrame:
    """The whole day on one page (shrunk to fit when it is long)."""
    return KeepInFrame(WIDTH, HEIGHT - 2 * mm, body(sheet), mode="shrink")


def render(sheet: dict) -> bytes:
    show = sheet.get("show") or {}
    return build([page(sheet)], title=f"Day sheet {show.get('date', '')} {place(sheet)}".strip(),
                 footer=f"Generated {generated_text(sheet)} by oncore")
