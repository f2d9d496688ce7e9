"""Summarise a py-spy collapsed-stack profile (`py-spy record -f raw`): where the worker's
samples go, inclusive and self, folded to module:function.

    python -m benchmarks.profile benchmarks/results/overhead-worker.collapsed [--top 30]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from benchmarks.harness import table

# "function (path/to/file.py:123)" -> "path/to/file.py:function"
FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:]+?)(?::\d+)?\)$")
# Where an idle thread's stack ends (blocked in C: a queue, select, a lock, the bridge poll).
IDLE = re.compile(r"thread\.py:_worker$|select|epoll|_wait$|\.wait$|acquire|sleep")
ROOTS = ("site-packages/", "lib/python3.11/", "/work/main/")


def fold(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for root in ROOTS:
        if root in path:
            path = path.split(root, 1)[1]
            break
    return f"{path}:{match['func']}"


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [fold(f) for f in stack.split(";") if f]
        # Idle threads (waiting in select / a queue / a lock) are not work.
        if frames and IDLE.search(frames[-1]):
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    return total, inclusive, own


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames whose name contains this")
    args = parser.parse_args(argv)
    total, inclusive, own = summarise(args.profile)
    for title, counter in (("inclusive", inclusive), ("self", own)):
        rows = [
            [frame, count, f"{100 * count / total:.1f}%"]
            for frame, count in counter.most_common()
            if args.match in frame
        ][: args.top]
        table(f"{args.profile.name}: {title} (of {total} busy samples)", ["frame", "n", "%"], rows)


if __name__ == "__main__":
    main()
