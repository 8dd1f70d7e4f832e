"""The topics' AsyncAPI document, as ``dvchub schema export`` writes it, checked by the
AsyncAPI Initiative's own parser (``scripts/services/asyncapi.sh``). What the hub really
writes on the topics is checked against it in test_hostile_kafka.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
from typer.testing import CliRunner

from hub.cli import app
from tests.conftest import ROOT

CHECK = ROOT / "scripts" / "services" / "asyncapi.sh"


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK), "check", str(path)], capture_output=True, text=True, timeout=300, check=False
    )


def test_the_exported_asyncapi_document_is_valid(tmp_path: Path) -> None:
    exported = CliRunner().invoke(app, ["schema", "export", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    document = tmp_path / "asyncapi.json"
    assert (tmp_path / "dossier.received.schema.json").exists()
    checked = _check(document)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "valid"

    # The checker does fail: OpenAPI's discriminator object is not AsyncAPI's.
    broken = orjson.loads(document.read_bytes())
    payload = broken["components"]["messages"]["action"]["payload"]
    payload["discriminator"] = {"propertyName": payload["discriminator"]}
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(orjson.dumps(broken))
    refused = _check(wrong)
    assert refused.returncode == 1
    assert "discriminator" in refused.stdout
