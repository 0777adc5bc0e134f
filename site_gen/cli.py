"""The `site-gen` command: a thin layer over the library.

Parses arguments, calls the library, prints problems as `file:line:col:`
lines on stderr and turns outcomes into exit codes (0 ok, 1 content errors,
2 usage errors). It holds no logic of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn, Sequence

from . import __version__
from .errors import Problem, SiteGenError, UsageError

Handler = Callable[[argparse.Namespace], int]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def summary_line(problems: Sequence[Problem], files: int) -> str:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(files, 'file')}"


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_site

    report = check_site(args.site, as_of=args.as_of)
    print_problems(report.problems)
    print(summary_line(report.problems, report.result.files), file=sys.stderr)
    if report.overdue:
        site = report.result.site
        assert site is not None
        print(
            f"{_plural(len(report.overdue), 'question')} overdue (shown on the site, not a problem):",
            file=sys.stderr,
        )
        for question in report.overdue:
            deadline = question.values["deadline"].display(site.config.tz)
            print(f"  {question.id}: deadline {deadline}", file=sys.stderr)
    return 1 if report.failed(args.strict) else 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .schema import json_schema

    print(json.dumps(json_schema(args.kind), indent=2, ensure_ascii=False))
    return 0


def _lazy(module: str, name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(f"site_gen.{module}"), name)
        return handler(args)

    return run


def make_parser() -> argparse.ArgumentParser:
    from .fields import KINDS, SINGULAR_TO_KIND

    parser = argparse.ArgumentParser(
        prog="site-gen",
        description="Build a static briefing site from YAML records.",
        epilog="Exit status: 0 success, 1 content errors or a failed publish, 2 usage errors.",
    )
    parser.add_argument("--version", action="version", version=f"site-gen {__version__}")
    parser.add_argument(
        "--site",
        default=".",
        metavar="DIR",
        help="the site folder (holding site.yaml); default: the current folder",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="validate everything, build nothing",
        description="Validate every record and site.yaml; build nothing.",
    )
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    _as_of(check)
    check.set_defaults(handler=cmd_check)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a record kind",
        description="Print the JSON Schema of a record kind, or of "
        "every kind and site.yaml, for editors and validators.",
    )
    schema.add_argument(
        "kind",
        nargs="?",
        choices=[*KINDS, *SINGULAR_TO_KIND, "site"],
        metavar="KIND",
        help="topics, stories, quotes, questions, people, events or site (default: all)",
    )
    schema.set_defaults(handler=cmd_schema)

    build = commands.add_parser(
        "build", help="build the site into output/", description="Build the site into output/ (or DIR)."
    )
    build.add_argument("--out", metavar="DIR", help="build into DIR instead of output/")
    build.add_argument("--drafts", action="store_true", help="include draft records")
    build.add_argument(
        "--watch",
        action="store_true",
        help="keep running: build again on every change to the site's files (Ctrl-C to stop)",
    )
    _as_of(build)
    _base_url(build)
    build.set_defaults(handler=_lazy("commands", "cmd_build"))

    serve = commands.add_parser(
        "serve",
        help="preview with live reload",
        description="Build with drafts, serve on 127.0.0.1:8000, "
        "rebuild and reload the browser on every change.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=_lazy("commands", "cmd_serve"))

    new = commands.add_parser(
        "new",
        help="write a new record to fill in",
        description="Write content/<kinds>/<ID>.yaml with the fields to "
        "fill in (as a draft). Never overwrites.",
    )
    new.add_argument("kind", metavar="KIND", help="topic, story, quote, question, person or event")
    new.add_argument("id", metavar="ID", help="the new record's id (its URL slug)")
    new.set_defaults(handler=_lazy("commands", "cmd_new"))

    init = commands.add_parser(
        "init",
        help="create a new site",
        description="Create a new site in DIR that checks and builds as it is.",
    )
    init.add_argument("dir", metavar="DIR", help="the folder to create (must be empty or absent)")
    init.set_defaults(handler=_lazy("commands", "cmd_init"))

    publish = commands.add_parser(
        "publish",
        help="publish a production build",
        description="Publish a production build (no drafts) to a folder or a git branch.",
    )
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="DIR", help="make DIR exactly the built site")
    target.add_argument("--branch", metavar="NAME", help="commit the site as branch NAME and push it")
    publish.add_argument("--remote", default="origin", help="remote to push to (default origin)")
    publish.add_argument("--no-push", action="store_true", help="commit the branch, do not push")
    publish.add_argument("--message", metavar="M", help="commit message")
    _as_of(publish)
    _base_url(publish)
    publish.set_defaults(handler=_lazy("commands", "cmd_publish"))
    for command in (check, schema, build, serve, new, publish):
        # `site-gen build --site DIR` works as well as `site-gen --site DIR build`.
        command.add_argument("--site", default=argparse.SUPPRESS, metavar="DIR", help=argparse.SUPPRESS)
    return parser


def _as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="the date the briefing is as of (YYYY-MM-DD); default "
        "SOURCE_DATE_EPOCH, else today in the site's timezone",
    )


def _base_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", metavar="URL", help="override site.yaml's base_url")


def _check_base_url(url: str | None) -> None:
    import re

    if url is not None and not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise UsageError(f"--base-url '{url}' is not an absolute http or https URL")


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        _check_base_url(getattr(args, "base_url", None))
        if args.command not in ("init", "schema"):
            from .site import site_root

            args.site = site_root(args.site)
        return int(args.handler(args))
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"site-gen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SiteGenError as exc:
        print(f"site-gen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The `site-gen` command: main(), then exit without tearing down.

    A big build leaves millions of objects; freeing them one by one at exit
    takes longer than a no-change rebuild. Everything written is closed by
    then, so the process ends at once after flushing its output.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
