"""Turn a scenario into its catalogue and a realistic, time-ordered stream of dossier events.

The counts a scenario gives are met exactly: every unit receives its dossiers through the
channels it says, within its spans, and a unit with ``online_procedures_used`` spreads its
online dossiers over exactly that many procedures. Days, procedures and lifecycle paths
are drawn from the seed, per unit, so a unit's dossiers do not change when another unit is
added. Events come out in the order they occurred, generated a day at a time, so memory
holds only the dossiers in progress.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from events.catalogue import (
    AnyUnitChange,
    CatalogueContent,
    ProcedureEntry,
    SplitShare,
    UnitDissolved,
    UnitEntry,
    UnitLevel,
    UnitsMerged,
    UnitSplit,
)
from events.enums import Channel, OnlineServiceLevel, TimeUnit
from events.models import ProcessingTime
from hub.domain.calendar import WorkingCalendar
from hub.domain.event_types import OPENING
from hub.domain.unit_tree import UnitTree
from hub.domain.vietnam import VIETNAM
from hub.simulation.scenario import Scenario, Span, UnitSpec, Volume
from hub.simulation.workload import (
    DemoProcedure,
    DossierPath,
    EarlierResult,
    LifecycleMix,
    result_type,
    reuse_mapping,
)

FIELDS = (
    ("TP", "Tư pháp"),
    ("HT", "Hộ tịch"),
    ("DD", "Đất đai"),
    ("XD", "Xây dựng"),
    ("KD", "Đăng ký kinh doanh"),
    ("GD", "Giáo dục và Đào tạo"),
    ("YT", "Y tế"),
    ("GT", "Giao thông vận tải"),
    ("LD", "Lao động - Thương binh và Xã hội"),
    ("NN", "Nông nghiệp và Phát triển nông thôn"),
)
_Y_START = {UnitLevel.PROVINCE: 1, UnitLevel.DISTRICT: 60}


@dataclass
class PlannedUnit:
    code: str
    name: str
    level: UnitLevel
    parent: str | None
    spec: UnitSpec
    volumes: list[tuple[Span, Volume]] = field(default_factory=list)
    #: The unit it merged into after ``spec.until`` (a code; None: split or dissolved).
    into: str | None = None


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    units: list[PlannedUnit]
    catalogue: CatalogueContent
    offered: dict[str, list[ProcedureEntry]]  # unit code -> procedures it offers

    @property
    def dossiers(self) -> int:
        return sum(v.received + v.refused for u in self.units for _, v in u.volumes)


def plan(scenario: Scenario) -> Plan:
    units = _expand_units(scenario)
    catalogue, offered = _catalogue(scenario, units)
    return Plan(scenario, units, catalogue, offered)


class _Reorganisation:
    """Who acts on a dossier after its unit ended (its successor with the largest share, from
    the effective day), and which dossiers a service centre receives for a commune."""

    def __init__(self, plan: Plan) -> None:
        tree = UnitTree(plan.catalogue.units, plan.catalogue.changes)
        self._tree = tree
        self._ended = {
            unit.code: end
            for unit in plan.catalogue.units
            if (end := tree.ended(unit.code)) is not None
        }
        self._acting: dict[tuple[str, date], str] = {}
        self.centres = [u for u in plan.units if u.spec.receives_for]
        self._rng = random.Random(f"{plan.scenario.seed}/centres")  # noqa: S311

    def acting(self, unit: str, day: date) -> str:
        """The unit that acts for ``unit`` on ``day``."""
        end = self._ended.get(unit)
        if end is None or day <= end:
            return unit
        key = (unit, day)
        found = self._acting.get(key)
        if found is None:
            shares = self._tree.successors(unit, day) or {unit: Fraction(1)}
            found = self._acting[key] = max(shares, key=lambda code: (shares[code], code))
        return found

    def centre_for(self, unit: PlannedUnit, day: date) -> PlannedUnit | None:
        """The centre that receives this dossier of ``unit`` for it, if one does."""
        if unit.level is not UnitLevel.COMMUNE:
            return None
        for centre in self.centres:
            since = centre.spec.since
            if (since is None or since <= day) and (unit.spec.since or date.min) <= day:
                share = centre.spec.receives_for or 0.0
                if self._rng.random() < share:
                    return centre
        return None

    def rewrite(self, events: list[dict[str, Any]], centre: PlannedUnit | None) -> None:
        """The dossier's events as they happen: the centre opens it for its authority; after
        its unit ended, the successor acts."""
        for item in events:
            if centre is not None and item["event_type"] in OPENING:
                authority = item["unit_code"]
                item["unit_code"] = centre.code
                if item["event_type"] != "dossier.refused":
                    item["payload"]["authority_code"] = authority
                continue
            day = date.fromisoformat(item["occurred_at"][:10])
            item["unit_code"] = self.acting(item["unit_code"], day)


def events(plan: Plan, calendar: WorkingCalendar) -> Iterator[dict[str, Any]]:
    """Every event of the scenario, in the order they occurred."""
    scenario = plan.scenario
    mix = LifecycleMix(refused=0.0, **scenario.lifecycle.model_dump())
    refusing = replace(mix, refused=1.0)
    by_day: dict[date, list[tuple[PlannedUnit, Channel, ProcedureEntry, bool]]] = {}
    rngs: dict[str, random.Random] = {}
    for unit in plan.units:
        rng = rngs[unit.code] = random.Random(f"{scenario.seed}/{unit.code}")  # noqa: S311
        for span, volume in unit.volumes:
            for day, channel, procedure, refused in _dossiers(
                rng, unit, span, volume, plan, calendar
            ):
                by_day.setdefault(day, []).append((unit, channel, procedure, refused))
    heap: list[tuple[datetime, int, int, dict[str, Any]]] = []
    serial = 0
    reuse = _Reuse(scenario, by_day)
    changes = (
        _Reorganisation(plan)
        if plan.catalogue.changes or any(u.spec.receives_for for u in plan.units)
        else None
    )
    for day in sorted(by_day):
        sequences: dict[str, int] = {}
        for unit, channel, procedure, refused in by_day.pop(day):
            centre = None if changes is None else changes.centre_for(unit, day)
            receiver = unit.code if centre is None else centre.code
            sequences[receiver] = sequence = sequences.get(receiver, 0) + 1
            code = f"{receiver}-{day:%y%m%d}-{sequence:04d}"
            path = DossierPath(
                calendar,
                rngs[unit.code],
                unit.code,
                _as_demo(procedure),
                code,
                day,
                refusing if refused else mix,
                scenario.source_system,
            )
            if not refused:
                path.reuse = reuse.earlier(day, path.at, result_type(procedure.field_code))
            serial += 1
            out = path.events(channel, refusable=refused)
            if changes is not None:
                changes.rewrite(out, centre)
            reuse.remember(out)
            for index, event in enumerate(out):
                at = datetime.fromisoformat(event["occurred_at"])
                heapq.heappush(heap, (at, serial, index, event))
        horizon = datetime.combine(day + timedelta(days=1), time(0), VIETNAM)
        while heap and heap[0][0] < horizon:
            yield heapq.heappop(heap)[3]
    while heap:
        yield heapq.heappop(heap)[3]


class _Reuse:
    """Chooses which received dossiers of the period reuse an earlier one: exactly the
    scenario's share of them (rounded half up), spread over the period, each reusing an
    approved dossier of the same field resolved at least two days before it was submitted.
    Its own random stream, so the rest of the scenario is the same with or without it."""

    def __init__(self, scenario: Scenario, by_day: dict[date, list[Any]]) -> None:
        period = scenario.period
        self.period = period
        self.eligible = sum(
            1
            for day, planned in by_day.items()
            if period.start <= day <= period.end
            for *_, refused in planned
            if not refused
        )
        share = Decimal(str(scenario.reuse.share))
        self.quota = int((share * self.eligible).quantize(Decimal(1), ROUND_HALF_UP))
        self.owed = 0  # chosen earlier, but nothing to reuse was found yet
        self.rng = random.Random(f"{scenario.seed}/reuse")  # noqa: S311
        self.pool: dict[str, list[tuple[datetime, EarlierResult]]] = {}

    def earlier(self, day: date, at: datetime, kind: str) -> EarlierResult | None:
        if not self.period.start <= day <= self.period.end:
            return None
        left, self.eligible = self.eligible, self.eligible - 1
        if self.quota <= 0:
            return None
        if not self.owed and self.rng.random() >= self.quota / left:
            return None
        candidates = self.pool.get(kind, [])
        cutoff = at - timedelta(days=2)
        for _ in range(20 if candidates else 0):
            resolved_at, found = candidates[self.rng.randrange(len(candidates))]
            if resolved_at < cutoff:
                self.quota -= 1
                self.owed = 0
                return found
        self.owed = 1  # the next dossier with something to reuse takes this one's turn
        return None

    def remember(self, events: list[dict[str, Any]]) -> None:
        """Keep an approved dossier's result as something later dossiers may reuse."""
        last = next((e for e in events[-2:] if e["event_type"] == "dossier.resolved"), None)
        if last is None or last["payload"]["decision"] != "approved":
            return
        submitted = next(e for e in events if "applicant_id_hash" in e["payload"])
        result = last["payload"]["result_documents"][0]
        self.pool.setdefault(result["document_type"], []).append(
            (
                datetime.fromisoformat(last["occurred_at"]),
                EarlierResult(
                    events[0]["dossier_code"],
                    submitted["payload"]["applicant_id_hash"],
                    result["sha256"],
                ),
            )
        )


def _dossiers(
    rng: random.Random,
    unit: PlannedUnit,
    span: Span,
    volume: Volume,
    plan: Plan,
    calendar: WorkingCalendar,
) -> list[tuple[date, Channel, ProcedureEntry, bool]]:
    days = [
        span.start + timedelta(days=n)
        for n in range((span.end - span.start).days + 1)
        if calendar.is_working_day(span.start + timedelta(days=n))
    ]
    if not days:
        raise ValueError(f"{unit.name}: no working day between {span.start} and {span.end}")
    offered = plan.offered.get(unit.code, [])
    online = [p for p in offered if p.online]
    if (volume.online and not online) or (volume.received + volume.refused and not offered):
        raise ValueError(f"{unit.name} receives dossiers of procedures it does not offer")
    used = unit.spec.online_procedures_used
    if used is not None:
        if used > len(online):
            raise ValueError(f"{unit.name}: uses {used} online procedures, offers {len(online)}")
        online = rng.sample(online, used)
    channels = (
        [Channel.ONLINE] * volume.online
        + [Channel.POST] * volume.post
        + [Channel.WALK_IN] * volume.walk_in
    )
    online_choices = list(online)  # each used procedure gets at least one online dossier
    rng.shuffle(online_choices)
    planned = []
    for channel in channels:
        if channel is Channel.ONLINE:
            procedure = online_choices.pop() if online_choices else rng.choice(online)
        else:
            procedure = rng.choice(offered)
        planned.append((rng.choice(days), channel, procedure, False))
    for _ in range(volume.refused):
        channel = rng.choice([Channel.WALK_IN, Channel.ONLINE]) if online else Channel.WALK_IN
        pool = online if channel is Channel.ONLINE else offered
        planned.append((rng.choice(days), channel, rng.choice(pool), True))
    rng.shuffle(planned)
    return planned


def _as_demo(procedure: ProcedureEntry) -> DemoProcedure:
    return DemoProcedure(
        procedure.code,
        procedure.name,
        procedure.field_code,
        int(procedure.processing_time.value),
        int(procedure.service_level),
    )


# --- units --------------------------------------------------------------------------------


def _expand_units(scenario: Scenario) -> list[PlannedUnit]:
    province = scenario.province.code
    rng = random.Random(f"{scenario.seed}/units")  # noqa: S311
    next_y = dict(_Y_START)
    next_z: dict[str, int] = {}
    by_name: dict[str, str] = {scenario.province.name: province}
    by_name.update({former.name: former.code for former in scenario.former_provinces})
    planned: list[PlannedUnit] = []
    for spec in scenario.units:
        parents = list(spec.parents) or [spec.parent or scenario.province.name]
        weights = [rng.uniform(0.4, 1.6) for _ in range(spec.count)]
        for index in range(spec.count):
            parent_ref = parents[index % len(parents)]
            parent = by_name.get(parent_ref, parent_ref)
            if spec.count == 1:
                name = spec.name
            elif index < len(spec.names):
                name = spec.names[index]
            else:
                name = f"{spec.name} {index + 1}"
            code = spec.code or _next_code(spec, parent, next_y, next_z)
            by_name[name] = code
            planned.append(PlannedUnit(code, name, spec.level, parent, spec))
        group = planned[-spec.count :]
        _share(group, weights, spec)
    start = 0
    for spec in scenario.units:  # successors may be listed after the units they continue
        group, start = planned[start : start + spec.count], start + spec.count
        for index, unit in enumerate(group):
            if spec.into:
                ref = spec.into[index % len(spec.into)]
                if ref not in by_name and ref not in by_name.values():
                    raise ValueError(f"{unit.name}: merges into {ref}, which is not a unit")
                unit.into = by_name.get(ref, ref)
    return planned


def _next_code(
    spec: UnitSpec, parent: str, next_y: dict[UnitLevel, int], next_z: dict[str, int]
) -> str:
    """The next free code of ``spec``'s level under ``parent`` (its province's group last)."""
    suffix = parent.split(".")[-1]
    if spec.level is UnitLevel.COMMUNE:
        group = spec.code_group or parent.split(".")[2]
        key = f"{group}.{suffix}"
        z = next_z[key] = next_z.get(key, 0) + 1
        return f"000.{z:02d}.{group}.{suffix}"
    y = next_y[spec.level]
    next_y[spec.level] = y + 1
    return f"000.00.{y:02d}.{suffix}"


def _share(group: list[PlannedUnit], weights: list[float], spec: UnitSpec) -> None:
    """Split the group's volumes between its units, exactly, in proportion to ``weights``."""
    spans: list[tuple[Span, Volume]] = [(h, h.dossiers) for h in spec.history]
    spans.append((Span(start=date.min, end=date.min), spec.dossiers))  # the period: set later
    for span, volume in spans:
        received = _split(volume.received, weights)
        online = _split(volume.online, [float(n) for n in received])
        post = _split(volume.post, [float(r - o) for r, o in zip(received, online, strict=True)])
        refused = _split(volume.refused, weights)
        for unit, r, o, p, x in zip(group, received, online, post, refused, strict=True):
            unit.volumes.append((span, Volume(received=r, online=o, post=min(p, r - o), refused=x)))


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` in whole parts proportional to ``weights`` (largest remainders)."""
    whole = sum(weights)
    if total == 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


# --- catalogue ----------------------------------------------------------------------------


def _catalogue(
    scenario: Scenario, units: list[PlannedUnit]
) -> tuple[CatalogueContent, dict[str, list[ProcedureEntry]]]:
    period = scenario.period
    for unit in units:  # the period's span was a placeholder until now
        lived = Span(
            start=max(period.start, unit.spec.since or period.start),
            end=min(period.end, unit.spec.until or period.end),
        )
        unit.volumes = [
            (lived if span.start == date.min else span, volume) for span, volume in unit.volumes
        ]
    province = scenario.province
    entries = [UnitEntry(code=province.code, name=province.name, level=UnitLevel.PROVINCE)]
    entries += [
        UnitEntry(
            code=former.code, name=former.name, level=UnitLevel.PROVINCE, valid_to=former.until
        )
        for former in scenario.former_provinces
    ]
    entries += [
        UnitEntry(
            code=u.code,
            name=u.name,
            level=u.level,
            parent=u.parent,
            valid_from=u.spec.since,
            valid_to=u.spec.until,
        )
        for u in units
    ]
    changes = _changes(scenario, units)
    rng = random.Random(f"{scenario.seed}/catalogue")  # noqa: S311
    suffix = province.code
    procedures: list[ProcedureEntry] = []
    offered: dict[str, list[ProcedureEntry]] = {u.code: [] for u in units}
    serial = 0
    for level, counts in scenario.catalogue.procedures.items():
        at_level = [u for u in units if u.level is level and not u.spec.receives_for]
        online_total = counts.level_3 + counts.level_4
        integrated = set(rng.sample(range(online_total), counts.integrated))
        kinds = [3] * counts.level_3 + [4] * counts.level_4 + [2] * counts.level_2
        for index, service_level in enumerate(kinds):
            serial += 1
            field_code, field_name = FIELDS[serial % len(FIELDS)]
            national = f"1.{serial:06d}"
            if index < online_total:
                takers = [
                    u
                    for u in at_level
                    if u.spec.offers_online is None or index < u.spec.offers_online
                ]
            else:
                takers = list(at_level)
            if level is UnitLevel.PROVINCE and takers:  # each department has its own
                takers = [takers[serial % len(takers)]]
            entry = ProcedureEntry(
                code=f"{national}.{suffix}",
                national_code=national,
                name=f"Thủ tục {field_name.lower()} số {serial}",
                field_code=field_code,
                field_name=field_name,
                level=level,
                service_level=OnlineServiceLevel(service_level),
                processing_time=ProcessingTime(
                    value=rng.choice([1, 3, 5, 7, 10, 15, 20]), unit=TimeUnit.WORKING_DAYS
                ),
                integrated=index in integrated,
                integrated_since=scenario.catalogue.integrated_since
                if index in integrated
                else None,
                units=() if len(takers) == len(at_level) else tuple(u.code for u in takers),
                components=reuse_mapping(field_code),
            )
            procedures.append(entry)
            for unit in takers:
                offered[unit.code].append(entry)
    content = CatalogueContent(
        units=tuple(entries), procedures=tuple(procedures), changes=tuple(changes)
    )
    return content, offered


def _changes(scenario: Scenario, units: list[PlannedUnit]) -> list[AnyUnitChange]:
    """The reorganisation as catalogue changes: each ended unit merged into its successor,
    split among its successors, or dissolved, the day after its last; former provinces
    merged into the province."""
    note = scenario.reorganisation_note
    by_name = {u.name: u.code for u in units}
    codes = {u.code for u in units}
    splits = {
        by_name.get(split.unit, split.unit): {by_name.get(k, k): v for k, v in split.among.items()}
        for split in scenario.splits
    }
    for code, among in splits.items():
        unknown = [c for c in (code, *among) if c not in codes]
        if unknown:
            raise ValueError(f"split of {code}: {', '.join(unknown)} not a unit of the scenario")
    merged: dict[tuple[str, date], list[str]] = {}
    changes: list[AnyUnitChange] = []
    for former in scenario.former_provinces:
        merged.setdefault((scenario.province.code, former.until), []).append(former.code)
    for unit in units:
        until = unit.spec.until
        if until is None:
            continue
        effective = until + timedelta(days=1)
        if unit.code in splits:
            parts = tuple(
                SplitShare(unit=code, share=share) for code, share in splits[unit.code].items()
            )
            changes.append(UnitSplit(unit=unit.code, among=parts, effective=effective, note=note))
        elif unit.into is not None:
            merged.setdefault((unit.into, until), []).append(unit.code)
        else:
            changes.append(UnitDissolved(unit=unit.code, effective=effective, note=note))
    for (into, until), ended in merged.items():
        effective = until + timedelta(days=1)
        changes.append(UnitsMerged(units=tuple(ended), into=into, effective=effective, note=note))
    return sorted(changes, key=lambda change: change.effective)
