"""The wire protocol: requests parsed or refused with a code, events framed once in REST shapes."""

from __future__ import annotations

import msgspec
import pytest

from archive_live_gateway.errors import ErrorCode, ProtocolError
from archive_live_gateway.protocol import (
    AnyServerFrame,
    DeleteFrame,
    ErrorFrame,
    MessageFrame,
    ModActionFrame,
    Request,
    SubscribedFrame,
    UnsubscribedFrame,
    UserNoticeFrame,
    ack_frame,
    error_frame,
    event_frame,
    normalize_channel,
    parse_request,
    ws_text_frame,
)
from twitch_archive.events import CoverageGap, Message, ModAction, UserNotice
from twitch_archive.views import message_view, mod_action_view, usernotice_view

MESSAGE = Message(id="m1", channel="alpha", channel_id="1", ts=1_700_000_000_123, text="hi")
NOTICE = UserNotice(id="n1", channel="alpha", ts=1, notice_type="raid", params={"a": "b"})
ACTIONS = [
    ModAction(id=kind, channel="alpha", ts=5, action=kind)
    for kind in ("ban", "timeout", "clear", "delete", "unban")
]


def _sub(channels: str) -> str:
    return '{"action": "subscribe", "channels": ' + channels + "}"


def _parse(data: str | bytes, max_channels: int = 10) -> Request:
    return parse_request(data, max_bytes=1024, max_channels=max_channels)


class TestRequests:
    def test_a_subscribe_is_parsed_and_normalized(self) -> None:
        """Channels are lowercased, lose a leading '#' and spaces, and are deduplicated."""
        request = _parse('{"action": "subscribe", "channels": ["#Alpha", " beta ", "alpha"]}')
        assert request == Request(action="subscribe", channels=("alpha", "beta"))

    def test_unknown_fields_are_ignored(self) -> None:
        """Extra keys do not break old gateways when clients grow (msgspec evolution rules)."""
        request = _parse('{"action": "unsubscribe", "channels": ["a"], "id": 7}')
        assert request == Request(action="unsubscribe", channels=("a",))

    def test_the_firehose_is_a_channel_named_star(self) -> None:
        """`*` passes normalization; whether it is allowed is the session's decision."""
        assert normalize_channel(" * ") == "*"

    @pytest.mark.parametrize(
        ("data", "code"),
        [
            pytest.param("nope", ErrorCode.INVALID_JSON, id="not-json"),
            pytest.param(b"\xff\xfe", ErrorCode.INVALID_JSON, id="not-utf8"),
            pytest.param("42", ErrorCode.INVALID_FRAME, id="number"),
            pytest.param('{"action": 1, "channels": []}', ErrorCode.INVALID_FRAME, id="action:int"),
            pytest.param('{"action": "subscribe"}', ErrorCode.INVALID_FRAME, id="channels:missing"),
            pytest.param(_sub("null"), ErrorCode.INVALID_FRAME, id="channels:null"),
            pytest.param('{"action": "part", "channels": []}', ErrorCode.UNKNOWN_ACTION, id="part"),
            pytest.param('{"action": "part"}', ErrorCode.UNKNOWN_ACTION, id="action:unknown-first"),
            pytest.param(_sub('[""]'), ErrorCode.INVALID_CHANNEL, id="channel:empty"),
            pytest.param(_sub('["a.b"]'), ErrorCode.INVALID_CHANNEL, id="channel:dot"),
            pytest.param(_sub('[">"]'), ErrorCode.INVALID_CHANNEL, id="channel:gt"),
            pytest.param(_sub('["\u00e9"]'), ErrorCode.INVALID_CHANNEL, id="channel:accent"),
            pytest.param(_sub('["a", "b", "c"]'), ErrorCode.TOO_MANY_CHANNELS, id="channels:3>2"),
            pytest.param("x" * 1025, ErrorCode.FRAME_TOO_LARGE, id="size:1025>1024"),
            pytest.param("\u00e9" * 600, ErrorCode.FRAME_TOO_LARGE, id="size:counted-in-bytes"),
        ],
    )  # fmt: skip
    def test_a_bad_request_raises_its_code(self, data: str | bytes, code: ErrorCode) -> None:
        """Each way a frame can be wrong maps to one error code, with a detail."""
        with pytest.raises(ProtocolError) as raised:
            _parse(data, max_channels=2)
        assert raised.value.code is code
        assert raised.value.detail

    def test_the_invalid_frame_detail_names_the_json_path(self) -> None:
        """A wrongly typed field is named, so a client author can see what to fix."""
        with pytest.raises(ProtocolError, match=r"\$\.channels\[0\]"):
            _parse('{"action": "subscribe", "channels": [1]}')


class TestServerFrames:
    @pytest.mark.parametrize(
        ("event", "frame_type", "view"),
        [
            pytest.param(MESSAGE, MessageFrame, message_view(MESSAGE), id="message"),
            pytest.param(NOTICE, UserNoticeFrame, usernotice_view(NOTICE), id="usernotice"),
            *(
                pytest.param(
                    action,
                    DeleteFrame if action.action == "delete" else ModActionFrame,
                    mod_action_view(action),
                    id=f"mod_action:{action.action}",
                )
                for action in ACTIONS
            ),
        ],
    )
    def test_an_event_frame_carries_its_view(
        self, event: Message | UserNotice | ModAction, frame_type: type, view: msgspec.Struct
    ) -> None:
        """An event becomes {"type", "data"}, `data` its views.py item; delete has its own type."""
        frame = event_frame(event)
        assert frame is not None
        decoded = msgspec.json.decode(frame.payload, type=AnyServerFrame)
        assert isinstance(decoded, frame_type)
        assert decoded.data == view  # type: ignore[attr-defined]
        assert frame.kind == msgspec.json.decode(frame.payload)["type"]
        assert frame.ts_ms == event.ts

    def test_coverage_gaps_have_no_frame(self) -> None:
        """The gateway does not forward coverage_gap events."""
        gap = CoverageGap(id="g", channel="alpha", ts=2, gap_from=1, gap_to=2, reason="x")
        assert event_frame(gap) is None

    def test_acks_and_errors(self) -> None:
        """Replies are tagged frames: subscribed, unsubscribed, error."""
        decoder = msgspec.json.Decoder(AnyServerFrame)
        assert decoder.decode(ack_frame("subscribe", ("a",), ("a", "b")).payload) == (
            SubscribedFrame(channels=("a",), subscriptions=("a", "b"))
        )
        assert decoder.decode(ack_frame("unsubscribe", ("a",), ()).payload) == (
            UnsubscribedFrame(channels=("a",), subscriptions=())
        )
        error = error_frame(ErrorCode.RATE_LIMITED, "slow down")
        assert error.payload == b'{"type":"error","error":"rate_limited","detail":"slow down"}'
        assert decoder.decode(error.payload) == ErrorFrame(error="rate_limited", detail="slow down")


@pytest.mark.parametrize(
    ("size", "header"),
    [
        pytest.param(0, b"\x81\x00", id="0B"),
        pytest.param(125, b"\x81\x7d", id="125B:7-bit"),
        pytest.param(126, b"\x81\x7e\x00\x7e", id="126B:16-bit"),
        pytest.param(65535, b"\x81\x7e\xff\xff", id="65535B:16-bit"),
        pytest.param(65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", id="65536B:64-bit"),
    ],
)
def test_ws_text_frame_follows_rfc_6455(size: int, header: bytes) -> None:
    """One final, unmasked text frame: FIN + opcode 1, then the length in 7, 16 or 64 bits."""
    payload = b"x" * size
    assert ws_text_frame(payload) == header + payload
