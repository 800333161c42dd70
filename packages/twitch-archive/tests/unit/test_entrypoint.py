"""The services' shared entry point: --help, bad configuration, the served coroutine's status."""

from __future__ import annotations

import msgspec
import pytest

from twitch_archive.entrypoint import run_service
from twitch_archive.settings import LogLevel


class DemoSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    demo_port: int = 1
    log_level: LogLevel = "info"


def run(argv: list[str], serve=None) -> int | str | None:
    async def default(settings: DemoSettings) -> int:
        return settings.demo_port

    with pytest.raises(SystemExit) as exit_:
        run_service(
            prog="archive-demo",
            service="demo",
            description="Demo service: what it does.",
            settings_cls=DemoSettings,
            serve=serve or default,
            argv=argv,
        )
    return exit_.value.code


def test_help_prints_the_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    assert "Demo service: what it does." in capsys.readouterr().out


def test_bad_configuration_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_PORT", "many")
    assert run([]) == 2
    assert "DEMO_PORT" in capsys.readouterr().err


def test_the_process_exits_with_the_served_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "7")
    assert run([]) == 7
