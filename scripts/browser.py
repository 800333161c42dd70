"""Install Debian's Chromium where it is missing: the browser the dashboard's browser tests drive.

Playwright cannot download its own browser builds on machines that reach only package registries,
so the tests use `/usr/bin/chromium` (CHROMIUM_PATH overrides it). Running this twice is harmless:
a browser that already answers `--version` is left alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from debian_packages import apt_install  # scripts/ is on sys.path: scripts run by path

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def say(message: str) -> None:
    print(f"browser: {message}", flush=True)


def chromium_path() -> Path:
    """Where the browser tests look for Chromium."""
    return Path(os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM))


def version(path: Path) -> str | None:
    """What `chromium --version` prints, or None when it is missing or does not run."""
    if not path.is_file():
        return None
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["install", "status"], nargs="?", default="install")
    args = parser.parse_args()
    path = chromium_path()
    found = version(path)
    if found:
        say(f"{found} at {path}")
        return 0
    if args.action == "status":
        say(f"no working Chromium at {path}: `make browser` installs it")
        return 1
    if path != Path(DEFAULT_CHROMIUM):
        raise SystemExit(f"browser: CHROMIUM_PATH={path} does not run `--version`")
    apt_install(["chromium"], "browser")
    found = version(path)
    if not found:
        raise SystemExit(f"browser: chromium was installed but {path} --version does not run")
    say(f"installed {found} at {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
