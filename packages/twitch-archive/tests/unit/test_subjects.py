"""Every NATS name comes from twitch_archive.subjects, behind one namespace."""

from __future__ import annotations

import re

import pytest

from twitch_archive import subjects
from twitch_archive.subjects import Names

PRODUCTION = Names()
TEST_RUN = Names(ns="t1234abcdef.")

# NATS stream names: no whitespace, '.', '*', '>', path separators; KV buckets: [A-Za-z0-9_-].
STREAM_NAME = re.compile(r"[^\s.*>/\\]+")
BUCKET_NAME = re.compile(r"[A-Za-z0-9_-]+")


class TestSubjects:
    @pytest.mark.parametrize(
        ("names", "channel", "type_", "subject"),
        [
            pytest.param(PRODUCTION, "forsen", "message", "chat.forsen.message", id="prod:message"),
            pytest.param(
                PRODUCTION, "a_b_1", "usernotice", "chat.a_b_1.usernotice", id="prod:usernotice"
            ),
            pytest.param(
                PRODUCTION, "xqc", "mod_action", "chat.xqc.mod_action", id="prod:mod_action"
            ),
            pytest.param(
                TEST_RUN, "forsen", "message", "t1234abcdef.chat.forsen.message", id="test:message"
            ),
        ],
    )
    def test_chat_subject(
        self, names: Names, channel: str, type_: subjects.EventType, subject: str
    ) -> None:
        """An event's subject is `{ns}chat.<channel>.<type>`."""
        assert names.chat_subject(channel, type_) == subject

    def test_wildcards(self) -> None:
        """The stream's filter covers all channels, the gateway's one channel, both namespaced."""
        assert PRODUCTION.chat_wildcard() == "chat.>"
        assert TEST_RUN.chat_wildcard() == "t1234abcdef.chat.>"
        assert PRODUCTION.channel_wildcard("forsen") == "chat.forsen.>"
        assert TEST_RUN.channel_wildcard("forsen") == "t1234abcdef.chat.forsen.>"

    def test_deadletter_and_control_subjects(self) -> None:
        """The dead-letter and control subjects carry the namespace too."""
        assert PRODUCTION.deadletter_subject == "deadletter.chat"
        assert TEST_RUN.deadletter_subject == "t1234abcdef.deadletter.chat"
        assert PRODUCTION.control_channels_changed == "control.channels.changed"
        assert TEST_RUN.control_channels_changed == "t1234abcdef.control.channels.changed"

    @pytest.mark.parametrize(
        "channel",
        [
            pytest.param("", id="empty"),
            pytest.param("a" * 26, id="too-long:26"),
            pytest.param("Forsen", id="uppercase"),
            pytest.param("#forsen", id="hash"),
            pytest.param("for.sen", id="dot"),
            pytest.param("*", id="wildcard:star"),
            pytest.param(">", id="wildcard:gt"),
            pytest.param("for sen", id="space"),
            pytest.param("forsen\n", id="trailing-newline"),
            pytest.param("försen", id="non-ascii"),
            pytest.param("for-sen", id="dash"),
        ],
    )
    def test_bad_channel_is_rejected_inside_every_builder(self, channel: str) -> None:
        """No channel login outside `[a-z0-9_]{1,25}` can reach a subject, whichever builder."""
        with pytest.raises(ValueError, match="invalid channel login"):
            PRODUCTION.chat_subject(channel, "message")
        with pytest.raises(ValueError, match="invalid channel login"):
            TEST_RUN.channel_wildcard(channel)
        with pytest.raises(ValueError, match="invalid channel login"):
            subjects.validate_channel(channel)

    def test_longest_channel_is_accepted(self) -> None:
        """A 25-character login is the longest Twitch allows, and it is valid."""
        assert PRODUCTION.chat_subject("a" * 25, "message") == f"chat.{'a' * 25}.message"

    def test_unknown_event_type_is_rejected(self) -> None:
        """Only the contract's event tags can end a chat subject."""
        with pytest.raises(ValueError, match="invalid event type 'delete'"):
            PRODUCTION.chat_subject("forsen", "delete")  # type: ignore[arg-type]  # on purpose

    def test_event_types_match_the_contract(self) -> None:
        """The subject's type token set is exactly the events' `type` tags."""
        from twitch_archive.events import EVENT_TYPES

        assert set(EVENT_TYPES) == subjects.EVENT_TYPES


class TestStreamsAndBuckets:
    def test_production_names(self) -> None:
        """Without a namespace the names are the plain ones of the architecture."""
        assert PRODUCTION.chat_stream == "CHAT"
        assert PRODUCTION.deadletter_stream == "CHAT_DLQ"
        assert PRODUCTION.channels_bucket == "channels"
        assert PRODUCTION.ingestors_bucket == "ingestors"

    def test_namespaced_names(self) -> None:
        """Namespace `t1234abcdef.` is `T1234ABCDEF_` on streams and `t1234abcdef_` on buckets."""
        assert TEST_RUN.chat_stream == "T1234ABCDEF_CHAT"
        assert TEST_RUN.deadletter_stream == "T1234ABCDEF_CHAT_DLQ"
        assert TEST_RUN.channels_bucket == "t1234abcdef_channels"
        assert TEST_RUN.ingestors_bucket == "t1234abcdef_ingestors"

    @pytest.mark.parametrize("ns", ["", "t1234abcdef.", "t99aa00ffgw3.", "staging.eu-1."])
    def test_names_are_legal_for_jetstream(self, ns: str) -> None:
        """Stream and bucket names use only characters NATS allows, whatever the namespace."""
        names = Names(ns=ns)
        for stream in (names.chat_stream, names.deadletter_stream):
            assert STREAM_NAME.fullmatch(stream), stream
        for bucket in (names.channels_bucket, names.ingestors_bucket):
            assert BUCKET_NAME.fullmatch(bucket), bucket

    def test_streams_of_two_namespaces_differ(self) -> None:
        """Two runs never share a stream or a bucket."""
        one, two = Names(ns="t1aaaaaa."), Names(ns="t2aaaaaa.")
        assert one.chat_stream != two.chat_stream
        assert one.channels_bucket != two.channels_bucket

    def test_writer_durable_is_not_namespaced(self) -> None:
        """The durable consumer is `writer` everywhere: consumer names are scoped by stream."""
        assert PRODUCTION.writer_durable == TEST_RUN.writer_durable == subjects.WRITER_DURABLE
        assert subjects.WRITER_DURABLE == "writer"


class TestNamespace:
    @pytest.mark.parametrize(
        "ns",
        [
            pytest.param("t1234", id="no-trailing-dot"),
            pytest.param(".", id="only-dot"),
            pytest.param("t1..", id="empty-token"),
            pytest.param("T1234.", id="uppercase"),
            pytest.param("t*.", id="wildcard"),
            pytest.param("t 1.", id="space"),
        ],
    )
    def test_bad_namespace_is_rejected(self, ns: str) -> None:
        """A namespace is empty or lowercase tokens each ending in a dot."""
        with pytest.raises(ValueError, match="invalid namespace"):
            Names(ns=ns)

    def test_names_are_frozen(self) -> None:
        """A Names value cannot be changed after it is built, so it is safe to share."""
        with pytest.raises(AttributeError):
            TEST_RUN.ns = ""  # type: ignore[misc]  # on purpose


def test_headers() -> None:
    """Header names are the ones the writer, the DLQ and JetStream's de-duplication expect."""
    assert subjects.HEADER_ERROR == "Archive-Error"
    assert subjects.HEADER_ORIGINAL_SUBJECT == "Archive-Original-Subject"
    assert subjects.HEADER_MSG_ID == "Nats-Msg-Id"
