"""Reading an import file into records, each with the physical line it starts on.

CSV as spreadsheets save it (Excel's "CSV UTF-8": a BOM, CRLF line ends, a trailing empty column, quoted fields
with commas, doubled quotes and line breaks, all-empty rows at the end), JSON arrays of objects and NDJSON. Headers
are normalised ("Venue Name" → venue_name, "Load-In" → load_in), then mapped through the aliases and `--map`.
Nothing here knows what a show is: the caller passes the fields it accepts and their aliases.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

FORMATS = ("csv", "json", "ndjson")
_SEPARATORS = re.compile(r"[\s\-]+")


@dataclass
class Problem:
    line: int
    column: str
    message: str

    def text(self, source: str) -> str:
        return f"{source}:{self.line}: {self.column}: {self.message}" if self.column else \
            f"{source}:{self.line}: {self.message}"


@dataclass
class Table:
    """The records of a file: `rows` hold each record's texts (or None), `index` the position of each field in them
    and `lines` each record's first physical line; `headers` maps each field to the header the file calls it (for
    messages); `problems` are those found while reading (bad JSON, unknown columns).

    Validation looks at each column's distinct texts, and at the distinct combinations of a few columns, once:
    `distinct` and `combinations` take them from the rows in one pass each, without copying columns out."""

    source: str
    lines: list[int] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def from_records(cls, source: str, records: list[tuple[int, dict]]) -> Table:
        """A table from (line, {field: value}) pairs, each field named as itself."""
        names = list(dict.fromkeys(k for _, record in records for k in record))
        return cls(source, [line for line, _ in records], [[_scalar(r.get(k)) for k in names] for _, r in records],
                   {k: i for i, k in enumerate(names)}, {k: k for k in names})

    def column(self, name: str) -> list[str | None]:
        """The field's text on each row."""
        if name not in self.index:
            return [None] * len(self.rows)
        return list(map(itemgetter(self.index[name]), self.rows))

    def distinct(self, name: str) -> set[str | None]:
        return set(map(itemgetter(self.index[name]), self.rows)) if name in self.index else {None}

    def combinations(self, names: tuple[str, ...]) -> set[tuple]:
        """The distinct (text, text, …) of the fields on the rows; None for a field the file does not have."""
        given = [name for name in names if name in self.index]
        if len(given) < 2:
            found = {(text,) for text in self.distinct(given[0])} if given else {()}
        else:
            found = set(map(itemgetter(*(self.index[name] for name in given)), self.rows))
        if len(given) == len(names):
            return found
        where = {name: given.index(name) for name in given}
        return {tuple(combo[where[name]] if name in where else None for name in names) for combo in found}

    def keys(self, names: tuple[str, ...]) -> list[tuple]:
        """Each row's (text, text, …) of the fields, as `combinations` gives them."""
        return list(zip(*(self.column(name) for name in names)))

    @property
    def records(self) -> list[tuple[int, dict]]:
        """Record by record, (line, {field: text}) for the fields each one gives: the table as a reader sees it."""
        return [(line, {k: row[i] for k, i in self.index.items() if row[i] is not None})
                for line, row in zip(self.lines, self.rows)]


def normalise(header: str) -> str:
    return _SEPARATORS.sub("_", header.strip().lower()).strip("_")


def parse_map(pairs: list[str]) -> dict[str, str | None]:
    """`--map "Show Day=date"` pairs as {normalised column: field}; `--map Fee=` ignores a column."""
    from oncore_cli.core.errors import UsageError

    mapping: dict[str, str | None] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip():
            raise UsageError(f"bad --map {pair!r}: use COLUMN=FIELD (or COLUMN= to ignore a column)")
        mapping[normalise(column)] = normalise(target) or None
    return mapping


def guess_format(path: str, given: str | None) -> str:
    from oncore_cli.core.errors import UsageError

    if given:
        if given not in FORMATS:
            raise UsageError(f"unknown --format {given!r}: use one of {', '.join(FORMATS)}")
        return given
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "ndjson"
    if suffix == "json":
        return "json"
    if suffix in ("csv", "txt", "tsv") or path == "-":
        return "csv"
    raise UsageError(f"cannot tell the format of {path}: pass --format csv, json or ndjson")


def read_data(path: str) -> bytes:
    """The file's bytes (stdin for "-")."""
    from oncore_cli.core.errors import UsageError

    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def decode(data: bytes, path: str) -> str:
    """The text of a file's bytes, without a byte-order mark; not UTF-8 is an error naming the line."""
    from oncore_cli.core.errors import UsageError

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise UsageError(f"{display_name(path)}:{line}: not UTF-8 text: save the file as UTF-8 "
                         "(Excel: \"CSV UTF-8 (Comma delimited)\")") from None


def display_name(path: str) -> str:
    return "stdin" if path == "-" else path


def read_table(path: str, fmt: str, fields: tuple[str, ...], aliases: dict[str, str],
               mapping: dict[str, str | None] | None = None, data: bytes | str | None = None) -> Table:
    data = read_data(path) if data is None else data.encode() if isinstance(data, str) else data
    table = Table(display_name(path))
    resolve = _resolver(fields, aliases, mapping or {})
    if fmt == "csv":
        try:
            _read_csv(data, table, resolve)
        except UnicodeDecodeError:
            decode(data, path)  # raises, naming the line
            raise
    else:
        _read_json(decode(data, path), table, resolve, ndjson=fmt == "ndjson")
    return table


def _resolver(fields, aliases, mapping):
    known = set(fields)

    def resolve(header: str) -> str | None | bool:
        """The field a header names; None to ignore it; False when unknown."""
        key = normalise(header)
        if key in mapping:
            return mapping[key]
        if key in known:
            return key
        return aliases.get(key, False)

    return resolve


def _columns(headers: list[str], table: Table, resolve, line: int) -> list[str | None]:
    """Each header's field (None: ignored). Unknown and repeated columns are problems."""
    targets: list[str | None] = []
    seen: dict[str, str] = {}
    for header in headers:
        if not header.strip():
            targets.append("")  # an empty header: ignored when its column is empty too
            continue
        target = resolve(header)
        if target is False:
            table.problems.append(Problem(line, header.strip(), "unknown column: rename it, or pass "
                                          f"--map '{header.strip()}=FIELD' (or '{header.strip()}=' to ignore it)"))
            target = None
        elif target and target in seen:
            table.problems.append(Problem(line, header.strip(), f"names the same field ({target}) as column "
                                          f"{seen[target]!r}"))
            target = None
        if target:
            seen[target] = header.strip()
            table.headers[target] = header.strip()
        targets.append(target)
    return targets


def _read_csv(data: bytes, table: Table, resolve) -> None:
    # Decoded as it is parsed (as a file opened in text mode is), not into one big string first.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        table.problems.append(Problem(1, "", f"not CSV: {e}"))
        return
    targets = _columns(headers, table, resolve, 1)
    width = len(targets)
    rows: list[list[str | None]] = []
    lines = table.lines
    add_row, add_line = rows.append, lines.append
    previous = reader.line_num
    try:
        for values in reader:
            line, previous = previous + 1, reader.line_num
            if len(values) != width or not values[0]:  # rare: an empty row, a short or a long one
                if not any(v.strip() for v in values):
                    continue  # all-empty rows (Excel leaves them at the end)
                if len(values) > width and any(v.strip() for v in values[width:]):
                    table.problems.append(Problem(line, "", f"{len(values)} values but only {width} columns in the "
                                                  "header (a comma in a value needs quotes)"))
                values = values[:width] + [None] * (width - len(values))
            add_line(line)
            add_row(values)
    except csv.Error as e:
        table.problems.append(Problem(reader.line_num, "", f"not CSV: {e}"))
    for i, target in enumerate(targets):
        # An empty header (Excel's trailing column): its cells must be empty too.
        if target == "" and any((text or "").strip() for text in set(map(itemgetter(i), rows))):
            table.problems += [Problem(line, f"column {i + 1}", "a value under an empty header: give the column a "
                                       "name, or remove it") for line, row in zip(lines, rows) if (row[i] or "").strip()]
    table.problems.sort(key=lambda p: p.line)
    table.rows = rows
    table.index = {t: i for i, t in enumerate(targets) if t}


def _read_json(text: str, table: Table, resolve, ndjson: bool) -> None:
    if ndjson:
        items = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                try:
                    items.append((number, json.loads(raw)))
                except json.JSONDecodeError as e:
                    table.problems.append(Problem(number, "", f"not JSON: {e.msg} (column {e.colno})"))
    else:
        items = _json_array(text, table)
    cache: dict[str, str | None | bool] = {}
    records = []
    for line, item in items:
        if not isinstance(item, dict):
            table.problems.append(Problem(line, "", "each record must be a JSON object"))
            continue
        record: dict = {}
        for key, value in item.items():
            if key not in cache:
                cache[key] = resolve(key)
                if cache[key] is False and key.strip():
                    table.problems.append(Problem(line, key, "unknown field: rename it, or pass "
                                                  f"--map '{key}=FIELD' (or '{key}=' to ignore it)"))
                elif cache[key]:
                    table.headers.setdefault(cache[key], key)
            target = cache[key]
            if target:
                record[target] = _scalar(value)
        records.append((line, record))
    table.lines = [line for line, _ in records]
    table.index = {name: i for i, name in enumerate(table.headers)}
    table.rows = [[r.get(name) for name in table.headers] for _, r in records]


def _scalar(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _json_array(text: str, table: Table) -> list[tuple[int, object]]:
    """The elements of a top-level JSON array, each with the line its value starts on."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[\s,]*")
    try:
        start = ws.match(text, 0).end()
        if start >= len(text) or text[start] != "[":
            table.problems.append(Problem(text.count("\n", 0, start) + 1, "", "a JSON file must hold an array of "
                                          "objects (use --format ndjson for one object per line)"))
            return []
        position, line, counted = start + 1, 1, 0
        items = []
        while True:
            position = ws.match(text, position).end()
            if position >= len(text):
                raise json.JSONDecodeError("unterminated array", text, position)
            if text[position] == "]":
                return items
            line += text.count("\n", counted, position)
            counted = position
            value, position = decoder.raw_decode(text, position)
            items.append((line, value))
    except json.JSONDecodeError as e:
        table.problems.append(Problem(e.lineno, "", f"not JSON: {e.msg} (column {e.colno})"))
        return []
