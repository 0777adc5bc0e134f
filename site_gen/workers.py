"""How many worker processes a build uses.

One per core (at most MAX_WORKERS), or `SITE_GEN_JOBS` in the environment.
For pages, the build's own process is one of them: it forks one page worker
fewer and makes pages beside them. Page workers are forked from the build's
process and, as they read the site, copy the memory pages they touch (CPython
writes a reference count into every object it reads): by the end of a big
build each holds a copy of most of that process. So a build makes its pages
in no more processes than the memory it may still use can hold such copies
for, counting both what the machine has free and the limit of its control
group (a container, a CI job); with room for one, it makes them alone.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable

MAX_WORKERS = 8
# What one kept view costs a page-making process, with its share of what it holds
# (measured: 1.6 kB at 30,000 stories); rounded up.
VIEW_BYTES = 2_000
# What the build's own process comes to hold for each page it is to make, past the
# views: its result and inputs, then `remember` and the save (measured: about 3.5 kB
# a page at 100,000 stories, in one process); rounded up.
PAGE_BYTES = 4_000
JOBS_VARIABLE = "SITE_GEN_JOBS"
# Said by `build`, `build --watch` and `serve` after a build whose page worker died.
WORKERS_LOST = (
    "site-gen: a page worker was stopped (out of memory, most often); the build made its "
    "pages itself. SITE_GEN_JOBS=1 builds in one process from the start."
)
_CGROUP = Path("/sys/fs/cgroup")


def wanted() -> int:
    """The worker processes asked for: `SITE_GEN_JOBS`, else one per usable core."""
    try:
        asked = int(os.environ.get(JOBS_VARIABLE, ""))
        if asked >= 1:
            return asked
    except ValueError:
        pass
    return min(_cores(), MAX_WORKERS)


def page_workers() -> int:
    """The processes to make pages in now, the build's own among them (it forks one
    fewer): those wanted, as far as memory allows."""
    return affordable(wanted(), available_memory(), resident_memory())


def affordable(wanted: int, available: int | None, resident: int | None) -> int:
    """At most `wanted` workers within `available` bytes, each of which may come to
    need `resident` bytes more, as may the build's own process (at 10,000 stories
    it grows by half after the fork); at least one, the build's own process.
    Unknown figures (not Linux) leave `wanted` as it is."""
    if available is None or not resident:
        return wanted
    return max(1, min(wanted, available // resident - 1))


def views_kept(
    processes: int, floor: int, available: int | None, resident: int | None, pages: int = 0
) -> int:
    """How many views each of `processes` page-making processes may keep before it
    starts afresh: at least `floor`, and more where memory allows. The room is what
    `available` leaves once each process has copied the `resident` build whole (the
    workers' worst case; none when the build makes its pages itself, `processes`
    1) and the build's process has the results of its `pages` pages (PAGE_BYTES
    each), half of it shared out. At 100,000 stories the views outgrow `floor`,
    and a process that forgets them all makes most of them again for the next pages."""
    if available is None or not resident:
        return floor
    copies = processes if processes > 1 else 0
    room = available - copies * resident - pages * PAGE_BYTES
    return max(floor, room // (2 * processes * VIEW_BYTES))


def give_back_free_memory() -> None:
    """Hand the memory the C allocator holds free back to the system (glibc's
    `malloc_trim`); nothing where there is no glibc. A big page's text is freed
    once it is written (`data/briefing.json`: about 400 MB while it is made, at
    100,000 stories), but glibc keeps the freed room in its heap, and the process
    stays that much bigger to its end: trimmed, 320 MB of it go back."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], Any] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def available_memory() -> int | None:
    """Bytes this process may still use: the machine's available memory, less
    where its control group's limit is nearer; None where Linux does not say."""
    machine = _meminfo_available()
    group = _cgroup_headroom()
    known = [figure for figure in (machine, group) if figure is not None]
    return min(known) if known else None


def resident_memory() -> int | None:
    """This process's resident memory in bytes (None where /proc is missing)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path = _CGROUP, membership: Path = Path("/proc/self/cgroup")) -> int | None:
    """The room left under this process's control-group memory limit, if it has one
    (cgroup v2, or v1's memory controller). The group's reclaimable file cache
    (its inactive files) counts as room, as the kernel would free it first."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:  # not a hierarchy line: nothing to read
            continue
        _, controllers, path = parts
        if controllers == "":
            names = (root / path.lstrip("/"), "memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):
            names = (
                root / "memory" / path.lstrip("/"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "total_inactive_file",
            )
        else:
            continue
        headroom = _headroom(*names)
        if headroom is not None:
            return headroom
    return None


def _headroom(folder: Path, limit_file: str, usage_file: str, cache_field: str) -> int | None:
    try:
        written = (folder / limit_file).read_text().strip()
        if written == "max":
            return None
        limit = int(written)
        if limit >= 1 << 60:  # v1 writes "no limit" as a huge number
            return None
        used = int((folder / usage_file).read_text())
    except (OSError, ValueError):
        return None
    cache = 0
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == cache_field:
                cache = int(value)
    except (OSError, ValueError):
        pass
    return max(0, limit - used + cache)
