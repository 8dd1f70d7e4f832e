"""A tolerant reader of the portal's answers. No I/O.

The interface as practised (../shared/domain.md) names few conventions: ``error_code`` 0 is
success, and an insert of a dossier that exists is answered with a message containing
"đã tồn tại". Error codes, the form of an expired session and the shape of a look-up's
result are not published and differ between deployments. So, in the sense of Postel's law,
the connector is strict in what it sends and reads what comes back by meaning:

- *exists*: the message says "đã tồn tại", whatever the code (or one of the deployment's
  codes for it, :class:`AnswerCodes`: the simulator's 2 by default);
- *session expired*: HTTP 401 or 403, one of the deployment's codes for it (401 by default),
  or a message about the session or token
  having expired or being invalid, or asking to log in again (and the client logs in once
  more before it takes any refusal for one, see :mod:`connectors.dvcqg.client`);
- *not found* (a look-up): an empty result (``null``, ``[]``, ``{}``, ``""``), or an error
  with one of the deployment's codes for it (3 by default) or whose message says the
  dossier does not exist or was not found;
- *found* (a look-up): an object, or a list holding the dossier (by ``MaHoSo``, or the only
  element), with its steps under ``TienDoXuLy`` or a few other names, or none.

Anything else is :class:`UnreadableAnswer`: the dossier it was about is parked with the
answer kept, and the connector goes on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from connectors.dvcqg.protocol import ALREADY_EXISTS, INVALID_SESSION, NOT_FOUND, PortalAnswer

#: Where portals put a looked-up dossier's steps; the first present is taken.
STEP_KEYS = ("TienDoXuLy", "DanhSachTienDo", "TienDo", "QuaTrinhXuLy", "DanhSachQuaTrinhXuLy")

_EXISTS = re.compile(r"đã tồn tại|already exists?")
_NOT_FOUND = re.compile(
    r"không tồn tại|không tìm thấy|chưa tồn tại|not found|does not exist|no such"
)
_EXPIRED = re.compile(
    r"(phiên|session|token|mã truy cập)[^.;]*(hết hạn|hết hiệu lực|không hợp lệ|không còn hiệu"
    r"|expired|invalid|not valid)"
    r"|(hết hạn|hết hiệu lực|expired|invalid)[^.;]*(phiên|session|token)"
    r"|đăng nhập lại|log ?in again|unauthori[sz]ed|chưa đăng nhập"
)


@dataclass(frozen=True)
class AnswerCodes:
    """The error codes a deployment uses for what the reader also knows by its words
    (``DVCHUB_DVCQG_EXISTS_CODES``, ``..._EXPIRED_CODES``, ``..._NOT_FOUND_CODES``)."""

    exists: frozenset[int] = frozenset({ALREADY_EXISTS})
    expired: frozenset[int] = frozenset({INVALID_SESSION})
    not_found: frozenset[int] = frozenset({NOT_FOUND})


SIMULATOR_CODES = AnswerCodes()


class UnreadableAnswer(ValueError):
    """An answer the connector cannot read as anything it asked for."""

    def __init__(self, what: str, answer: PortalAnswer) -> None:
        super().__init__(f"{what}: {answer.model_dump_json()[:300]}")
        self.answer = answer


def _text(message: str | None) -> str:
    return unicodedata.normalize("NFC", message or "").casefold()


def already_exists(answer: PortalAnswer, codes: AnswerCodes = SIMULATOR_CODES) -> bool:
    """An insert refused because the dossier is on the portal already."""
    if answer.ok:
        return False
    return answer.error_code in codes.exists or bool(_EXISTS.search(_text(answer.message)))


def session_expired(answer: PortalAnswer, codes: AnswerCodes = SIMULATOR_CODES) -> bool:
    """The session is not (or no longer) valid: log in again."""
    if answer.ok:
        return False
    if answer.error_code in codes.expired:
        return True
    text = _text(answer.message)
    return bool(_EXPIRED.search(text)) and not _NOT_FOUND.search(text)


def not_found(answer: PortalAnswer, codes: AnswerCodes = SIMULATOR_CODES) -> bool:
    """A look-up's error that says the dossier is not on the portal."""
    if answer.ok:
        return False
    text = _text(answer.message)
    if _EXISTS.search(text):
        return False
    return answer.error_code in codes.not_found or bool(_NOT_FOUND.search(text))


def looked_up(answer: PortalAnswer, code: str) -> dict[str, Any] | None:
    """The dossier a successful ``TraCuuHoSo`` of ``code`` found, with its steps always under
    ``TienDoXuLy`` (a list); None if the answer says it is not there."""
    result = answer.result
    if result is None or result == "" or result == [] or result == {}:
        return None
    if isinstance(result, list):
        dossiers = [item for item in result if isinstance(item, dict)]
        if len(dossiers) != len(result):
            raise UnreadableAnswer(f"a look-up of {code} answered a list of non-objects", answer)
        mine = [d for d in dossiers if d.get("MaHoSo") == code]
        if not mine and len(dossiers) == 1 and "MaHoSo" not in dossiers[0]:
            mine = dossiers
        if not mine:
            return None  # a list of other dossiers: this one is not among them
        if len(mine) > 1:
            raise UnreadableAnswer(f"a look-up of {code} found it {len(mine)} times", answer)
        result = mine[0]
    if not isinstance(result, dict):
        raise UnreadableAnswer(f"a look-up of {code} answered neither object nor list", answer)
    if result.get("MaHoSo") not in (None, code):
        raise UnreadableAnswer(f"a look-up of {code} answered {result.get('MaHoSo')!r}", answer)
    steps: Any = next((result[key] for key in STEP_KEYS if result.get(key) is not None), [])
    if isinstance(steps, dict):
        steps = [steps]
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise UnreadableAnswer(f"a look-up of {code} answered steps that are not a list", answer)
    return {**result, "TienDoXuLy": steps}
