"""The engine of `twitch-archive parse`: raw IRC lines in, one JSON event per archived line out.

Streams in constant memory: files are read in 1 MiB blocks, events are written in batches.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from typing import BinaryIO, TextIO, cast

from twitch_archive.codec import encode_events_ndjson
from twitch_archive.errors import IrcParseError
from twitch_archive.events import ChatEvent
from twitch_archive.irc import parse

HELP = """\
Parse raw Twitch IRC lines into normalized chat events.

Reads each FILE (plain text, or gzip detected by its magic bytes or a .gz suffix), or standard
input when no FILE is given or FILE is '-'. Lines are UTF-8, one per line; a trailing CR/LF is
stripped. Every archived line (PRIVMSG, USERNOTICE, CLEARCHAT, CLEARMSG) becomes one JSON event
on standard output, one per line. Other commands (PING, JOIN, ROOMSTATE, numerics, ...) write
nothing. A malformed line or invalid UTF-8 writes `FILE:LINE: reason` to standard error and
parsing goes on. At the end a summary goes to standard error:
`lines read N, events N, skipped N, malformed N`.

Exit status: 0, or 1 if a FILE could not be opened or read (the other files are still parsed).
"""

STDIN_NAME = "<stdin>"
_BLOCK_SIZE = 1 << 20
_FLUSH_AT = 1 << 20
# Memory stays bounded on input without LF: a longer run is cut into lines of this size.
_MAX_LINE = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_decode = bytes.decode


class _ReadError(Exception):
    """Reading an input failed (I/O error, bad or truncated gzip); the cause is chained."""


class _Stats:
    """Counters for the summary line."""

    __slots__ = ("events", "lines", "malformed", "skipped")

    def __init__(self) -> None:
        self.lines = 0
        self.events = 0
        self.skipped = 0
        self.malformed = 0


def run(paths: list[str], stdout: BinaryIO, stderr: TextIO, stdin: BinaryIO | None = None) -> int:
    """Parse each path (stdin for none or `-`) to JSON lines on stdout; returns the exit status.

    Args:
        stdin: the binary stream read for `-`; defaults to `sys.stdin.buffer`.
    """
    stats = _Stats()
    status = 0
    # The parser creates no reference cycles, so the cyclic collector only costs time here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in paths or ["-"]:
            if path == "-":
                name, stream = STDIN_NAME, stdin if stdin is not None else sys.stdin.buffer
                close = False
            else:
                name, close = path, True
                try:
                    stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
                except OSError as exc:
                    stderr.write(f"twitch-archive parse: cannot open {path}: {exc.strerror}\n")
                    status = 1
                    continue
            try:
                _parse_stream(name, _maybe_gunzip(stream, path), stdout, stderr, stats)
            except _ReadError as exc:
                stderr.write(f"twitch-archive parse: cannot read {name}: {exc.__cause__}\n")
                status = 1
            finally:
                if close:
                    stream.close()
    finally:
        if gc_was_enabled:
            gc.enable()
        stdout.flush()
    stderr.write(
        f"lines read {stats.lines}, events {stats.events}, "
        f"skipped {stats.skipped}, malformed {stats.malformed}\n"
    )
    return status


def _maybe_gunzip(stream: BinaryIO, path: str) -> BinaryIO:
    """Wrap the stream in a gzip reader when it starts with gzip's magic bytes or ends in .gz."""
    if isinstance(stream, io.BufferedReader):
        buffered = stream
    else:
        # A BytesIO or a raw pipe cannot peek; a buffered reader over it can, without loss.
        buffered = io.BufferedReader(cast("io.RawIOBase", stream))
    try:
        head = buffered.peek(2)[:2]
    except OSError as exc:
        raise _ReadError from exc
    if head == _GZIP_MAGIC or path.endswith(".gz"):
        return cast("BinaryIO", gzip.GzipFile(fileobj=buffered, mode="rb"))
    return cast("BinaryIO", buffered)


def _blocks(stream: BinaryIO) -> Iterator[list[bytes]]:
    """Lists of whole raw lines, LF and trailing CRs removed, read 1 MiB at a time."""
    pending = b""
    while True:
        try:
            chunk = stream.read(_BLOCK_SIZE)
        except (OSError, EOFError, zlib.error) as exc:
            # Only read errors: a failed write to stdout (a closed pipe) must not look like one.
            raise _ReadError from exc
        if not chunk:
            break
        lines = chunk.split(b"\n")
        if pending:
            lines[0] = pending + lines[0]
        pending = lines.pop()
        if len(pending) > _MAX_LINE:
            # No LF for a megabyte: hand it over as a line of its own (the parser will reject
            # it) rather than let one line grow without bound.
            lines.append(pending)
            pending = b""
        if b"\r" in chunk:
            lines = [line.rstrip(b"\r") for line in lines]
        elif lines and lines[0][-1:] == b"\r":
            # A CR at the end of the previous block, with its LF at the start of this one.
            lines[0] = lines[0].rstrip(b"\r")
        if lines:
            yield lines
    if pending:
        yield [pending.rstrip(b"\r")]


def _parse_stream(
    name: str, stream: BinaryIO, stdout: BinaryIO, stderr: TextIO, stats: _Stats
) -> None:
    out = bytearray()
    lineno = 0
    for raw_lines in _blocks(stream):
        # Decoding line by line keeps one emoji from widening a whole block to UCS-4.
        try:
            lines = list(map(_decode, raw_lines))
        except UnicodeDecodeError:
            lines = []
            for raw in raw_lines:
                try:
                    lines.append(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    # Rare: parse the good lines so far, then report this one.
                    _parse_lines(lines, name, lineno, out, stderr, stats)
                    lineno += len(lines) + 1
                    lines = []
                    stats.lines += 1
                    stats.malformed += 1
                    stderr.write(
                        f"{name}:{lineno}: invalid UTF-8 (byte 0x{raw[exc.start]:02x} "
                        f"at column {exc.start + 1})\n"
                    )
        _parse_lines(lines, name, lineno, out, stderr, stats)
        lineno += len(lines)
        if len(out) >= _FLUSH_AT:
            stdout.write(out)
            out.clear()
    if out:
        stdout.write(out)


def _parse_lines(
    lines: list[str], name: str, lineno: int, out: bytearray, stderr: TextIO, stats: _Stats
) -> None:
    """Parse consecutive lines (the first is number lineno + 1), appending JSON lines to out."""
    events: list[ChatEvent] = []
    append = events.append
    skipped = malformed = 0
    for number, line in enumerate(lines, lineno + 1):
        try:
            event = parse(line)
        except IrcParseError as exc:
            malformed += 1
            stderr.write(f"{name}:{number}: {exc}\n")
            continue
        if event is None:
            skipped += 1
        else:
            append(event)
    if events:
        out += encode_events_ndjson(events)
    stats.lines += len(lines)
    stats.events += len(events)
    stats.skipped += skipped
    stats.malformed += malformed


def main(argv: list[str] | None = None) -> int:
    """`python -m twitch_archive.parse_command [FILE ...]`: the same as `twitch-archive parse`."""
    parser = argparse.ArgumentParser(
        prog="twitch-archive parse",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="raw IRC log, plain or gzip")
    args = parser.parse_args(argv)
    return run(args.files, sys.stdout.buffer, sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
