"""Advance-sheet documents shaped exactly as get_advance_sheet returns them, for renderer tests and bench/."""

from __future__ import annotations

import datetime as dt

VENUES = [("Palladium", "Köln", "DE", "Europe/Berlin"), ("Klub Wytwórnia", "Łódź", "PL", "Europe/Warsaw"),
          ("Audio Club", "São Paulo", "BR", "America/Sao_Paulo"), ("Volkshaus", "Zürich", "CH", "Europe/Zurich"),
          ("渋谷クラブクアトロ", "東京", "JP", "Asia/Tokyo")]


def _at(day: dt.date, hhmm: str, offset_hours: int, next_day: bool = False) -> str:
    h, m = map(int, hhmm.split(":"))
    local = dt.datetime.combine(day + dt.timedelta(days=1 if next_day else 0), dt.time(h, m))
    return (local - dt.timedelta(hours=offset_hours)).strftime("%Y-%m-%dT%H:%M:00+00:00")


def sheet(index: int = 4, *, guests: int = 15, day: dt.date = dt.date(2026, 5, 1), extra_rows: int = 0) -> dict:
    name, city, country, tz = VENUES[index % len(VENUES)]
    offset = {"Europe/Berlin": 2, "Europe/Warsaw": 2, "America/Sao_Paulo": -3, "Europe/Zurich": 2,
              "Asia/Tokyo": 9}[tz]
    schedule = [("Load-in", "13:00"), ("Soundcheck", "16:30"), ("Dinner", "18:00"), ("Doors", "19:00"),
                ("Support", "20:00"), ("Changeover", "20:40"), ("Headliner", "21:00")]
    items = [{"label": label, "at": _at(day, t, offset)} for label, t in schedule]
    items += [{"label": f"Press slot {i + 1}", "at": _at(day, "17:00", offset)} for i in range(extra_rows)]
    items += [{"label": "Curfew", "at": _at(day, "00:30", offset, next_day=True)},
              {"label": "Bus call", "at": _at(day, "02:00", offset, next_day=True)}]
    return {
        "version": 1, "generated_at": "2026-04-20T09:30:00+00:00", "timezone": tz,
        "session": {"id": "3f2a1b2c-0000-4000-8000-000000000001", "status": "in_progress", "title": "Advance",
                    "code_expires_at": "2026-05-20T09:30:00+00:00"},
        "organization": {"id": "0e0e0e0e-0000-4000-8000-000000000002", "name": "Nordlicht Tour 2026"},
        "show": {"id": "5a5a5a5a-0000-4000-8000-000000000003", "date": day.isoformat(), "status": "confirmed",
                 "title": None, "notes": "Merch table left of the bar."},
        "venue": {"name": name, "city": city, "country": country, "timezone": tz, "address": "Schanzenstraße 40",
                  "postcode": "51063", "capacity": 4000},
        "schedule": items,
        "contacts": [{"role": "promoter_rep", "name": "Zoë Wójcik", "phone": "+49 221 555 0101",
                      "email": "zoe@example.com"},
                     {"role": "production", "name": "高橋 健", "phone": "+81 3 5555 0102", "email": "ken@example.jp"}],
        "hospitality": {"status": "submitted", "guest_count": guests,
                        "guest_list": [{"name": f"Guest {i + 1} Łukasz", "plus_ones": i % 2, "affiliation": "press",
                                        "pass_type": "aftershow", "status": "approved"} for i in range(guests)],
                        "catering": {"summary": "Hot dinner for 12 at 18:00", "dietary": "2 vegan, 1 gluten-free"},
                        "dressing_rooms": [{"name": "DR1", "for": "headliner", "showers": True}],
                        "hotel": {"name": "Hotel Mondial am Dom", "address": "Kurt-Hackenberg-Platz 1, Köln",
                                  "check_in": "15:00", "rooms": 6},
                        "rider_items": ["Still water", "Coffee machine"], "towels": {"bath": 10, "stage": 12},
                        "water": {"stage": 24}, "notes": "Runner collects the band at 12:30."},
        "technical": {"status": "open", "stage": {"width_m": 12, "depth_m": 8, "height_m": 1.2},
                      "pa": {"system": "L-Acoustics K2"}, "monitors": {}, "consoles": {"foh": "DiGiCo SD12"},
                      "backline": [], "power": {"summary": "3-phase 63A", "distance_m": 20}, "rigging": {},
                      "lighting": {}, "documents": [], "notes": None},
        "production": {"status": "open", "crew_calls": [{"call": "load-in", "at": "13:00", "hands": 8}],
                       "local_crew": [], "runners": {}, "security": {}, "merch": {"soft_split": 20},
                       "settlement": {}, "parking": {"buses": 2}, "notes": None},
    }
