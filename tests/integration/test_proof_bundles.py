"""The standalone verifier against bundles handed over by someone who wants them to pass:
spliced with another dossier's event, relabelled, cut short, reordered, with a note not as
C2SP writes it, another log's checkpoint, or not a bundle at all. Each is refused with a
specific reason; the bundle ``dvchub audit prove`` wrote is verified complete."""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.adapters.sql import ReadModelDatabase
from hub.audit import service
from hub.audit.checkpoints import Signer
from hub.audit.publish import sealer
from hub.bootstrap import bootstrap
from hub.settings import HubSettings
from hub.simulation.workload import Workload
from tests.conftest import ROOT
from tests.go_tools import build
from verifier import dvchub_verify as verifier


@dataclass(frozen=True)
class Proven:
    key: str
    bundle: dict[str, Any]  # of a dossier with at least three events
    other: dict[str, Any]  # another dossier's


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proven]:
    settings = HubSettings(data_dir=tmp_path_factory.mktemp("bundles") / "var")
    hub = bootstrap(settings, configure_logs=False)
    events = Workload(date(2021, 3, 1), 4, 8, seed=21).events()
    hub.ingestor.submit_json(events)
    worker = sealer(settings, hub.store)
    worker.seal()
    worker.checkpoint()
    counts: dict[str, int] = {}
    for item in events:
        counts[item["dossier_code"]] = counts.get(item["dossier_code"], 0) + 1
    long, other = [code for code, n in sorted(counts.items()) if n >= 3][:2]
    db = ReadModelDatabase(settings)
    try:
        bundles = [
            json.loads(service.prove(hub.store, db, code).model_dump_json())
            for code in (long, other)
        ]
        yield Proven(worker.signer.verifier_key, *bundles)
    finally:
        db.close()
        worker.db.close()
        hub.close()


def _check(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bundle: Any,
    key: str,
    *options: str,
    raw: bytes | None = None,
) -> tuple[int, str, str]:
    path = tmp_path / "bundle.json"
    path.write_bytes(raw if raw is not None else json.dumps(bundle).encode())
    status = verifier.main([str(path), "--key", key, *options])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_bundle_prove_wrote_is_verified_complete_and_names_its_dossier(
    proven: Proven, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _check(tmp_path, capsys, proven.bundle, proven.key)
    assert status == verifier.VERIFIED, err
    code = proven.bundle["dossier_code"]
    versions = len(proven.bundle["events"])
    assert out.splitlines()[0] == f"dossier: {code}"
    assert f"complete as of checkpoint {proven.bundle['checkpoint'].split(chr(10))[1]}" in out
    assert f"versions 1 to {versions} are the dossier's whole history" in out
    assert out.rstrip().endswith("VERIFIED")


REFUSALS = {
    "spliced": "event 2 of the bundle is of another dossier",
    "spliced, chain values dropped": "event 2 of the bundle is of another dossier",
    "relabelled": "event 1 of the bundle is of another dossier",
    "cut short": "the bundle ends at version {last}; as of checkpoint",
    "reordered": "event 1 of the bundle says it is version 2",
    "head of another dossier": "the head proven is of",
    "head moved in the map": "is not in the checkpoint's map of heads",
    "no head proof": "the head proof is not an object",
}


def _tampered(proven: Proven, how: str) -> dict[str, Any]:
    bundle = copy.deepcopy(proven.bundle)
    events = bundle["events"]
    if how.startswith("spliced"):
        events[1] = copy.deepcopy(proven.other["events"][1])
        if how.endswith("dropped"):
            for event in events:
                event.pop("chain")
    elif how == "relabelled":
        bundle["dossier_code"] = proven.other["dossier_code"]
    elif how == "cut short":
        del events[-1]
    elif how == "reordered":
        events[0], events[1] = events[1], events[0]
    elif how == "head of another dossier":
        bundle["heads"] = copy.deepcopy(proven.other["heads"])
    elif how == "head moved in the map":
        bundle["heads"]["head"]["index"] += 1
    elif how == "no head proof":
        bundle["heads"] = None
    return bundle


@pytest.mark.parametrize("how", list(REFUSALS))
def test_a_tampered_bundle_is_refused_saying_why(
    proven: Proven, how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _check(tmp_path, capsys, _tampered(proven, how), proven.key)
    assert status == verifier.NOT_VERIFIED, out
    last = len(proven.bundle["events"]) - 1
    assert err.startswith("NOT VERIFIED: ")
    assert REFUSALS[how].format(last=last) in err
    assert "VERIFIED" not in out


def test_the_note_is_read_as_c2sp_and_the_log_is_the_one_expected(
    proven: Proven, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = copy.deepcopy(proven.bundle)
    bundle["checkpoint"] = bundle["checkpoint"].rstrip("\n")
    status, _, err = _check(tmp_path, capsys, bundle, proven.key)
    assert (status, err) == (1, "NOT VERIFIED: the signed note does not end with a newline\n")
    bundle["checkpoint"] = proven.bundle["checkpoint"].replace("\n\n", "\n\x07\n\n", 1)
    assert "control characters" in _check(tmp_path, capsys, bundle, proven.key)[2]
    status, _, err = _check(tmp_path, capsys, proven.bundle, proven.key, "--origin", "other.log")
    assert status == 1
    assert "the checkpoint is of the log 'dvchub.local/dossiers', not 'other.log'" in err
    origin = proven.bundle["checkpoint"].split("\n")[0]
    assert _check(tmp_path, capsys, proven.bundle, proven.key, "--origin", origin)[0] == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "the bundle is not JSON in UTF-8"),
        (b"[]", "the bundle is not an object"),
        (b'{"format": "dvchub-proof/1"}', "the bundle has no dossier_code (str)"),
        (b'{"format": "other"}', "the bundle's format 'other' is not dvchub-proof/1"),
    ],
)
def test_a_malformed_bundle_is_not_verified_with_a_reason_never_a_traceback(
    proven: Proven, raw: bytes, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _check(tmp_path, capsys, None, proven.key, raw=raw)
    assert (status, err) == (verifier.NOT_VERIFIED, f"NOT VERIFIED: {reason}\n")


def test_malformed_parts_inside_a_bundle_are_reasons_too(
    proven: Proven, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases: list[tuple[str, Any, str]] = [
        ("events", [], "the bundle holds no event"),
        ("events", ["x"], "event 1 of the bundle is not an object"),
        ("checkpoint", 7, "the bundle has no checkpoint (str)"),
        ("consistency", {"older_checkpoint": 1}, "the consistency proof has no"),
    ]
    for field, value, reason in cases:
        bundle = copy.deepcopy(proven.bundle) | {field: value}
        status, _, err = _check(tmp_path, capsys, bundle, proven.key)
        assert status == 1, field
        assert reason in err, err
    bundle = copy.deepcopy(proven.bundle)
    bundle["events"][0]["inclusion"] = ["zz"]
    assert "holds a hash that is not hex" in _check(tmp_path, capsys, bundle, proven.key)[2]


def test_a_checkpoint_without_a_map_of_heads_verifies_the_events_but_not_completeness(
    proven: Proven, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint signed before the map was kept: the events are checked, and the output
    and the exit status say completeness is not shown."""
    # Re-sign the checkpoint without its heads line, with a key of the same name.

    note = proven.bundle["checkpoint"]
    origin, size, root = note.split("\n")[:3]
    signer = Signer(origin, Ed25519PrivateKey.generate())

    bundle = copy.deepcopy(proven.bundle)
    bundle["checkpoint"] = signer.sign(int(size), base64.b64decode(root), datetime.now(UTC)).note
    bundle["consistency"] = None
    status, out, err = _check(tmp_path, capsys, bundle, signer.verifier_key)
    assert status == verifier.NOT_SHOWN_COMPLETE, err
    assert f"completeness: not shown: checkpoint {size} commits to no map" in out
    assert out.rstrip().endswith("VERIFIED, NOT SHOWN COMPLETE")


# --- against an independent implementation -------------------------------------------------

GOVERIFY = ROOT / "tests" / "audit" / "goverify"


@pytest.fixture(scope="module")
def goverify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tests/audit/goverify`` built with this machine's Go: the bundles' rules over Go's
    sumdb/note, transparency-dev's formats and merkle, and google/uuid."""
    return build(GOVERIFY, tmp_path_factory)


def _mutations(proven: Proven, count: int, seed: int) -> Iterator[tuple[str, Any]]:
    """Bundles changed at random places: a hash, a number, an event dropped or moved, a
    character of a note, a field removed."""
    rng = random.Random(seed)
    for n in range(count):
        bundle = copy.deepcopy(rng.choice([proven.bundle, proven.other]))
        how = rng.choice(["hash", "number", "drop", "swap", "note", "remove", "code"])
        if how == "hash":
            holders = [e["inclusion"] for e in bundle["events"] if e["inclusion"]]
            heads = bundle["heads"]
            holders += [heads[k]["inclusion"] for k in ("head", "before", "after") if heads[k]]
            if bundle["consistency"]:
                holders.append(bundle["consistency"]["proof"])
            holder = rng.choice([h for h in holders if h])
            i = rng.randrange(len(holder))
            value = holder[i]
            j = rng.randrange(64)
            holder[i] = value[:j] + ("0" if value[j] != "0" else "1") + value[j + 1 :]
        elif how == "number":
            target = rng.choice(
                [*bundle["events"], *[h for h in bundle["heads"].values() if isinstance(h, dict)]]
            )
            field = rng.choice([k for k in ("leaf_index", "index", "version") if k in target])
            target[field] += rng.choice([-1, 1])
        elif how == "drop" and len(bundle["events"]) > 1:
            del bundle["events"][rng.randrange(len(bundle["events"]))]
        elif how == "swap" and len(bundle["events"]) > 1:
            i, j = rng.sample(range(len(bundle["events"])), 2)
            bundle["events"][i], bundle["events"][j] = bundle["events"][j], bundle["events"][i]
        elif how == "note":
            note = bundle["checkpoint"]
            i = rng.randrange(len(note))
            bundle["checkpoint"] = note[:i] + rng.choice(["", "x", "\n", " "]) + note[i + 1 :]
        elif how == "remove":
            bundle["heads"][rng.choice(["before", "after"])] = None
        elif how == "code":
            bundle["dossier_code"] = rng.choice([proven.bundle, proven.other])["dossier_code"]
        yield f"random-{n:03d}-{how}", bundle


@pytest.mark.process
def test_the_verifier_and_an_independent_go_one_agree_on_every_bundle(
    proven: Proven, goverify: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus: dict[str, Any] = {"as-proven": proven.bundle, "other": proven.other}
    corpus |= {f"tampered-{how}": _tampered(proven, how) for how in REFUSALS}
    corpus |= dict(_mutations(proven, 150, seed=2026))
    python: dict[str, str] = {}
    for name, bundle in corpus.items():
        path = tmp_path / f"{re.sub(r'[^a-z0-9-]+', '-', name)}.json"
        path.write_text(json.dumps(bundle))
        status = verifier.main([str(path), "--key", proven.key])
        capsys.readouterr()
        python[str(path)] = {0: "complete", 3: "incomplete"}.get(status, "refused")
    origin = proven.bundle["checkpoint"].split("\n")[0]
    done = subprocess.run(
        [str(goverify), proven.key, origin, *python],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    go = {line.split(" ")[0]: line.split(" ")[1] for line in done.stdout.splitlines()}
    disagree = {
        Path(path).stem: (verdict, go.get(path))
        for path, verdict in python.items()
        if go.get(path) != verdict
    }
    assert not disagree, disagree
    verdicts = list(python.values())
    assert verdicts.count("complete") >= 2
    assert verdicts.count("refused") > 100
