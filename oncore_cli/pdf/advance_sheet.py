"""The advance sheet: what the tour and the venue agreed, section by section, for one show."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from oncore_cli.pdf.common import (MARGIN, PAGE, address, build, generated_text, grid, label, local_time, p,
                                   place, value_text)

WIDTH = PAGE[0] - 2 * MARGIN
SECTION_ORDER = ("hospitality", "technical", "production")
SKIP = {"id", "session_id", "org_id", "status", "updated_at", "updated_by", "guest_list", "notes"}
GUEST_COLUMNS = (("name", "Name", 0.34), ("plus_ones", "+1", 0.08), ("affiliation", "Affiliation", 0.22),
                 ("pass_type", "Pass", 0.18), ("status", "Status", 0.18))


def header(sheet: dict) -> list:
    show = sheet.get("show") or {}
    session = sheet.get("session") or {}
    org = (sheet.get("organization") or {}).get("name")
    title = " · ".join(x for x in (show.get("date"), place(sheet) or "No venue") if x)
    facts = [f"Venue time zone: {sheet.get('timezone') or 'UTC'}", f"Advance: {session.get('status') or '—'}"]
    if show.get("title"):
        facts.insert(0, show["title"])
    if session.get("title"):
        facts.append(session["title"])
    where = address(sheet.get("venue"))
    return [p(f"Advance sheet{' — ' + org if org else ''}", "subtitle"), p(title, "title"),
            *([p(where, "subtitle")] if where else []), p(" · ".join(facts), "subtitle"), Spacer(0, 4 * mm)]


def schedule(sheet: dict) -> list:
    items = sheet.get("schedule") or []
    if not items:
        return []
    tz, day = sheet.get("timezone"), (sheet.get("show") or {}).get("date")
    rows = [["Time", "", "What"]]
    marked = False
    for item in items:
        hhmm, next_day = local_time(item.get("at"), tz, day)
        marked |= next_day
        extra = ", ".join(f"{label(k)}: {v}" for k, v in item.items() if k not in ("label", "at", "local_time"))
        rows.append([hhmm, "+1 day" if next_day else "", item.get("label") + (f" ({extra})" if extra else "")])
    out = [p(f"Schedule ({tz or 'UTC'})", "h2"),
           grid(rows, [22 * mm, 18 * mm, WIDTH - 40 * mm], zebra=True, muted_columns=(1,))]
    if marked:
        out.append(p("+1 day: after midnight, still part of this show day.", "small"))
    return out


def contacts(sheet: dict) -> list:
    people = [c for c in sheet.get("contacts") or [] if isinstance(c, dict)]
    if not people:
        return []
    rows = [["Role", "Name", "Phone", "E-mail"]]
    rows += [[label(c.get("role") or ""), c.get("name"), c.get("phone"), c.get("email")] for c in people]
    return [p("Contacts", "h2"), grid(rows, [0.2 * WIDTH, 0.28 * WIDTH, 0.2 * WIDTH, 0.32 * WIDTH])]


def section(sheet: dict, name: str) -> list:
    row = sheet.get(name) or {}
    fields = [(k, value_text(v)) for k, v in row.items() if k not in SKIP]
    fields = [(k, v) for k, v in fields if v]
    status = row.get("status") or "open"
    heading = p(f"{label(name)} — {status}", "h2")
    if not fields:
        return [KeepTogether([heading, p("Nothing agreed yet.", "label")])]
    rows = [["Field", "Agreed"]] + [[label(k), v] for k, v in fields]
    return [heading, grid(rows, [0.25 * WIDTH, 0.75 * WIDTH], muted_columns=(0,))]


def guest_list(sheet: dict) -> list:
    guests = [g for g in (sheet.get("hospitality") or {}).get("guest_list") or []]
    count = (sheet.get("hospitality") or {}).get("guest_count")
    if not guests and count is None:
        return []
    heading = p(f"Guest list{f' — {count} spots' if count is not None else ''}", "h2")
    if not guests:
        return [heading]
    rows = [[title for _, title, _ in GUEST_COLUMNS]]
    for guest in guests:
        if isinstance(guest, dict):
            rows.append([guest.get(key) for key, _, _ in GUEST_COLUMNS])
        else:
            rows.append([str(guest)] + [""] * (len(GUEST_COLUMNS) - 1))
    return [heading, grid(rows, [share * WIDTH for _, _, share in GUEST_COLUMNS], zebra=True)]


def notes(sheet: dict) -> list:
    parts = [(label(name), (sheet.get(name) or {}).get("notes")) for name in SECTION_ORDER]
    show_notes = (sheet.get("show") or {}).get("notes")
    parts.insert(0, ("Show", show_notes))
    parts = [(who, text) for who, text in parts if text]
    if not parts:
        return []
    rows = [["From", "Notes"]] + [[who, text] for who, text in parts]
    return [p("Notes", "h2"), grid(rows, [0.2 * WIDTH, 0.8 * WIDTH], muted_columns=(0,))]


def story(sheet: dict) -> list:
    flow = header(sheet) + schedule(sheet) + contacts(sheet)
    for name in SECTION_ORDER:
        flow += section(sheet, name)
    return flow + guest_list(sheet) + notes(sheet)


def render(sheet: dict) -> bytes:
    show = sheet.get("show") or {}
    org = (sheet.get("organization") or {}).get("name") or ""
    footer = f"Generated {generated_text(sheet)} by oncore{' for ' + org if org else ''}"
    return build(story(sheet), title=f"Advance sheet {show.get('date', '')} {place(sheet)}".strip(), footer=footer)
