"""Settings from the environment: defaults, conversion, bounds, secrets and comma lists."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from twitch_archive.errors import ConfigError
from twitch_archive.settings import CommaList, Secret, ToolSettings, load, load_or_exit


class ExampleSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    api_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    admin_token: Secret | None = None
    channels: CommaList = CommaList()
    enabled: bool = False


def test_defaults_apply_when_the_environment_is_empty() -> None:
    """With no variables set every field takes its working local default."""
    assert load(ExampleSettings, {}) == ExampleSettings()
    assert load(ToolSettings, {}).database_url.startswith("postgresql://")


def test_strings_convert_to_typed_values() -> None:
    """Environment strings become ints, booleans, secrets and tuples."""
    settings = load(
        ExampleSettings,
        {"API_PORT": "9000", "ADMIN_TOKEN": "s3cret", "CHANNELS": " a, b,,c ", "ENABLED": "true"},
    )
    assert settings.api_port == 9000
    assert settings.enabled is True
    assert settings.channels == ("a", "b", "c")
    assert settings.admin_token is not None
    assert settings.admin_token.reveal() == "s3cret"


def test_secret_never_shows_its_value() -> None:
    """A Secret's repr and str are masked, so logging a settings object leaks nothing."""
    settings = load(ExampleSettings, {"ADMIN_TOKEN": "s3cret"})
    assert "s3cret" not in repr(settings)
    assert str(Secret("x")) == "Secret('**********')"


def test_empty_variable_means_unset() -> None:
    """`API_PORT=` falls back to the default instead of failing."""
    assert load(ExampleSettings, {"API_PORT": ""}).api_port == 8000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({"API_PORT": "70000"}, r"<= 65535 - at `\$.API_PORT`", id="port:too-high"),
        pytest.param({"API_PORT": "eighty"}, r"Expected `int`.*API_PORT", id="port:not-int"),
    ],
)
def test_invalid_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    """A bad value raises ConfigError naming the variable and the rule it broke."""
    with pytest.raises(ConfigError, match=message):
        load(ExampleSettings, environ)


def test_load_or_exit_exits_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Entry points stop with status 2 and a one-line reason on bad configuration."""
    with pytest.raises(SystemExit) as exited:
        load_or_exit(ExampleSettings, {"API_PORT": "0"})
    assert exited.value.code == 2
    assert "invalid configuration" in capsys.readouterr().err
