"""The command handlers behind `site-gen build|serve|new|init|publish`.

Each parses nothing and decides nothing: it calls the library and prints.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from .cli import print_problems, summary_line
from .workers import WORKERS_LOST

# What a command made, kept until the process ends: `cli.run` exits without freeing
# it (on a big site freeing a build's objects one by one takes a good part of a second).
KEPT_TO_EXIT: list[object] = []


def cmd_build(args: argparse.Namespace) -> int:
    from .builder import Builder
    from .site import as_of_date

    out = Path(args.out) if args.out else Path(args.site) / "output"
    if args.watch:
        return _watch_build(args, out)
    # The build runs without the cycle collector (see Builder.build); a collection
    # after it, over everything it made, would only delay the exit.
    gc.disable()
    builder = Builder(Path(args.site), out, drafts=args.drafts, base_url=args.base_url)
    builder.keep_views = False  # it builds once
    KEPT_TO_EXIT.append(builder)
    as_of = as_of_date(args.as_of, None) if args.as_of else None
    report = builder.build(as_of)
    print_problems(report.problems)
    if report.workers_lost:
        print(WORKERS_LOST, file=sys.stderr)
    if not report.ok:
        print(summary_line(report.problems, report.files), file=sys.stderr)
        print("build failed; the previous output was left as it was", file=sys.stderr)
        return 1
    print(
        f"built {report.pages} pages in {report.seconds:.2f} s "
        f"({len(report.written)} files written, {len(report.removed)} removed) into {out}",
        file=sys.stderr,
    )
    return 0


def _watch_build(args: argparse.Namespace, out: Path) -> int:
    from .rebuild import watch_build
    from .site import as_of_date

    as_of = as_of_date(args.as_of, None) if args.as_of else None
    return watch_build(Path(args.site), out, drafts=args.drafts, base_url=args.base_url, as_of=as_of)


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import new_record

    path = new_record(Path(args.site), args.kind, args.id)
    print(path.relative_to(Path(args.site)).as_posix())
    print("a draft: fill it in, then delete `draft: true` to publish it", file=sys.stderr)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .scaffold import init_site

    target = Path(args.dir)
    written = init_site(target)
    print(f"created a new site in {target} ({len(written)} files)", file=sys.stderr)
    print(f"next: cd {target} && site-gen serve   (then see README.md there)", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(Path(args.site), host=args.host, port=args.port)


def cmd_publish(args: argparse.Namespace) -> int:
    from .errors import ContentError
    from .publish import publish_branch, publish_to
    from .site import as_of_date

    root = Path(args.site)
    as_of = as_of_date(args.as_of, None) if args.as_of else None
    try:
        if args.to:
            result = publish_to(root, Path(args.to), as_of=as_of, base_url=args.base_url)
        else:
            result = publish_branch(
                root,
                args.branch,
                remote=args.remote,
                push=not args.no_push,
                message=args.message,
                as_of=as_of,
                base_url=args.base_url,
            )
    except ContentError as exc:
        print_problems(exc.problems)
        print(summary_line(exc.problems, 0).rsplit(" in ", 1)[0], file=sys.stderr)
        print("publish failed; nothing was published", file=sys.stderr)
        return 1
    print_problems(result.problems)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.to:
        print(
            f"published {result.files} files to {result.target} ({len(result.added)} added, "
            f"{len(result.changed)} changed, {len(result.removed)} removed)",
            file=sys.stderr,
        )
    elif result.commit:
        where = f"pushed to {args.remote}" if result.pushed else "not pushed (--no-push)"
        print(
            f"committed {result.files} files to {result.target} as {result.commit[:12]}; {where}",
            file=sys.stderr,
        )
    else:
        print(f"{result.target}: {'pushed' if result.pushed else 'up to date'}", file=sys.stderr)
    return 0
