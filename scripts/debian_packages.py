"""Install Debian packages the project's scripts need (Redis, Chromium, promtool, nginx)."""

from __future__ import annotations

import os
import shutil
import subprocess


def apt_install(packages: list[str], who: str) -> None:
    """`apt-get update` then `apt-get install` the packages, quietly; needs root and the Debian
    registry. Exits with a message prefixed by `who` (the calling script) when it cannot."""
    names = " ".join(packages)
    if os.geteuid() != 0:
        raise SystemExit(f"{who}: installing needs root: sudo apt-get install {names}")
    if shutil.which("apt-get") is None:
        raise SystemExit(f"{who}: no apt-get here: install {names} by hand")
    print(f"{who}: installing Debian's {', '.join(packages)} (once)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{who}: `{' '.join(cmd)}` failed:\n{done.stderr.strip()}")
