"""Documentation stays in step with the code: every setting is documented."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parents[4]
SETTINGS_MODULES = ["twitch_archive.settings", "twitch_archive.simulator.settings"] + [
    f"archive_{path.name.replace('-', '_')}.settings"
    for path in sorted((ROOT / "services").glob("*"))
    if (path / "src").is_dir()
]


def _settings_classes() -> list[type[msgspec.Struct]]:
    modules = [importlib.import_module(name) for name in SETTINGS_MODULES]
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__name__.endswith("Settings")
        and value.__module__ == module.__name__
    ]


def _env_name(field: msgspec.structs.FieldInfo) -> str:
    return field.encode_name


@pytest.mark.parametrize("cls", _settings_classes(), ids=lambda cls: cls.__name__)
def test_every_setting_is_in_configuration_md(cls: type[msgspec.Struct]) -> None:
    """Each environment variable a settings class reads appears in docs/configuration.md."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
    missing = [
        _env_name(field)
        for field in msgspec.structs.fields(cls)
        if _env_name(field) not in documented
    ]
    assert not missing, f"{cls.__name__}: document {missing} in docs/configuration.md"
