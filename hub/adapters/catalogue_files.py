"""Read the catalogue from YAML or CSV files.

A YAML file holds ``units:``, ``procedures:`` and/or ``changes:`` lists of the fields of
:class:`events.catalogue.UnitEntry`, :class:`events.catalogue.ProcedureEntry` and the unit
changes (:data:`events.catalogue.UnitChange`, told apart by ``kind``). Changes add to those
already loaded (one given again is kept once). A CSV file
holds one of the two, told apart by its header (a ``service_level`` column: procedures).
In CSV, ``processing_time`` and ``processing_time_unit`` are two columns, ``units`` is a
list separated by ``;``, and empty cells are unset. Parts a load does not give are kept
from the current version.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from events.catalogue import (
    AnyUnitChange,
    CatalogueContent,
    ProcedureEntry,
    UnitChange,
    UnitEntry,
)


class CatalogueFileError(ValueError):
    """A catalogue file that cannot be read, naming the file, the row and the problem."""


def read_catalogue(
    paths: Sequence[Path], current: CatalogueContent | None = None
) -> CatalogueContent:
    """The catalogue the files describe, completed from ``current`` for parts they lack."""
    units: list[Any] | None = None
    procedures: list[Any] | None = None
    changes: list[Any] = [] if current is None else [c.model_dump() for c in current.changes]
    for path in paths:
        file_units, file_procedures, file_changes = _read(path)
        if file_units is not None:
            units = (units or []) + file_units
        if file_procedures is not None:
            procedures = (procedures or []) + file_procedures
        for change in file_changes:
            if change not in changes:
                changes.append(change)
    if units is None:
        if current is None:
            raise CatalogueFileError("no units given, and no catalogue loaded before")
        units = list(current.units)
    if procedures is None:
        procedures = list(current.procedures) if current is not None else []
    try:
        return CatalogueContent.model_validate(
            {"units": units, "procedures": procedures, "changes": changes}
        )
    except ValidationError as error:
        raise CatalogueFileError(_explain(error, "catalogue")) from None


def _read(path: Path) -> tuple[list[Any] | None, list[Any] | None, list[Any]]:
    if not path.is_file():
        raise CatalogueFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        # Every scalar as a string (pydantic converts): unquoted procedure codes such as
        # 1.000101 would otherwise be read as numbers and lose their zeros.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}  # noqa: S506
        if not isinstance(data, dict) or not {"units", "procedures", "changes"} & data.keys():
            raise CatalogueFileError(
                f"{path}: expected a mapping with units, procedures and/or changes"
            )
        units, procedures = data.get("units"), data.get("procedures")
        return (
            None if units is None else _entries(path, units, UnitEntry),
            None if procedures is None else _entries(path, procedures, ProcedureEntry),
            _changes(path, data.get("changes") or []),
        )
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            raise CatalogueFileError(f"{path}: no rows")
        if "service_level" in rows[0]:
            return None, _entries(path, [_procedure_row(row) for row in rows], ProcedureEntry), []
        return _entries(path, [_clean(row) for row in rows], UnitEntry), None, []
    raise CatalogueFileError(f"{path}: not a .yaml, .yml or .csv file")


_CHANGE: TypeAdapter[AnyUnitChange] = TypeAdapter(UnitChange)


def _changes(path: Path, rows: Any) -> list[Any]:
    """The file's unit changes, each checked alone (naming its position) before the whole
    catalogue is."""
    if not isinstance(rows, list):
        raise CatalogueFileError(f"{path}: changes: expected a list")
    found = []
    for index, row in enumerate(rows, start=1):
        try:
            found.append(_CHANGE.validate_python(row).model_dump())
        except ValidationError as error:
            raise CatalogueFileError(_explain(error, f"{path}: change {index}")) from None
    return found


def _entries(path: Path, rows: Any, model: type[UnitEntry | ProcedureEntry]) -> list[Any]:
    if not isinstance(rows, list):
        raise CatalogueFileError(f"{path}: expected a list of {model.__name__} entries")
    entries = []
    for number, row in enumerate(rows, start=1):
        try:
            entries.append(model.model_validate(row))
        except ValidationError as error:
            raise CatalogueFileError(_explain(error, f"{path}, entry {number}")) from None
    return entries


def _clean(row: dict[str, str]) -> dict[str, str]:
    return {key.strip(): value.strip() for key, value in row.items() if value and value.strip()}


def _procedure_row(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = _clean(row)
    value = data.pop("processing_time", None)
    unit = data.pop("processing_time_unit", "working_days")
    if value is not None:
        data["processing_time"] = {"value": value, "unit": unit}
    if "units" in data:
        data["units"] = [code.strip() for code in data["units"].split(";") if code.strip()]
    return data


def _explain(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "entry"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {location}: {first['msg']}{more}"
