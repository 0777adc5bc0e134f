"""When Python's cycle collector runs: never in the middle of a build, and in a
long-lived preview, only while the editor pauses.

A build makes millions of small objects and keeps most of them to its end:
the collector's passes over them cost more than the garbage they find. In
`serve`, left to itself, the collector also runs right after each build, as
the browser fetches the reloaded page (the fetch waits for it): a pass over
what the build made (about 20 ms at 10,000 stories), and every few builds a
pass over the whole site (0.7 s at 10,000 stories, found nothing worth it).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off for a while (and on again after, if it was)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class IdleCollector:
    """The cycle collector of a builder that builds again and again (serve).

    While it runs, the collector never starts by itself. After each build,
    `young()` collects what the build left (the youngest generations), one
    piece of idle work. When a build made the whole site (the first one, after
    a template change, a prime), `settle()` collects everything once and then
    sets everything alive aside (`gc.freeze`): later passes look only at what
    edits made since. Edits leave almost no garbage among what was set aside
    (93 objects after 30 edits at 10,000 stories), and the next whole build
    looks at it again.
    """

    # Builds between two full passes over what was made since the last freeze.
    FULL_EVERY = 10

    def __init__(self) -> None:
        self._was_on: bool | None = None
        self._young = False
        self._whole = False
        self._builds = 0

    @property
    def running(self) -> bool:
        return self._was_on is not None

    def start(self) -> None:
        """Take the collector over: off, until `stop`."""
        if self._was_on is None:
            self._was_on = gc.isenabled()
            gc.disable()

    def stop(self) -> None:
        """Give the collector back as it was, with nothing set aside."""
        if self._was_on is None:
            return
        gc.unfreeze()
        if self._was_on:
            gc.enable()
        self._was_on = None

    def built(self, whole: bool = False) -> None:
        """A build ran; `whole`: it made (or loaded) the whole site."""
        self._young = True
        self._builds += 1
        self._whole = self._whole or whole

    def young(self) -> bool:
        """Collect what the last builds left, if not done yet; True if it did."""
        if not self._young:
            return False
        self._young = False
        gc.collect(1)
        return True

    def settle(self) -> bool:
        """The longer pass, when due: after a whole build, everything, then set it all
        aside; after FULL_EVERY builds, everything made since. True if it did one."""
        if self._whole:
            self._whole, self._builds = False, 0
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            return True
        if self._builds >= self.FULL_EVERY:
            self._builds = 0
            gc.collect()
            return True
        return False
