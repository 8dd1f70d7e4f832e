"""The catalogue: loaded from YAML and CSV, kept as versions, errors that name the place."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from hub.adapters.catalogue_files import CatalogueFileError, read_catalogue
from hub.bootstrap import Hub
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings

UNITS_CSV = """code,name,level,parent,valid_from,valid_to,merged_into
000.00.00.H12,UBND tỉnh Cà Mau,province,,,,
000.00.60.H12,UBND huyện Thới Bình,district,000.00.00.H12,,2025-06-30,000.00.00.H12
000.01.60.H12,UBND xã Biển Bạch,commune,000.00.60.H12,,,
"""
PROCEDURES_YAML = """procedures:
  - code: 1.000101.000.00.00.H12
    national_code: 1.000101
    name: Cấp phiếu lý lịch tư pháp
    field_code: TP
    level: district
    service_level: 4
    processing_time: {value: 10, unit: working_days}
    integrated: true
    integrated_since: 2021-01-01
    components:
      - {code: TK, name: Tờ khai}
      - code: KS
        name: Bản sao giấy khai sinh
        accepts_results: [GKS]
        accepts_components: [KS]
"""
PROCEDURES_CSV = """code,national_code,name,field_code,level,service_level,processing_time,\
processing_time_unit,integrated,units
1.000202.000.00.00.H12,1.000202,Đăng ký khai sinh,HT,commune,3,1,working_days,false,000.01.60.H12
"""


def test_load_from_csv_and_yaml_and_keep_versions(settings: HubSettings, tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (tmp_path / "procedures.yaml").write_text(PROCEDURES_YAML, encoding="utf-8")
    (tmp_path / "more.csv").write_text(PROCEDURES_CSV, encoding="utf-8")
    store = CatalogueStore(settings)
    try:
        first = read_catalogue([tmp_path / "units.csv", tmp_path / "procedures.yaml"])
        version, changed = store.load(first, "units.csv, procedures.yaml")
        assert changed
        assert version.version == 1
        assert version.units["000.00.60.H12"].valid_to is not None
        # The reuse mapping kept with the procedure: what may stand in for each document.
        [_, birth] = version.procedures["1.000101.000.00.00.H12"].components
        assert (birth.code, birth.accepts_results, birth.accepts_components) == (
            "KS",
            ("GKS",),
            ("KS",),
        )
        assert version.subtree("000.00.00.H12") == [
            "000.00.00.H12",
            "000.00.60.H12",
            "000.01.60.H12",
        ]
        assert not store.load(first, "again")[1]  # the same content is not a new version
        # A load of procedures only keeps the units of the current version.
        second = read_catalogue([tmp_path / "more.csv"], store.current().content)  # type: ignore[union-attr]
        version, changed = store.load(second, "more.csv")
        assert changed
        assert version.version == 2
        assert list(version.procedures) == ["1.000202.000.00.00.H12"]
        assert version.procedures["1.000202.000.00.00.H12"].units == ("000.01.60.H12",)
        assert [v[0] for v in store.versions()] == [1, 2]
        assert store.as_of(store.versions()[0][1]).version == 1  # type: ignore[union-attr]
    finally:
        store.close()


def test_bad_files_name_the_file_the_entry_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text(UNITS_CSV.replace("district", "county"), encoding="utf-8")
    with pytest.raises(CatalogueFileError, match=r"units.csv, entry 2: level"):
        read_catalogue([bad])
    orphan = tmp_path / "orphan.csv"
    orphan.write_text(UNITS_CSV.replace(",000.00.00.H12,,2025", ",000.00.99.H12,,2025"))
    missing_parent = re.escape("parent 000.00.99.H12 is not in the catalogue")
    with pytest.raises(CatalogueFileError, match=missing_parent):
        read_catalogue([orphan])
    with pytest.raises(CatalogueFileError, match="no units given"):
        read_catalogue([])
    with pytest.raises(CatalogueFileError, match="no such file"):
        read_catalogue([tmp_path / "missing.yaml"])


def test_a_successor_finishes_a_merged_units_dossier_in_either_store(hub: Hub) -> None:
    """The lifecycle asks the stored catalogue's unit history (opened on the first
    question): the successor is refused before the merger and accepted from its day."""
    from events.catalogue import CatalogueContent, UnitEntry, UnitLevel, UnitsMerged
    from tests.factories import event, received

    old, new = "000.01.60.H12", "000.01.90.H12"
    content = CatalogueContent(
        units=(
            UnitEntry(code="000.00.00.H12", name="UBND tỉnh", level=UnitLevel.PROVINCE),
            UnitEntry(code=old, name="UBND xã cũ", level=UnitLevel.COMMUNE),
            UnitEntry(code=new, name="UBND xã mới", level=UnitLevel.COMMUNE),
        ),
        changes=(UnitsMerged(units=(old,), into=new, effective=date(2025, 7, 1)),),
    )
    with CatalogueStore(hub.settings) as store:
        store.load(content, "test")
    code = f"{old}-250625-0001"
    outcomes = hub.ingestor.submit_json(
        [
            event("dossier.received", received(20), code=code, unit=old, when="2025-06-25 09:00"),
            event("dossier.transferred", code=code, unit=new, when="2025-06-30 10:00"),
            event("dossier.resolved", code=code, unit=new, when="2025-07-02 10:00"),
        ]
    )
    assert [o.status for o in outcomes] == ["accepted", "rejected", "accepted"], outcomes
