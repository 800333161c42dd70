"""The engine of `twitch-archive parse`: raw lines in, JSON lines out, reasons on stderr."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import msgspec
import pytest

from twitch_archive.codec import decode_event
from twitch_archive.events import ChatEvent, Message, ModAction
from twitch_archive.parse_command import run

PRIVMSG = (
    "@badge-info=;badges=;color=#0000FF;display-name=JuN1oRRRR;emotes=;flags=;"
    "id=e9d998c3-36f1-430f-89ec-6b887c28af36;mod=0;room-id=11148817;subscriber=0;"
    "tmi-sent-ts=1594545155039;turbo=0;user-id=29803735;user-type= "
    ":jun1orrrr!jun1orrrr@jun1orrrr.tmi.twitch.tv PRIVMSG #pajlada :dank cam 😂"
)
CLEARCHAT = (
    "@ban-duration=1;room-id=11148817;target-user-id=148973258;tmi-sent-ts=1594553828245 "
    ":tmi.twitch.tv CLEARCHAT #pajlada :fabzeef"
)
PING = "PING :tmi.twitch.tv"
MALFORMED = "@key=value :tmi.twitch.tv  PING"


class Result(msgspec.Struct):
    """What one run wrote and returned."""

    status: int
    events: list[ChatEvent]
    stderr: list[str]


def _run(paths: list[str], stdin: bytes = b"") -> Result:
    stdout, stderr = io.BytesIO(), io.StringIO()
    status = run(paths, stdout, stderr, stdin=io.BytesIO(stdin))
    events = [decode_event(line) for line in stdout.getvalue().splitlines()]
    return Result(status, events, stderr.getvalue().splitlines())


def _write(path: Path, lines: list[str], *, newline: str = "\n") -> Path:
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


def test_plain_file(tmp_path: Path) -> None:
    """Archived lines become events in order; PING is skipped; the summary counts them all."""
    path = _write(tmp_path / "chat.log", [PRIVMSG, PING, CLEARCHAT])
    result = _run([str(path)])
    assert result.status == 0
    assert [type(event) for event in result.events] == [Message, ModAction]
    assert isinstance(result.events[0], Message)
    assert result.events[0].text == "dank cam 😂"
    assert result.stderr == ["lines read 3, events 2, skipped 1, malformed 0"]


@pytest.mark.parametrize("name", ["chat.log.gz", "chat.log"], ids=["gz:suffix", "gz:magic-only"])
def test_gzip_file(tmp_path: Path, name: str) -> None:
    """A gzip file is read whether its name ends in .gz or only its magic bytes say so."""
    path = tmp_path / name
    path.write_bytes(gzip.compress(f"{PRIVMSG}\n{CLEARCHAT}\n".encode()))
    result = _run([str(path)])
    assert (result.status, len(result.events)) == (0, 2)


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    """CR LF line ends are stripped and a last line without LF is still parsed."""
    path = tmp_path / "chat.log"
    path.write_bytes(f"{PRIVMSG}\r\n{CLEARCHAT}".encode())
    result = _run([str(path)])
    assert (result.status, len(result.events)) == (0, 2)
    assert result.stderr == ["lines read 2, events 2, skipped 0, malformed 0"]


def test_malformed_line_is_reported_and_parsing_goes_on(tmp_path: Path) -> None:
    """A malformed line writes `file:line: reason` and the lines after it are still parsed."""
    path = _write(tmp_path / "chat.log", [PRIVMSG, MALFORMED, CLEARCHAT])
    result = _run([str(path)])
    assert result.status == 0
    assert len(result.events) == 2
    assert result.stderr[0].startswith(f"{path}:2: missing_command")
    assert result.stderr[-1] == "lines read 3, events 2, skipped 0, malformed 1"


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    """A line that is not UTF-8 is reported by number and the others are parsed."""
    path = tmp_path / "chat.log"
    path.write_bytes(
        PRIVMSG.encode() + b"\n" + b"PRIVMSG #c :\xff\xfe\n" + CLEARCHAT.encode() + b"\n"
    )
    result = _run([str(path)])
    assert result.status == 0
    assert len(result.events) == 2
    assert result.stderr[0] == f"{path}:2: invalid UTF-8 (byte 0xff at column 13)"
    assert result.stderr[-1] == "lines read 3, events 2, skipped 0, malformed 1"


def test_missing_file_fails_after_the_others(tmp_path: Path) -> None:
    """A file that cannot be opened is named on stderr, the others are parsed, and the exit is 1."""
    good = _write(tmp_path / "chat.log", [PRIVMSG])
    missing = tmp_path / "nope.log"
    result = _run([str(missing), str(good)])
    assert result.status == 1
    assert len(result.events) == 1
    assert (
        result.stderr[0]
        == f"twitch-archive parse: cannot open {missing}: No such file or directory"
    )
    assert result.stderr[-1] == "lines read 1, events 1, skipped 0, malformed 0"


@pytest.mark.parametrize("paths", [[], ["-"]], ids=["stdin:no-args", "stdin:dash"])
def test_stdin(paths: list[str]) -> None:
    """With no paths, or `-`, lines are read from stdin, gzip or not."""
    result = _run(paths, stdin=gzip.compress(f"{PRIVMSG}\n{PING}\n".encode()))
    assert (result.status, len(result.events)) == (0, 1)
    assert result.stderr == ["lines read 2, events 1, skipped 1, malformed 0"]


def test_many_blocks_keep_line_numbers(tmp_path: Path) -> None:
    """Line numbers stay right across the 1 MiB read blocks of a large file."""
    lines = [PRIVMSG] * 5000 + [MALFORMED] + [CLEARCHAT] * 10
    path = _write(tmp_path / "chat.log", lines)
    result = _run([str(path)])
    assert len(result.events) == 5010
    assert result.stderr[0].startswith(f"{path}:5001: ")
    assert result.stderr[-1] == "lines read 5011, events 5010, skipped 0, malformed 1"


def test_truncated_gzip_is_a_read_error(tmp_path: Path) -> None:
    """A gzip file cut short keeps the events before the cut, is named on stderr, and exits 1."""
    whole = gzip.compress(("\n".join([PRIVMSG] * 2000) + "\n").encode())
    broken = tmp_path / "cut.log.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    good = _write(tmp_path / "chat.log", [CLEARCHAT])
    result = _run([str(broken), str(good)])
    assert result.status == 1
    assert result.stderr[0].startswith(f"twitch-archive parse: cannot read {broken}: ")
    assert isinstance(result.events[-1], ModAction)
