"""Reading PostgreSQL's parsed query and marking matched words in code points."""

from __future__ import annotations

from datetime import timedelta

import pytest

from archive_api.errors import public_name
from archive_api.queries import messages as q
from archive_api.queries.messages import highlight, highlighter, parse_tsquery


@pytest.mark.parametrize(
    ("tsquery", "words"),
    [
        pytest.param("'lol'", ["lol"], id="one"),
        pytest.param("'hallo' & 'krass'", ["hallo", "krass"], id="and"),
        pytest.param("'lol' & !'happy'", ["lol"], id="negation-dropped"),
        pytest.param("'that' <-> 'was' <-> 'close'", ["that", "was", "close"], id="phrase"),
        pytest.param("'it''s'", ["it's"], id="quote-escaped"),
        pytest.param("", [], id="empty"),
    ],
)
def test_lexemes_are_read_from_the_tsquery(tsquery, words):
    """The positive words of websearch_to_tsquery's text are what gets highlighted."""
    assert parse_tsquery(tsquery) == words


@pytest.mark.parametrize(
    ("text", "words", "spans"),
    [
        pytest.param("LOL that lol", ["lol"], [(0, 3), (9, 12)], id="case-insensitive"),
        pytest.param("lollipop lol", ["lol"], [(9, 12)], id="whole-words-only"),
        pytest.param("😂 lol", ["lol"], [(2, 5)], id="emoji-is-one-code-point"),
        pytest.param("привет мир", ["мир"], [(7, 10)], id="cyrillic"),
        pytest.param("こんにちは 世界", ["世界"], [(6, 8)], id="japanese"),
        pytest.param("lol_x", ["lol"], [(0, 3)], id="underscore-splits-like-postgres"),
        pytest.param("hello", [], [], id="no-words"),
    ],
)
def test_highlights_are_code_point_ranges(text, words, spans):
    """Each match is [start, end) in code points, on word boundaries, any script."""
    assert highlight(text, highlighter(words)) == spans


def test_parameter_names_are_shown_as_on_the_wire():
    """Validation errors name `includeDeleted`, not the Python argument."""
    assert public_name("include_deleted") == "includeDeleted"
    assert public_name("q_") == "q"
    assert public_name("limit") == "limit"


@pytest.mark.parametrize(
    ("per_hour", "span"),
    [
        (2000.0, timedelta(hours=1)),
        (500.0, timedelta(hours=4)),
        (1e9, timedelta(minutes=1)),
        (0.0, timedelta(days=30)),
        (0.01, timedelta(days=30)),
    ],
)
def test_the_first_search_window_holds_a_bounded_number_of_messages(per_hour, span):
    """About FIRST_WINDOW_ROWS messages at the recent rate, between one minute and 30 days."""
    assert q.FIRST_WINDOW_ROWS == 2000
    assert q.first_window(per_hour) == span
