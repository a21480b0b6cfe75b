"""`advancing edit SESSION SECTION`: the section as commented YAML in the user's editor, as `kubectl edit` does.

Only fields whose value changed are submitted. A file that does not parse or validate is reopened with the error
in a comment at the top; saving it unchanged (or quitting without saving) cancels, and nothing is written."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import OncoreError, UsageError

if TYPE_CHECKING:
    from oncore_cli.core.context import App

ERROR_MARK = "# ERROR: "


def editor_command() -> list[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


def render(section: str, values: dict[str, Any], title: str) -> str:
    """The section as YAML, each field under a comment saying what it holds."""
    import yaml

    from oncore_cli.models.advancing import section_model

    model = section_model(section)
    lines = [f"# {section} of {title}",
             "# Change values and save to apply; only changed fields are sent. Quit without saving to cancel.",
             "# Lines starting with # are ignored.", ""]
    for field, info in model.model_fields.items():
        lines.append(f"# {field}: {info.description}")
        text = yaml.safe_dump({field: values.get(field)}, allow_unicode=True, sort_keys=False,
                              default_flow_style=False, width=100)
        lines.append(text.rstrip("\n"))
    return "\n".join(lines) + "\n"


def parse(section: str, text: str) -> dict[str, Any]:
    import yaml

    from oncore_cli.models.advancing import check_field

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UsageError(f"not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"the file must hold {section} fields as `field: value` lines")
    for field in data:
        check_field(section, str(field))
    return data


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Fields whose value differs; a field deleted from the file is left as it is."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def run_edit(ref: str, section: str, org: str | None, app_: App) -> None:
    from oncore_cli.commands.advancing import _service, _session
    from oncore_cli.models.advancing import section_model, validate

    model = section_model(section)
    service = _service(app_)
    found = _session(app_, ref, org)
    row = service.sheet(found["id"]).get(section) or {}
    before = {f: row.get(f) for f in model.model_fields}
    title = " ".join(x for x in (found.get("show_date"), found.get("venue_name")) if x) or found["id"][:8]
    original = render(section, before, title)
    shown = original
    with tempfile.TemporaryDirectory(prefix="oncore-edit-") as tmp:
        path = Path(tmp) / f"{section}.yaml"
        while True:
            path.write_text(shown, encoding="utf-8")
            _open_editor(path)
            edited = path.read_text(encoding="utf-8")
            if edited == shown:
                app_.output.message("Edit cancelled: nothing changed, nothing written.")
                return
            body = _without_errors(edited)
            try:
                changes = changed_fields(before, parse(section, body))
                validate(section, changes)
            except OncoreError as e:
                shown = f"{ERROR_MARK}{e.message}\n#\n{body}"
                app_.output.warn(f"{e.message} (reopening the editor)")
                continue
            break
    if not changes:
        app_.output.message("No changes; nothing written.")
        return
    service.submit(section, found["id"], changes)
    app_.output.message(f"Updated {', '.join(f'{section}.{k}' for k in changes)} on session {found['id'][:8]}.")


def _without_errors(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and (lines[0].startswith(ERROR_MARK) or lines[0].strip() == "#"):
        lines.pop(0)
    return "".join(lines)


def _open_editor(path: Path) -> None:
    command = editor_command()
    try:
        result = subprocess.run([*command, str(path)])
    except FileNotFoundError:
        raise UsageError(f"editor {command[0]!r} not found: set VISUAL or EDITOR") from None
    if result.returncode != 0:
        raise OncoreError(f"the editor exited with status {result.returncode}: nothing written")
