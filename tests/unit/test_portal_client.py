"""The portal client's log-in rules, against a portal played by an httpx transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.dvcqg.client import PortalClient, PortalRefused


class Portal:
    """Answers log-ins with numbered sessions; service calls with ``answers`` in turn."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []
        self.sessions: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path.endswith("login"):
            session = f"s{sum(p.endswith('login') for p in self.paths)}"
            return httpx.Response(200, json={"error_code": 0, "session": session})
        self.sessions.append(json.loads(request.content)["session"])
        return httpx.Response(200, json=self.answers.pop(0))


def _client(portal: Portal, login: str = "/login", service: str = "/service") -> PortalClient:
    client = PortalClient(
        "http://portal", "u", "p", "H12", "H12", login_path=login, service_path=service
    )
    client.http = httpx.Client(base_url="http://portal", transport=httpx.MockTransport(portal))
    return client


OK = {"error_code": 0, "message": None, "result": {"count": 1}}
ODD = {"error_code": 77, "message": "Lỗi không xác định"}


def test_the_paths_are_the_deployments() -> None:
    portal = Portal(OK)
    client = _client(portal, "/api/dvcqg/login", "/api/dvcqg/dich-vu")
    client.call("DongBoHoSoMC", isUpdating="False", data=[])
    assert portal.paths == ["/api/dvcqg/login", "/api/dvcqg/dich-vu"]


def test_a_refusal_under_an_older_session_is_tried_once_more_after_a_fresh_log_in() -> None:
    portal = Portal(OK, ODD, OK)
    client = _client(portal)
    client.call("DongBoHoSoMC", isUpdating="False", data=[])  # the session is now older
    client.call("DongBoHoSoMC", isUpdating="False", data=[])
    assert portal.sessions == ["s1", "s1", "s2"]
    assert client.logins == 2


def test_a_refusal_under_a_fresh_session_is_a_refusal() -> None:
    portal = Portal(ODD)
    client = _client(portal)
    with pytest.raises(PortalRefused, match="77"):
        client.call("DongBoHoSoMC", isUpdating="False", data=[])
    assert portal.sessions == ["s1"]


def test_answers_that_mean_something_are_not_repeated() -> None:
    exists = {"error_code": 5, "message": "Hồ sơ X đã tồn tại"}
    missing = {"error_code": 6, "message": "Hồ sơ X không tồn tại"}
    portal = Portal(OK, exists, missing)
    client = _client(portal)
    client.call("DongBoHoSoMC", isUpdating="False", data=[])
    with pytest.raises(PortalRefused):
        client.call("DongBoHoSoMC", isUpdating="False", data=[])
    assert client.look_up("X") is None
    assert portal.sessions == ["s1", "s1", "s1"]


def test_an_expiry_in_words_logs_in_again() -> None:
    portal = Portal({"error_code": -1, "message": "Vui lòng đăng nhập lại"}, OK)
    client = _client(portal)
    assert client.call("CapNhatTienDoHoSoMC", data=[]).ok
    assert portal.sessions == ["s1", "s2"]
