"""Problems found in a site, and the exceptions that carry them.

Every content problem is a `Problem`: a file, a 1-based line and column, a
severity and a message that says what to do. Problems are collected, never
raised one by one, so an editor sees all of them in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

ERROR = "error"
WARNING = "warning"

# A problem is one line: line breaks and other control characters that came
# from the content (a value, a file name) are shown escaped, as \n or \x07.
_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a site's files."""

    path: str
    line: int
    col: int
    severity: str
    message: str

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"
        return _ONE_LINE.sub(lambda m: repr(m.group())[1:-1], text)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


@dataclass
class Problems:
    """An ordered collection of problems, appended to by every stage."""

    items: list[Problem] = field(default_factory=list)

    def error(self, path: str, line: int, col: int, message: str) -> None:
        self.items.append(Problem(path, line, col, ERROR, message))

    def warning(self, path: str, line: int, col: int, message: str) -> None:
        self.items.append(Problem(path, line, col, WARNING, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if not p.is_error]

    def sorted(self) -> list[Problem]:
        """Unique problems in file, line and column order, for stable output."""
        return sorted(set(self.items))


class ProblemsReport:
    """Mixin for results that carry a `problems` list: its errors and warnings."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


class SiteGenError(Exception):
    """Base of the errors site-gen shows to users without a traceback."""

    exit_code = 1


class UsageError(SiteGenError):
    """The command was called wrongly (exit status 2)."""

    exit_code = 2


class ContentError(SiteGenError):
    """The site's content has errors; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = sum(1 for p in problems if p.is_error)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in the content")
