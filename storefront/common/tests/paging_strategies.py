"""Hypothesis strategies for the paging parameters of the keyset-paged listings, shared by
their property test (test_pagination.py) and the fuzzing campaign (tests/test_api_fuzz.py).

A cursor is opaque to a schema-driven fuzzer, which only ever sends random text: these also
build what a cursor decodes to (`o=<offset>&r=<reverse>&p=<position>`, base64 of a query
string), with keys, values and encodings both as the API writes them and anything else.
"""

import base64
from urllib.parse import quote

from hypothesis import strategies as st

# What a position of the listings looks like (a title key, a timestamp), and near misses.
POSITIONS = st.one_of(
    st.text(max_size=30),
    st.datetimes(timezones=st.timezones()).map(str),
    st.dates().map(str),
    st.sampled_from(["", "2026-13-45", "2026-01-01 25:00:00+00:00", "notadate", "\x00", "\x1f"]),
    st.integers().map(str),
)
CURSOR_KEYS = st.one_of(st.sampled_from(["o", "r", "p"]), st.text(max_size=3))
NUMBERS = st.one_of(
    st.integers(-5, 10**40).map(str), st.sampled_from(["", "²", "\u0663", "\uff11", " 1", "1.0"])
)
VALUES = st.one_of(POSITIONS, NUMBERS, st.text(max_size=50))


@st.composite
def _query_strings(draw: st.DrawFn) -> str:
    """`key=value&...` as DRF writes it (percent-encoded) or as raw text."""
    pairs = draw(st.lists(st.tuples(CURSOR_KEYS, VALUES), max_size=4))
    if draw(st.booleans()):
        return "&".join(f"{quote(key)}={quote(value)}" for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in pairs)


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


CURSORS = st.one_of(
    _query_strings().map(_base64),
    st.builds(lambda pos: _base64(f"p={quote(pos)}"), POSITIONS),
    st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode("ascii")),
    # base64 with its padding or alphabet broken
    _query_strings().map(lambda text: _base64(text).rstrip("=")),
    _query_strings().map(lambda text: _base64(text).replace("=", "%")),
    st.text(max_size=40),
)
PAGE_SIZES = st.one_of(NUMBERS, st.text(max_size=8))
# Both, either or none of the parameters.
PAGING_PARAMETERS = st.fixed_dictionaries({}, optional={"cursor": CURSORS, "page_size": PAGE_SIZES})
