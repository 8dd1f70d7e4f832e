"""The table of every setting, rendered from the settings object itself (README.md holds it
between markers; ``dvchub schema docs`` rewrites it, a test checks it)."""

from __future__ import annotations

import enum
import json
from pathlib import Path

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from hub.settings import HubSettings

BEGIN = "<!-- settings: begin (dvchub schema docs) -->"
END = "<!-- settings: end -->"


def _default(name: str) -> str:
    field = HubSettings.model_fields[name]
    if field.default_factory is not None:
        return "host name" if name == "instance_id" else "computed"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, SecretStr):
        return "unset" if not value.get_secret_value() else "(secret)"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Path):
        value = value.as_posix()
    if isinstance(value, frozenset | set | tuple | list):  # as the variable takes it: JSON
        value = json.dumps(sorted(value), ensure_ascii=False)
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in HubSettings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `DVCHUB_{name.upper()}` | {_default(name)} | {meaning} |")
    return "\n".join(rows) + "\n"


def with_table(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current table."""
    head, found, rest = readme.partition(BEGIN)
    if not found or END not in rest:
        raise ValueError(f"README.md has no {BEGIN} ... {END} section")
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{settings_table()}{END}{tail}"
