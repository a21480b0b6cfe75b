"""The three sections of an advance (hospitality, technical, production) as the SQL tables and `submit_<section>`
accept them, plus the parsing of `section.field=value` from the command line.

Every value is checked here before anything is sent, so a typo answers with the section's valid fields and no
request is made. The server checks the same rules again (private.section_fields); these models mirror it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oncore_cli.core.errors import UsageError

SectionStatus = Literal["open", "submitted", "confirmed"]
MAX_INT = 2**31 - 1


class Section(BaseModel):
    """A section's fields, all optional: `set` and `edit` send only what changes. Each section ends with `notes`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    status: Optional[SectionStatus] = Field(None, description="open, submitted or confirmed (confirmed: members only)")

    @classmethod
    def section_name(cls) -> str:
        return cls.__name__.lower()

    @classmethod
    def kind(cls, field: str) -> str:
        """How a field is typed on the command line: status | count | text | array | object."""
        if field == "status":
            return "status"
        annotation = str(cls.model_fields[field].annotation)
        if "int" in annotation:
            return "count"
        if "list" in annotation:
            return "array"
        if "dict" in annotation:
            return "object"
        return "text"


class Hospitality(Section):
    guest_count: Optional[int] = Field(None, ge=0, le=MAX_INT, description="guest list spots (a whole number)")
    guest_list: Optional[list[Any]] = Field(
        None, description="list of {name, plus_ones, affiliation, pass_type, status}")
    catering: Optional[dict[str, Any]] = Field(None, description="meals, times, headcount, dietary needs or buyout")
    dressing_rooms: Optional[list[Any]] = Field(None, description="list of {name, for, showers, lockable}")
    hotel: Optional[dict[str, Any]] = Field(None, description="{name, address, check_in, check_out, rooms, confirmation}")
    rider_items: Optional[list[Any]] = Field(None, description="list of rider items, each provided or struck")
    towels: Optional[dict[str, Any]] = Field(None, description="{bath, stage} counts")
    water: Optional[dict[str, Any]] = Field(None, description="{stage, dressing_room} bottle counts")
    notes: Optional[str] = Field(None, description="free text")


class Technical(Section):
    stage: Optional[dict[str, Any]] = Field(None, description="{width_m, depth_m, height_m, clearance_m, risers}")
    pa: Optional[dict[str, Any]] = Field(None, description="{system, foh_distance_m, notes}")
    monitors: Optional[dict[str, Any]] = Field(None, description="{wedges, mixes, iem, console}")
    consoles: Optional[dict[str, Any]] = Field(None, description="{foh, monitor, stagebox}")
    backline: Optional[list[Any]] = Field(None, description="list of backline items (make, model, provided by)")
    power: Optional[dict[str, Any]] = Field(None, description="{service, distance_m, audio, lighting}")
    rigging: Optional[dict[str, Any]] = Field(None, description="{points, max_load_kg, grid_height_m, motors}")
    lighting: Optional[dict[str, Any]] = Field(None, description="{house_rig, ld, followspots, haze}")
    documents: Optional[list[Any]] = Field(None, description="list of {name, version, date} (stage plot, input list)")
    notes: Optional[str] = Field(None, description="free text")


class Production(Section):
    crew_calls: Optional[list[Any]] = Field(None, description="list of {call, at, hands}")
    local_crew: Optional[list[Any]] = Field(None, description="list of {role, count}")
    runners: Optional[dict[str, Any]] = Field(None, description="{count, vehicle, hours}")
    security: Optional[dict[str, Any]] = Field(None, description="{head_count, pit, backstage, escort}")
    merch: Optional[dict[str, Any]] = Field(None, description="{seller, soft_split, hard_split, location}")
    settlement: Optional[dict[str, Any]] = Field(None, description="{deal, guarantee, percentage, currency, by}")
    parking: Optional[dict[str, Any]] = Field(None, description="{buses, trucks, shore_power, permits}")
    notes: Optional[str] = Field(None, description="free text")


SECTIONS: dict[str, type[Section]] = {m.section_name(): m for m in (Hospitality, Technical, Production)}


def section_model(name: str) -> type[Section]:
    try:
        return SECTIONS[name]
    except KeyError:
        raise UsageError(f"unknown section {name!r}: use hospitality, technical or production") from None


def fields_of(section: str) -> list[str]:
    return list(section_model(section).model_fields)


def check_field(section: str, field: str) -> None:
    if field not in section_model(section).model_fields:
        raise UsageError(f"unknown {section} field {field!r}: valid fields are {', '.join(sorted(fields_of(section)))}")


def validate(section: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` checked against the section's model: the same dict, or a UsageError naming the field."""
    model = section_model(section)
    for field in data:
        check_field(section, field)
    try:
        model.model_validate(data)
    except ValidationError as e:
        raise UsageError("; ".join(_problem(section, model, err) for err in e.errors())) from None
    return data


def _problem(section: str, model: type[Section], err: dict) -> str:
    field = str(err["loc"][0]) if err["loc"] else "?"
    expected = {"status": 'one of "open", "submitted", "confirmed"', "count": "a whole number >= 0",
                "array": "a JSON list", "object": "a JSON object", "text": "text"}
    kind = model.kind(field) if field in model.model_fields else "text"
    got = err.get("input")
    return f"{section}.{field} must be {expected[kind]} (got {json.dumps(got, ensure_ascii=False, default=str)})"


# -- section.field=value ---------------------------------------------------------------------------------------
def parse_assignments(items: list[str], current: dict[str, dict] | None = None) -> dict[str, dict[str, Any]]:
    """["hospitality.guest_count=15", "technical.power.service=63A", …] → {section: {field: value}}, typed.

    A third dotted part sets one key inside an object field (merged into `current`, the section's present
    value). List fields take JSON or @file (JSON or YAML); object fields JSON, @file, or plain text (kept as
    {"summary": text})."""
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"bad assignment {item!r}: use section.field=value, e.g. hospitality.guest_count=15")
        parts = target.strip().split(".")
        if len(parts) < 2 or not all(parts):
            raise UsageError(f"bad assignment {item!r}: use section.field=value, e.g. hospitality.guest_count=15")
        section, field, *key = parts
        model = section_model(section)
        check_field(section, field)
        values = result.setdefault(section, {})
        kind = model.kind(field)
        if key:
            if kind != "object":
                raise UsageError(f"{section}.{field} is {'a list' if kind == 'array' else 'not an object'}: "
                                 f"set it whole ({section}.{field}=…)")
            base = dict(values.get(field) or ((current or {}).get(section) or {}).get(field) or {})
            _set_path(base, key, _scalar(text))
            values[field] = base
        else:
            values[field] = typed_value(section, field, kind, text)
    for section, values in result.items():
        validate(section, values)
    return result


def typed_value(section: str, field: str, kind: str, text: str) -> Any:
    name = f"{section}.{field}"
    if kind == "status":
        return text.strip()
    if kind == "count":
        if text.strip().lower() in ("", "null"):
            return None
        try:
            return int(text.strip())
        except ValueError:
            raise UsageError(f"{name} must be a whole number >= 0 (got {text!r})") from None
    if kind == "text":
        return None if text == "" else text
    if text.startswith("@"):
        return _read_file(name, text[1:])
    stripped = text.strip()
    if stripped[:1] in ("[", "{") or stripped in ("null",):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as e:
            raise UsageError(f"{name}: bad JSON ({e.msg} at column {e.colno})") from None
    if kind == "object":
        return {"summary": text}
    raise UsageError(f"{name} is a list: give JSON (e.g. '[\"item\"]') or @file")


def _read_file(name: str, path: str) -> Any:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{name}: cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"{name}: {path} is neither JSON nor YAML ({str(e).splitlines()[0]})") from None


def _scalar(text: str) -> Any:
    """A value inside an object: JSON when it parses (numbers, true, null, lists), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _set_path(target: dict, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        nested = target.get(key)
        target[key] = nested = dict(nested) if isinstance(nested, dict) else {}
        target = nested
    target[path[-1]] = value
