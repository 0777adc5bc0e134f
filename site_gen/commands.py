"""The command handlers behind `site-gen build|serve|new|init|publish`.

Each parses nothing and decides nothing: it calls the library and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import print_problems, summary_line


def cmd_build(args: argparse.Namespace) -> int:
    from .builder import Builder
    from .site import as_of_date

    out = Path(args.out) if args.out else Path(args.site) / "output"
    builder = Builder(Path(args.site), out, drafts=args.drafts, base_url=args.base_url)
    as_of = as_of_date(args.as_of, None) if args.as_of else None
    report = builder.build(as_of)
    print_problems(report.problems)
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

