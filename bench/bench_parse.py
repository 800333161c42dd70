"""Parser throughput: a split-only ceiling, twitch_archive.irc.parse, tmi.js 1.8.5, and the CLI.

Usage: uv run python bench/bench_parse.py [--quick]
Each figure is the best of 3 runs. Data goes to bench/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from twitch_archive.irc import parse

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
CAPTURE = (ROOT / ".." / "shared" / "testdata" / "irc" / "go-twitch-irc-channel.txt.gz").resolve()
RUNS = 3

sys.path.insert(0, str(BENCH))
from lines import generate  # noqa: E402 - bench/ is not a package; its sibling is imported by path


def split_only(line: str) -> tuple[dict[str, str], str | None, str, list[str]]:
    """The ceiling: generic IRC splitting into tags, prefix, command, params; no Twitch work."""
    tags: dict[str, str] = {}
    prefix = None
    if line[0] == "@":
        section, _, line = line.partition(" ")
        for item in section[1:].split(";"):
            key, _, value = item.partition("=")
            tags[key] = value
    if line[0] == ":":
        prefix, _, line = line.partition(" ")
        prefix = prefix[1:]
    command, _, rest = line.partition(" ")
    middle, colon, trailing = rest.partition(" :") if rest[:1] != ":" else ("", ":", rest[1:])
    params = middle.split(" ") if middle else []
    if colon:
        params.append(trailing)
    return tags, prefix, command, params


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of `runs` timed calls, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def loop_rate(lines: list[str], fn: Callable[[str], object]) -> float:
    """Lines per second of `fn` over lines already decoded in memory."""

    def run() -> None:
        for line in lines:
            fn(line)

    return len(lines) / best_of(RUNS, run)


def tmi_rate(path: Path) -> float:
    """Lines per second of tmi.js's parser (best of 3 inside node)."""
    if not (BENCH / "node_modules" / "tmi.js").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(BENCH)], check=True, capture_output=True)
    out = subprocess.run(
        ["node", str(BENCH / "tmi_parse.js"), str(path)], check=True, capture_output=True
    ).stdout
    result = msgspec.json.decode(out)
    return float(result["lines"]) / float(result["seconds"])


def cli_command() -> list[str]:
    """`twitch-archive parse` once cli.py wires it, else the engine's own __main__."""
    script = shutil.which("twitch-archive", path=str(Path(sys.executable).parent))
    if script:
        probe = subprocess.run([script, "parse", "--help"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [script, "parse"]
    return [sys.executable, "-m", "twitch_archive.parse_command"]


def cli_seconds(command: list[str], path: Path) -> float:
    """Wall-clock seconds of the CLI over a file, output to /dev/null (best of 3)."""
    with open(os.devnull, "wb") as sink:

        def run() -> None:
            subprocess.run([*command, str(path)], stdout=sink, stderr=sink, check=True)

        return best_of(RUNS, run)


def datasets(quick: bool) -> list[tuple[str, Path]]:
    """The real capture repeated to ~200k lines, and 200k generated modern lines."""
    DATA.mkdir(exist_ok=True)
    count = 20_000 if quick else 200_000
    capture_path = DATA / f"capture-{count}.txt"
    if not capture_path.exists():
        with gzip.open(CAPTURE, "rb") as source:
            capture = source.read()
        capture_path.write_bytes(capture * (count // capture.count(b"\n")))
    generated_path = DATA / f"generated-{count}.txt"
    if not generated_path.exists():
        with generated_path.open("w", encoding="utf-8", newline="\n") as out:
            out.writelines(line + "\n" for line in generate(count, seed=1))
    return [("real capture (#xqcow 2019)", capture_path), ("generated modern", generated_path)]


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20k lines instead of 200k")
    args = parser.parse_args()
    command = cli_command()
    empty = DATA / "empty.txt"
    DATA.mkdir(exist_ok=True)
    empty.write_bytes(b"")
    startup = cli_seconds(command, empty)
    shown = " ".join(Path(part).name for part in command)
    print(f"CLI: {shown} (start-up {startup * 1000:.0f} ms)")
    header = (
        f"{'data':28} {'lines':>8} {'bytes/line':>10} {'split-only':>11} {'ours':>9} "
        f"{'tmi.js':>9} {'ours/tmi':>8} {'ours/ceil':>9} {'e2e wall':>9} {'e2e steady':>10} "
        f"{'MB/s':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, path in datasets(args.quick):
        raw = path.read_bytes()
        lines = raw.decode("utf-8").splitlines()
        ceiling = loop_rate(lines, split_only)
        ours = loop_rate(lines, parse)
        tmi = tmi_rate(path)
        wall = cli_seconds(command, path)
        steady = len(lines) / max(wall - startup, 1e-9)
        print(
            f"{name:28} {len(lines):>8} {len(raw) / len(lines):>10.0f} {ceiling:>11,.0f} "
            f"{ours:>9,.0f} {tmi:>9,.0f} {ours / tmi:>8.2f} {ours / ceiling:>9.2f} "
            f"{len(lines) / wall:>9,.0f} {steady:>10,.0f} "
            f"{len(raw) / max(wall - startup, 1e-9) / 1e6:>6.0f}"
        )
    print("lines/s; e2e = bytes in, JSON out; steady = without the CLI's start-up; MB/s of input")


if __name__ == "__main__":
    main()
