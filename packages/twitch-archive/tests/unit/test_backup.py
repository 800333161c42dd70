"""The pure parts of `twitch-archive backup` and `restore`: options, names, checksums, pruning."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from twitch_archive import backup
from twitch_archive.cli import main
from twitch_archive.errors import BackupError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("24h", 86_400, id="24h"),
        pytest.param("90m", 5_400, id="90m"),
        pytest.param("1h30m", 5_400, id="1h30m"),
        pytest.param("7d", 604_800, id="7d"),
        pytest.param("1s", 1, id="1s"),
        pytest.param("1d2h3m4s", 93_784, id="every-unit"),
    ],
)
def test_durations_are_read(text: str, seconds: int) -> None:
    """Durations combine days, hours, minutes and seconds."""
    assert backup.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "1.5h", "0s", "5 m", "1m1h", "-1h"])
def test_bad_durations_are_refused(text: str) -> None:
    """A duration without a unit, out of order, or of zero length is refused with its text."""
    with pytest.raises(BackupError, match="invalid duration"):
        backup.parse_duration(text)


def test_passwords_never_reach_the_command_line() -> None:
    """The password moves to PGPASSWORD, and messages show it masked."""
    url = "postgresql://archive:s%40cret@db.internal:5432/twitch_archive?sslmode=require"
    target, env = backup.libpq_target(url)
    assert target == "postgresql://archive@db.internal:5432/twitch_archive?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"
    assert env["PGAPPNAME"] == "twitch-archive-backup"
    assert backup.redact(url) == (
        "postgresql://archive:***@db.internal:5432/twitch_archive?sslmode=require"
    )
    plain = "postgresql://postgres@127.0.0.1/twitch_archive"
    target, env = backup.libpq_target(plain)
    assert target == plain
    assert env.get("PGPASSWORD") == os.environ.get("PGPASSWORD")


def test_database_names_come_from_the_url() -> None:
    """The dump is named after the URL's database; a URL without one is refused."""
    assert backup.database_name("postgresql://h/twitch_archive") == "twitch_archive"
    assert backup.file_stem("we/ird name") == "we_ird_name"
    with pytest.raises(BackupError, match="names no database"):
        backup.database_name("postgresql://user:pw@h:5432/")


def test_tools_are_found_in_a_given_folder_or_refused(tmp_path: Path) -> None:
    """PG_BIN_DIR is used as given; a folder without the tool is a clear error."""
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    assert backup.find_tool("pg_dump", str(tmp_path)) == tool
    with pytest.raises(BackupError, match=r"pg_restore not found in PG_BIN_DIR="):
        backup.find_tool("pg_restore", str(tmp_path))


def test_dumps_are_listed_newest_first_and_only_ours(tmp_path: Path) -> None:
    """Only complete dumps of the database count; partials and other databases do not."""
    for name in (
        "twitch_archive-20250101T030000Z.dump",
        "twitch_archive-20250103T030000Z.dump",
        "twitch_archive-20250102T030000Z.dump",
        "twitch_archive_demo-20250104T030000Z.dump",
        ".twitch_archive-20250105T030000Z.dump.42.partial",
        "twitch_archive-latest.dump",
    ):
        (tmp_path / name).write_bytes(b"x")
    dumps = backup.dumps_in(tmp_path, "twitch_archive")
    assert [dump.taken_at.day for dump in dumps] == [3, 2, 1]
    assert dumps[0].taken_at == datetime(2025, 1, 3, 3, 0, tzinfo=UTC)
    assert backup.prune(tmp_path, "twitch_archive", 1) == [dumps[1].path, dumps[2].path]
    assert (tmp_path / "twitch_archive_demo-20250104T030000Z.dump").exists()


def test_checksums_catch_a_changed_byte(tmp_path: Path) -> None:
    """verify() passes an intact dump and refuses one changed after its checksum was written."""
    dump = tmp_path / "twitch_archive-20250101T030000Z.dump"
    dump.write_bytes(b"PGDMP" + bytes(range(256)) * 10)
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    backup.checksum_path(dump).write_text(f"{digest}  {dump.name}\n")
    assert backup.verify(dump) == digest
    dump.write_bytes(dump.read_bytes()[:-1] + b"\x00")
    with pytest.raises(BackupError, match="is corrupt or was changed"):
        backup.verify(dump)
    backup.checksum_path(dump).write_text("not a checksum\n")
    with pytest.raises(BackupError, match="holds no sha256 checksum"):
        backup.verify(dump)
    with pytest.raises(BackupError, match="does not exist"):
        backup.verify(tmp_path / "missing.dump")


def test_backup_without_a_folder_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`backup` with neither --dir nor BACKUP_DIR exits 2 naming both."""
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    assert main(["backup"]) == 2
    assert "--dir DIR (or BACKUP_DIR)" in capsys.readouterr().err


def test_backup_with_a_bad_schedule_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreadable --every or a --keep below 1 exits 2 before anything runs."""
    assert main(["backup", "--dir", str(tmp_path), "--every", "daily"]) == 2
    assert "invalid duration 'daily'" in capsys.readouterr().err
    assert main(["backup", "--dir", str(tmp_path), "--keep", "0"]) == 2
    assert "--keep must be at least 1" in capsys.readouterr().err
    monkeypatch.setenv("PG_BIN_DIR", str(tmp_path))
    assert main(["backup", "--dir", str(tmp_path)]) == 2
    assert "pg_dump not found in PG_BIN_DIR" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
