"""Install the command-line tools the tests call where they are missing: promtool, nginx.

promtool checks and unit-tests the Prometheus configuration and alert rules (deploy/tests). It
comes with Debian's `prometheus` package. In a container nothing starts the server that package
also holds; on a host with systemd Debian starts it (`systemctl disable --now prometheus` stops
it). nginx checks and serves the web container's configuration (deploy/docker/nginx.conf);
Debian's package likewise starts a server on port 80 where systemd runs (`systemctl disable --now
nginx`). Running this twice is harmless: a tool that answers `--version` is left alone.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from debian_packages import apt_install  # scripts/ is on sys.path: scripts run by path

PACKAGES = {"promtool": "prometheus", "nginx": "nginx"}
"""Each tool and the Debian package that ships it."""
VERSION_FLAGS = {"nginx": "-v"}
"""Tools that do not understand `--version`."""


def say(message: str) -> None:
    print(f"tools: {message}", flush=True)


def version(tool: str) -> str | None:
    """The first line `tool --version` prints, or None when it is missing or does not run."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/local/sbin:/usr/sbin:/sbin")
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, VERSION_FLAGS.get(tool, "--version")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["install", "status"], nargs="?", default="install")
    args = parser.parse_args()
    missing = [tool for tool in PACKAGES if version(tool) is None]
    for tool in PACKAGES:
        if tool not in missing:
            say(f"{tool}: {version(tool)}")
    if not missing:
        return 0
    if args.action == "status":
        say(f"missing: {', '.join(missing)}; `make tools` installs them")
        return 1
    apt_install(sorted({PACKAGES[tool] for tool in missing}), "tools")
    still = [tool for tool in missing if version(tool) is None]
    if still:
        raise SystemExit(f"tools: {', '.join(still)} still missing after apt-get install")
    for tool in missing:
        say(f"installed {tool}: {version(tool)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
