"""Every output choice in one place.

stdout carries data only: a rich table on a terminal, tab-separated lines when piped, or the format asked for
(`--json`, `--format csv|ndjson|json|table|tsv`). Messages, warnings and spinners go to stderr. Whether stdout
is a terminal is decided as rich decides it (TTY_COMPATIBLE, FORCE_COLOR, then isatty), colour follows
NO_COLOR/FORCE_COLOR, and user data is printed literally (no markup, no highlighting).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

FORMATS = ("table", "tsv", "csv", "json", "ndjson")


@dataclass(frozen=True)
class Column:
    """A column of a list. On a terminal, tables fit its width: `flex` columns (names, titles) are cut with an
    ellipsis and, when that is not enough, left out, highest `drop` first; the others (dates, statuses, times,
    ids) always stay whole."""

    key: str
    header: str
    display: Callable[[dict], Any] | None = None  # table/tsv text; defaults to the raw value
    style: Callable[[dict], str | None] | None = None  # rich style on a terminal (NO_COLOR still applies)
    flex: bool = False
    drop: int = 0

    def text(self, row: dict) -> str:
        value = self.display(row) if self.display else row.get(self.key)
        return "" if value is None else str(value)


def stdout_is_terminal(stream=None) -> bool:
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False):
    """The one console factory: data console on stdout, message console on stderr."""
    from rich.console import Console

    return Console(stderr=stderr, markup=False, highlight=False, emoji=False, soft_wrap=False)


class Output:
    def __init__(self, fmt: str | None = None, quiet: bool = False) -> None:
        self.quiet = quiet
        self.requested = fmt

    # -- decisions --------------------------------------------------------------------------------------
    @property
    def is_terminal(self) -> bool:
        return stdout_is_terminal()

    @property
    def format(self) -> str:
        if self.requested:
            return self.requested
        return "table" if self.is_terminal else "tsv"

    @property
    def machine(self) -> bool:
        return self.format in ("json", "ndjson", "csv")

    def with_format(self, fmt: str | None, json_flag: bool = False) -> "Output":
        """A copy honouring a command's own --json / --format (the command's flag beats the global one)."""
        if fmt and fmt != "json" and (json_flag or self.requested == "json"):
            from oncore_cli.core.errors import UsageError

            raise UsageError(f"--json and --format {fmt} exclude each other: pick one")
        chosen = "json" if json_flag else fmt
        if chosen and chosen not in FORMATS:
            from oncore_cli.core.errors import UsageError

            raise UsageError(f"unknown format {chosen!r}: use one of {', '.join(FORMATS)}")
        return Output(chosen or self.requested, self.quiet)

    # -- stderr -------------------------------------------------------------------------------------------
    def message(self, text: str) -> None:
        """Progress and confirmations: stderr, silenced by --quiet."""
        if not self.quiet:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def warn(self, text: str) -> None:
        sys.stderr.write(f"oncore: {text}\n")
        sys.stderr.flush()

    def detail(self, text: str) -> None:
        """A line that belongs to an error report (e.g. FILE:LINE: problem): stderr, even with --quiet."""
        sys.stderr.write(text + "\n")

    def status(self, text: str):
        """A spinner on an interactive stderr, nothing otherwise."""
        import contextlib

        if self.quiet or not stdout_is_terminal(sys.stderr):
            return contextlib.nullcontext()
        return console(stderr=True).status(text)

    def progress(self):
        """A progress bar on an interactive stderr (`.step(text, done, total)`), a silent stand-in otherwise."""
        import contextlib

        if self.quiet or not stdout_is_terminal(sys.stderr):
            return contextlib.nullcontext(_NoProgress())
        return _Progress()

    # -- stdout -------------------------------------------------------------------------------------------
    def raw(self, text: str) -> None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()

    def json(self, value: Any) -> None:
        import json

        indent = 2 if self.is_terminal else None
        self.raw(json.dumps(value, indent=indent, ensure_ascii=False, default=str))

    def rows(self, rows: Sequence[dict], columns: Sequence[Column], *, empty: str = "nothing found") -> None:
        """A list of records: records are JSON-ready dicts (stable field names, ISO 8601 dates)."""
        fmt = self.format
        if fmt == "json":
            self.json(list(rows))
        elif fmt == "ndjson":
            import json

            for row in rows:
                sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
        elif fmt == "csv":
            self.csv(rows)
        elif not rows:
            self.message(empty)  # gh: "no results" is not an error, and says so on stderr
        elif fmt == "table":
            self._table(rows, columns)
        else:
            for row in rows:
                sys.stdout.write("\t".join(_one_line(c.text(row)) for c in columns) + "\n")
            sys.stdout.flush()

    def csv(self, rows: Sequence[dict], fields: Iterable[str] | None = None, stream=None) -> None:
        import csv
        import json

        stream = stream or sys.stdout
        fields = list(fields or (rows[0].keys() if rows else []))
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow(["" if row.get(f) is None else
                             json.dumps(row[f]) if isinstance(row.get(f), (dict, list)) else row[f] for f in fields])
        stream.flush()

    def result(self, row: dict, fields: Sequence[Column]) -> None:
        """What a command that changes things did, for scripts: printed only when a machine format was asked for
        (`oncore shows delete X --yes --json` prints the show it removed); people read the stderr message."""
        if self.requested in ("json", "ndjson", "csv"):
            self.item(row, fields)

    def item(self, row: dict, fields: Sequence[Column]) -> None:
        """One record: key/value lines on a terminal or piped, the record itself for json/ndjson/csv."""
        fmt = self.format
        if fmt in ("json", "ndjson"):
            if fmt == "ndjson":
                import json

                self.raw(json.dumps(row, ensure_ascii=False, default=str))
            else:
                self.json(row)
        elif fmt == "csv":
            self.csv([row])
        elif fmt == "table":
            from rich.table import Table

            table = Table(show_header=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column(overflow="fold")
            for column in fields:
                table.add_row(column.header, column.text(row))
            console().print(table)
        else:
            for column in fields:
                sys.stdout.write(f"{column.header}\t{_one_line(column.text(row))}\n")
            sys.stdout.flush()

    def _table(self, rows: Sequence[dict], columns: Sequence[Column]) -> None:
        from rich.table import Table

        from rich.text import Text

        out = console()
        texts = [[_one_line(column.text(row)) for column in columns] for row in rows]
        fitted = fit_columns(columns, texts, out.width)
        table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
        for index, width in fitted:
            table.add_column(columns[index].header.upper(), width=width, no_wrap=True, overflow="ellipsis")
        for row, cells in zip(rows, texts):
            table.add_row(*(Text(cells[i], style=(columns[i].style(row) if columns[i].style else None) or "")
                            for i, _ in fitted))
        out.print(table)


MIN_FLEX = 6  # a cut name keeps at least this many characters (ellipsis included)
GAP = 2  # rich's padding between two columns (pad_edge off)


def fit_columns(columns: Sequence[Column], texts: Sequence[Sequence[str]], width: int) -> list[tuple[int, int]]:
    """(column index, width) of the columns to show in `width` terminal cells. Fixed columns keep their whole
    width; flex columns shrink (widest first) to MIN_FLEX, then are left out, highest `drop` first."""
    from rich.cells import cell_len

    natural = [max([cell_len(c.header)] + [cell_len(t[i]) for t in texts]) for i, c in enumerate(columns)]
    shown = list(range(len(columns)))

    def total(widths: dict[int, int]) -> int:
        return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)

    while True:
        widths = {i: natural[i] for i in shown}
        excess = total(widths) - width
        floors = {i: min(natural[i], max(MIN_FLEX, cell_len(columns[i].header))) for i in shown if columns[i].flex}
        while excess > 0:  # one cell at a time off the widest flex column that can still give one
            givers = [i for i in floors if widths[i] > floors[i]]
            if not givers:
                break
            widths[max(givers, key=lambda i: widths[i])] -= 1
            excess -= 1
        droppable = [i for i in shown if columns[i].flex and columns[i].drop]
        if excess <= 0 or not droppable:
            return [(i, widths[i]) for i in shown]
        shown.remove(max(droppable, key=lambda i: columns[i].drop))


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class _NoProgress:
    def step(self, text: str, done: int | None = None, total: int | None = None) -> None:
        pass


class _Progress:
    """One rich task whose text, count and total change as the work moves from phase to phase."""

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console(stderr=True), transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("", total=None)
        return self

    def step(self, text: str, done: int | None = None, total: int | None = None) -> None:
        self._bar.update(self._task, description=text, completed=done or 0, total=total)

    def __exit__(self, *exc):
        return self._bar.__exit__(*exc)
