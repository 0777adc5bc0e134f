"""A memory limit the kernel enforces, for a build timed by the bench scripts.

A process tree's proportional set size (run.TreeMemory) is what the build's
processes hold; a machine or container with 2 GB also pays for what the
kernel keeps on the build's behalf: the inodes and directory entries of the
files it creates, their page cache. A control group counts all of that, and
its out-of-memory killer ends the build when the sum passes the limit, as it
would on such a machine. Issue 6's "fit in 2 GB" is judged that way by
`bench/linear.py --limit 2000000000`.

Needs root and a cgroup file system: cgroup v2 with the memory controller
given to child groups, or cgroup v1's memory hierarchy.
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


class GroupUnavailable(Exception):
    """No memory group can be made here; the message says why."""


class MemoryGroup:
    """A new control group limited to `limit` bytes, removed by `close()`."""

    def __init__(self, limit: int, root: Path = CGROUP) -> None:
        self.limit = limit
        name = f"site-gen-bench-{os.getpid()}"
        if (root / "cgroup.controllers").is_file():  # v2
            if "memory" not in _read(root / "cgroup.subtree_control").split():
                raise GroupUnavailable("cgroup v2 without the memory controller for child groups")
            self.path, self.v2 = root / name, True
        elif (root / "memory").is_dir():
            self.path, self.v2 = root / "memory" / name, False
        else:
            raise GroupUnavailable(f"no cgroup memory controller under {root}")
        try:
            self.path.mkdir()
            if self.v2:
                (self.path / "memory.max").write_text(str(limit))
                swap = self.path / "memory.swap.max"
                if swap.exists():
                    swap.write_text("0")
            else:
                (self.path / "memory.limit_in_bytes").write_text(str(limit))
        except OSError as exc:
            self.close()
            raise GroupUnavailable(f"cannot make a memory group in {self.path.parent}: {exc}") from None

    def wrap(self, command: list[str]) -> list[str]:
        """`command`, started inside the group (a shell joins it, then becomes the command)."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$0" "$@"', *command]

    def oom_kills(self) -> int:
        """How many processes of the group the out-of-memory killer ended."""
        events = self.path / ("memory.events" if self.v2 else "memory.oom_control")
        for line in _read(events).splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
        return 0

    def peak_mib(self) -> float | None:
        """The group's highest charge (processes, kernel memory, page cache), if the kernel says."""
        text = _read(self.path / ("memory.peak" if self.v2 else "memory.max_usage_in_bytes"))
        return int(text) / 1024 / 1024 if text.strip().isdigit() else None

    def close(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still in it, or never made


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
