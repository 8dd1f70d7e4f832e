"""Canonical event bytes are RFC 8785's, whichever path makes them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit.canonical import canonical_event, canonical_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=1000, deadline=None)
@given(json_values)
def test_canonical_json_is_rfc_8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_the_rfc_8785_examples() -> None:
    # RFC 8785 section 3.2.2 (numbers) and 3.2.3 (key order by UTF-16 code units).
    numbers = [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]
    assert canonical_json({"numbers": numbers}) == (
        b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    )
    assert canonical_json({"\u20ac": 1, "\r": 2, "\U0001f600": 3, "1": 4, "\u00f6": 5}) == (
        '{"\\r":2,"1":4,"\u00f6":5,"\u20ac":1,"\U0001f600":3}'.encode()
    )
    assert canonical_json({"s": '\u000f\u007f"\\/'}) == b'{"s":"\\u000f\x7f\\"\\\\/"}'


def test_an_event_is_its_id_version_topic_and_parsed_state() -> None:
    state = orjson.dumps({"record": {"b": 1, "a": "Cấp phép"}, "timestamp": "t"})
    canonical = canonical_event(UUID(int=1), 3, "hub.domain.dossier:Dossier.Recorded", state)
    assert canonical == rfc8785.dumps(
        {
            "originator_id": "00000000-0000-0000-0000-000000000001",
            "originator_version": 3,
            "topic": "hub.domain.dossier:Dossier.Recorded",
            "state": {"record": {"a": "Cấp phép", "b": 1}, "timestamp": "t"},
        }
    )


def test_characters_beyond_the_basic_plane_sort_as_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF5E; by code point it would not.
    value = {"\U0001f600": 1, "\uff5e": 2}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index(
        "\uff5e".encode()
    )
