"""A simulator of the national portal's sync interface, faithful to what provincial
connectors see, with faults to inject (``dvchub portal-sim``).

It keeps what it receives (dossiers and processing steps) so that tests can read it back
(``GET /_sim/...``), logs sessions in and expires them, validates fields, codes and dates
with the portal's error answers, answers an insert of an existing dossier with
"đã tồn tại", and counts a processing step received twice (same dossier, time, status and
text) as a duplicate instead of applying it again.

Faults, each a probability per call (``PUT /_sim/faults`` or the command's options):
``error_5xx``, ``timeout`` (the call is applied, then the answer comes too late),
``slow``, ``drop_session``, ``rate_limit`` (429 with Retry-After) and ``wrong_body``; and
``refuse``, dossier codes whose updates are refused for good.

In strict mode (``--strict``) every payload is first checked against the documented
interface (:mod:`connectors.dvcqg.conformance`); one that fails is refused with its first
finding and counted (``strict_failures`` in ``GET /_sim/stats``, the findings under
``GET /_sim/strict``).

Dialects (:data:`DIALECTS`, ``--dialect``) answer as different deployments may: "đã tồn
tại" under other codes, an expired session said only in words or by HTTP 401, a look-up
answered as a list, with its steps under another name, or "not found" as an error.
"""

import asyncio
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ValidationError

from connectors.dvcqg.conformance import check_dossier, check_step, is_national_procedure_code
from connectors.dvcqg.protocol import (
    ALREADY_EXISTS,
    INVALID_SESSION,
    NOT_FOUND,
    SUCCESS,
    VALIDATION_FAILED,
    PortalDossier,
    ProgressStep,
)
from events.codes import CodeFormatError, parse_dossier_code


class Faults(BaseModel):
    error_5xx: float = 0.0
    timeout: float = 0.0
    timeout_seconds: float = 12.0
    slow: float = 0.0
    slow_seconds: float = 1.0
    drop_session: float = 0.0
    rate_limit: float = 0.0
    wrong_body: float = 0.0
    refuse: dict[str, str] = {}


class Dialect(BaseModel):
    """How a portal deployment words what the interface leaves open (see
    :mod:`connectors.dvcqg.answers`): the code of "đã tồn tại", how an expired session is
    said, and the shape of a look-up's answer."""

    exists_code: int = ALREADY_EXISTS
    #: ``code``: error_code ``expiry_code``; ``http``: HTTP 401; ``message``: error_code
    #: ``expiry_code`` with only the message saying what happened.
    expiry: Literal["code", "http", "message"] = "code"
    expiry_code: int = INVALID_SESSION
    expiry_message: str = "Phiên làm việc không hợp lệ hoặc đã hết hạn"
    #: A found dossier as an object, or as a list holding it.
    lookup: Literal["object", "list"] = "object"
    #: A dossier not there: ``null``, ``[]``, or an error answer with ``missing_code``.
    missing: Literal["null", "empty-list", "error"] = "null"
    missing_code: int = NOT_FOUND
    steps_key: str = "TienDoXuLy"


#: The dialects the connector is tested against (``dvchub portal-sim --dialect``).
DIALECTS = {
    "simulator": Dialect(),
    "message": Dialect(
        exists_code=1,
        expiry="message",
        expiry_code=-1,
        expiry_message="Vui lòng đăng nhập lại",
        lookup="list",
        missing="empty-list",
        steps_key="DanhSachTienDo",
    ),
    "http": Dialect(
        exists_code=99,
        expiry="http",
        missing="error",
        missing_code=1,
        steps_key="QuaTrinhXuLy",
    ),
}


@dataclass
class PortalStore:
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    step_keys: set[tuple[str, str, int, str]] = field(default_factory=set)
    duplicates: int = 0
    inserts: int = 0
    updates: int = 0
    calls: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    strict_failures: int = 0
    #: The first findings of strict mode, per dossier code.
    strict_findings: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _answer(code: int, message: str | None = None, result: Any = None) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message, "result": result})


def create_simulator(
    username: str,
    password: str,
    session_seconds: float = 300.0,
    faults: Faults | None = None,
    seed: int | None = None,
    dialect: Dialect | None = None,
    strict: bool = False,
) -> FastAPI:
    app = FastAPI(title="National portal simulator (DVCQG sync interface)")
    store = PortalStore()
    spoken = dialect or Dialect()
    sessions: dict[str, float] = {}
    state = {"faults": faults or Faults()}
    rng = random.Random(seed)  # noqa: S311 - fault injection, not secrets
    app.state.store = store

    def roll(name: str) -> bool:
        chance: float = getattr(state["faults"], name)
        hit = chance > 0 and rng.random() < chance
        if hit:
            store.faults[name] = store.faults.get(name, 0) + 1
        return hit

    @app.post("/login")
    async def login(
        request: Request, dstcode: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        body = await request.json()
        if not dstcode:
            return _answer(VALIDATION_FAILED, "Thiếu mã đơn vị (dstcode)")
        if body.get("username") != username or body.get("password") != password:
            return _answer(INVALID_SESSION, "Sai tên đăng nhập hoặc mật khẩu")
        token = secrets.token_hex(16)
        sessions[token] = time.monotonic() + session_seconds
        return JSONResponse({"error_code": SUCCESS, "session": token})

    @app.post("/service")
    async def service(request: Request) -> Response:
        store.calls += 1
        if roll("rate_limit"):
            return JSONResponse({"error": "too many requests"}, 429, headers={"Retry-After": "1"})
        if roll("error_5xx"):
            return PlainTextResponse("Service Unavailable", 503)
        if roll("wrong_body"):
            return PlainTextResponse("<html><body>Bảo trì hệ thống</body></html>", 200)
        if roll("slow"):
            await asyncio.sleep(state["faults"].slow_seconds)
        body = await request.json()
        session = body.get("session")
        if roll("drop_session") and session in sessions:
            del sessions[session]
        expires = sessions.get(session or "")
        if expires is None or expires < time.monotonic():
            sessions.pop(session or "", None)
            if spoken.expiry == "http":
                return JSONResponse({"error": "unauthorized"}, 401)
            return _answer(spoken.expiry_code, spoken.expiry_message)
        if not body.get("madonvi"):
            return _answer(VALIDATION_FAILED, "Thiếu mã đơn vị (madonvi)")
        late = roll("timeout")
        with store.lock:
            answer = _handle(store, state["faults"], body, spoken, strict)
        if late:  # applied, but the answer comes after the client has given up
            await asyncio.sleep(state["faults"].timeout_seconds)
        return answer

    @app.put("/_sim/faults")
    def set_faults(new: Faults) -> dict[str, Any]:
        state["faults"] = new
        return new.model_dump()

    @app.post("/_sim/expire-sessions")
    def expire_sessions() -> dict[str, int]:
        count = len(sessions)
        sessions.clear()
        return {"expired": count}

    @app.post("/_sim/forget/{code}")
    def forget(code: str) -> dict[str, int]:
        """Lose a dossier and its steps, as a portal that lost data would."""
        with store.lock:
            store.dossiers.pop(code, None)
            steps = store.steps.pop(code, [])
            store.step_keys -= {k for k in store.step_keys if k[0] == code}
        return {"forgotten_steps": len(steps)}

    @app.post("/_sim/status/{code}")
    def overwrite_status(code: str, status: int) -> dict[str, int]:
        """Change a dossier's status behind the connector's back."""
        with store.lock:
            store.dossiers[code] = {**store.dossiers[code], "TrangThaiHoSo": status}
        return {"status": status}

    @app.get("/_sim/stats")
    def stats() -> dict[str, Any]:
        return {
            "dossiers": len(store.dossiers),
            "steps": sum(len(s) for s in store.steps.values()),
            "duplicates": store.duplicates,
            "inserts": store.inserts,
            "updates": store.updates,
            "calls": store.calls,
            "faults": store.faults,
            "strict_failures": store.strict_failures,
        }

    @app.get("/_sim/strict")
    def strict_findings() -> dict[str, list[str]]:
        return store.strict_findings

    @app.get("/_sim/dossiers")
    def dossiers() -> dict[str, Any]:
        return {
            code: {"dossier": d, "steps": store.steps.get(code, [])}
            for code, d in store.dossiers.items()
        }

    return app


def _handle(
    store: PortalStore, faults: Faults, body: dict[str, Any], dialect: Dialect, strict: bool
) -> JSONResponse:
    name = body.get("service")
    if name == "TraCuuHoSo":
        code = body.get("mahoso")
        found = store.dossiers.get(code or "")
        if found is None:
            if dialect.missing == "error":
                return _answer(dialect.missing_code, f"Hồ sơ {code} không tồn tại")
            return _answer(
                SUCCESS,
                f"Không tìm thấy hồ sơ {code}",
                [] if dialect.missing == "empty-list" else None,
            )
        view = {**found, dialect.steps_key: store.steps.get(code or "", [])}
        return _answer(SUCCESS, None, [view] if dialect.lookup == "list" else view)
    if name == "DongBoHoSoMC":
        updating = body.get("isUpdating")
        if updating not in ("True", "False"):
            return _answer(VALIDATION_FAILED, "isUpdating phải là 'True' hoặc 'False'")
        items, problem = _validated(body.get("data"), PortalDossier, faults, store, strict)
        if problem:
            return _answer(VALIDATION_FAILED, problem)
        for item in items:
            exists = item["MaHoSo"] in store.dossiers
            if updating == "False" and exists:
                return _answer(dialect.exists_code, f"Hồ sơ {item['MaHoSo']} đã tồn tại")
            if updating == "True" and not exists:
                return _answer(NOT_FOUND, f"Hồ sơ {item['MaHoSo']} không tồn tại")
        for item in items:
            store.dossiers[item["MaHoSo"]] = item
            if updating == "True":
                store.updates += 1
            else:
                store.inserts += 1
        return _answer(SUCCESS, "Đồng bộ thành công", {"count": len(items)})
    if name == "CapNhatTienDoHoSoMC":
        items, problem = _validated(body.get("data"), ProgressStep, faults, store, strict)
        if problem:
            return _answer(VALIDATION_FAILED, problem)
        missing = [i["MaHoSo"] for i in items if i["MaHoSo"] not in store.dossiers]
        if missing:
            return _answer(NOT_FOUND, f"Hồ sơ {missing[0]} không tồn tại")
        for item in items:
            key = (item["MaHoSo"], item["ThoiDiemXuLy"], item["TrangThai"], item["NoiDungXuLy"])
            if key in store.step_keys:
                store.duplicates += 1
                continue
            store.step_keys.add(key)
            store.steps.setdefault(item["MaHoSo"], []).append(item)
        return _answer(SUCCESS, "Cập nhật tiến độ thành công", {"count": len(items)})
    return _answer(VALIDATION_FAILED, f"Dịch vụ không hợp lệ: {name!r}")


def _validated(
    data: Any,
    model: type[PortalDossier] | type[ProgressStep],
    faults: Faults,
    store: PortalStore,
    strict: bool,
) -> tuple[list[dict[str, Any]], str | None]:
    if not isinstance(data, list) or not data:
        return [], "data phải là một danh sách không rỗng"
    items = []
    for index, raw in enumerate(data):
        if strict:
            findings = (check_dossier if model is PortalDossier else check_step)(raw)
            if findings:
                whose = str(raw.get("MaHoSo")) if isinstance(raw, dict) else f"mục {index}"
                store.strict_failures += 1
                if len(store.strict_findings) < 100:
                    store.strict_findings.setdefault(whose, findings)
                return [], f"Dữ liệu không đúng đặc tả (hồ sơ {whose}): {findings[0]}"
        try:
            item = model.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            code = raw.get("MaHoSo") if isinstance(raw, dict) else None
            return [], f"Dữ liệu không hợp lệ (mục {index}, hồ sơ {code}): {where}: {first['msg']}"
        try:
            parse_dossier_code(item.MaHoSo)
        except CodeFormatError as error:
            return [], f"Mã hồ sơ không hợp lệ: {item.MaHoSo}: {error}"
        if isinstance(item, PortalDossier) and not is_national_procedure_code(item.MaTTHC):
            return [], f"Mã thủ tục không hợp lệ: {item.MaTTHC} (hồ sơ {item.MaHoSo})"
        refusal = faults.refuse.get(item.MaHoSo)
        if refusal:
            return [], f"Hồ sơ {item.MaHoSo} bị từ chối: {refusal}"
        items.append(item.model_dump(mode="json"))
    return items, None
