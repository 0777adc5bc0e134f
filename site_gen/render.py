"""Jinja: the template environment and turning a view into a page.

Autoescape is on for every template whatever its name, and undefined names
are errors, so a misspelt variable fails the build instead of vanishing.
A site's templates/ folder overrides the default theme file by file.
"""

from __future__ import annotations

import posixpath
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import jinja2
import markupsafe
from jinja2 import pass_context
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import Markup, escape

from .errors import Problem, SiteGenError
from .search import SEARCH_FILTERS, search_markup_global
from .structured import json_ld_global, open_graph_global, tojson
from .templatefiles import template_dirs


def relative_url(from_path: str, target: str) -> str:
    """A link from the page at `from_path` ("topics/x/") to `target` ("stories/y/#a")."""
    folder = _FOLDERS.get(from_path)
    if folder is None:
        if len(_FOLDERS) >= _FOLDERS_KEPT:
            _FOLDERS.clear()
        folder = _FOLDERS[from_path] = _folder(from_path)
    top, depth = folder
    head, check = target.split("/", 1)[0], "/" + target
    if head == top or top is None or "//" in check or "/." in check:
        return _relative_url(from_path, target)
    # Outside the page's top folder the link climbs to the root and goes down: the
    # same text from every page as deep ("../../topics/x/" from each story page).
    key = (depth, target)
    found = _AWAY.get(key)
    if found is None:
        if len(_AWAY) >= _AWAY_KEPT:
            _AWAY.clear()
        found = _AWAY[key] = _relative_url(from_path, target)
    return found


# Links are most of what a page's template calls (300,000 in a cold build of 10,000
# stories): each page's top folder and depth (asked for by one page after another),
# and the links that depend on no more (bounded: a process of a 100,000-story build
# must stay small).
_FOLDERS: dict[str, tuple[str | None, int]] = {}
_AWAY: dict[tuple[int, str], str] = {}
_FOLDERS_KEPT = 1_000
_AWAY_KEPT = 20_000


def _folder(from_path: str) -> tuple[str | None, int]:
    """The top folder and depth of the folder `from_path` is in; no top folder when
    the path has an empty, '.' or '..' part (the standard library's way is taken)."""
    folder = _base(from_path).rstrip("/")
    if "//" in "/" + folder + "/" or "/." in "/" + folder:
        return None, 0
    parts = folder.split("/") if folder else []
    return (parts[0] if parts else ""), len(parts)


def _base(from_path: str) -> str:
    """The folder a page's links are relative to: the page's own, for a file its folder."""
    return from_path if from_path.endswith("/") or not from_path else posixpath.dirname(from_path)


def _relative_url(from_path: str, target: str) -> str:
    target_path, hash_, fragment = target.partition("#")
    rel = _relpath(target_path, _base(from_path))
    if (target_path.endswith("/") or not target_path) and not rel.endswith("/"):
        rel += "/"
    if rel == "./" or rel == "":
        rel = "./"
    return rel + hash_ + fragment


def _relpath(target_path: str, base: str) -> str:
    """posixpath.relpath of two site-relative paths, without its normalising cost.

    Pages link hundreds of thousands of times per build; plain paths (no
    empty, '.' or '..' segment) take the quick way, anything else the
    standard library's.
    """
    target, folder = target_path.rstrip("/"), base.rstrip("/")
    check = f"/{target}\0/{folder}"
    if "//" in check or "/." in check:
        return posixpath.relpath("/" + target_path, "/" + folder)
    target_parts = target.split("/") if target else []
    base_parts = folder.split("/") if folder else []
    common = 0
    for mine, theirs in zip(base_parts, target_parts):
        if mine != theirs:
            break
        common += 1
    return "/".join([".."] * (len(base_parts) - common) + target_parts[common:]) or "."


@pass_context
def _url(context: Any, target: str) -> str:
    page = context["page"]
    if page.path == "404.html":  # served at any missing URL: absolute paths only
        return context["site"].base_path + target
    return relative_url(page.path, target)


class Reuse:
    """`{{ reuse(macro, view, ...) }}` in a template: the macro's output, kept for
    the same view object on the same page.

    A serving builder keeps per-record views between builds (see ViewMemo): an
    edit remakes the views of the records it touched, so a year's timeline of
    thousands of entries renders only the new ones again. A macro given to
    `reuse` must show only its arguments, the page's address (its links are
    relative to it) and `site` (the builder forgets everything kept when the
    settings or templates change).
    """

    LIMIT = 100_000
    # A piece of a page this long or longer has its UTF-8 bytes kept (see page_bytes),
    # up to BYTES_KEPT bytes in all.
    BIG_PIECE = 4096
    BYTES_KEPT = 64 * 1024 * 1024

    def __init__(self) -> None:
        self.enabled = False
        self.kept: dict[Any, tuple[Any, Any]] = {}
        self.encoded: dict[int, tuple[str, bytes]] = {}
        self._encoded_size = 0

    def clear(self) -> None:
        self.kept.clear()
        self.encoded.clear()
        self._encoded_size = 0

    def page_bytes(self, pieces: Iterable[str]) -> bytes:
        """The UTF-8 bytes of a page rendered as `pieces` (Template.generate).

        A year's timeline is megabytes, output month by month: while serving, the
        months an edit did not touch are the HTML kept here, and their bytes are
        kept too, so only the changed month is encoded again. (Joined first, the
        page was one string to encode whole: 4-10 ms at 10,000 stories, and one
        character past Latin-1 anywhere in it makes that string two bytes a
        character.) Small pieces are joined and encoded together.
        """
        out: list[bytes] = []
        small: list[str] = []
        for piece in pieces:
            if len(piece) < self.BIG_PIECE:
                small.append(piece)
                continue
            if small:
                out.append("".join(small).encode("utf-8"))
                small = []
            out.append(self._bytes_of(piece) if self.enabled else piece.encode("utf-8"))
        out.append("".join(small).encode("utf-8"))
        return b"".join(out)

    def _bytes_of(self, piece: str) -> bytes:
        found = self.encoded.get(id(piece))
        if found is not None and found[0] is piece:  # held here: its id is not reused meanwhile
            return found[1]
        data = piece.encode("utf-8")
        if self._encoded_size + len(data) > self.BYTES_KEPT:
            self.encoded.clear()
            self._encoded_size = 0
        self.encoded[id(piece)] = (piece, data)
        self._encoded_size += len(data)
        return data

    def function(self) -> Any:
        @pass_context
        def reuse(context: Any, macro: Any, view: Any, *args: Any) -> Any:
            if not self.enabled:
                return macro(view, *args)
            try:
                # The site's settings are not in the key: the builder clears this when they change.
                page = getattr(context.get("page"), "path", None)
                key = (getattr(macro, "name", macro), id(view), args, page)
                found = self.kept.get(key)
            except TypeError:  # something unhashable: no keeping
                return macro(view, *args)
            if found is not None and found[0] is view:
                return found[1]
            if len(self.kept) >= self.LIMIT:
                self.kept.clear()
            output = macro(view, *args)
            self.kept[key] = (view, output)
            return output

        return reuse


# MarkupSafe's escaping of a plain string, without wrapping the result in Markup
# (MarkupSafe 3 names it so; with another version, its public escape() does).
_escape_str = getattr(markupsafe, "_escape_inner", None) or (lambda text: str(escape(text)))


def output_text(value: Any) -> str:
    """What `{{ value }}` writes in an autoescaped template: Markup as it is, anything
    else escaped.

    Jinja's own choice, `escape(value)`, copies Markup into a new Markup through a
    Python-level constructor. A page that shows thousands of macro outputs (a year's
    timeline, whose entries serve keeps between edits) spent several milliseconds an
    edit on those copies. A plain string is escaped into a plain string: what is
    output is only ever joined into the page or into a macro's result (which Jinja
    marks safe itself), so the Markup that escape() makes around it (half a
    microsecond, two million times in a cold build of 10,000 stories) was never used.
    The text written is the same.
    """
    kind = type(value)
    if kind is str:
        return _escape_str(value)
    if kind is Markup:
        return value
    return escape(value)


class _OutputCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `output_text` in place of `escape` for output in an
    autoescaped template (see Environment.code_generator_class)."""

    def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.output_text(")
        if finalize.src is not None:
            self.write(finalize.src)


class BriefingEnvironment(jinja2.Environment):
    """The templates' environment class: Jinja's, writing Markup without copying it."""

    code_generator_class = _OutputCodeGenerator
    output_text = staticmethod(output_text)
    kept_html: Reuse  # the `reuse` global's HTML, and the bytes of its big pieces


def make_environment(
    root: Path, reuse: Reuse | None = None, compiled: Path | None = None
) -> jinja2.Environment:
    """The templates' environment. `compiled`: a folder where Jinja keeps the templates'
    compiled code, checked against each template's source (compiling them is a fifth
    of a `build` that makes a few pages)."""
    env = BriefingEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(root)]),
        bytecode_cache=None if compiled is None else jinja2.FileSystemBytecodeCache(str(compiled)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build: templates cannot change during it
    )
    env.filters["url"] = _url
    env.filters["tojson"] = tojson
    env.kept_html = reuse or Reuse()
    env.globals["reuse"] = env.kept_html.function()
    # What readers' tools see besides the page: JSON-LD, Open Graph, search-index markup.
    env.globals["json_ld"] = json_ld_global
    env.globals["open_graph"] = open_graph_global
    env.globals["search_markup"] = search_markup_global
    env.globals["search_filters"] = SEARCH_FILTERS
    return env


class TemplateProblem(SiteGenError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def render_page(
    env: jinja2.Environment, root: Path, template: str, context: dict[str, Any], page_path: str
) -> str:
    """Render one page; a template error becomes a located TemplateProblem."""
    with _located_errors(root, template, page_path):
        return env.get_template(template).render(context)


def render_page_bytes(
    env: jinja2.Environment, root: Path, template: str, context: dict[str, Any], page_path: str
) -> bytes:
    """Render one page to UTF-8 piece by piece, as a template that outputs big kept
    pieces (the year timeline's months) is best encoded (see Reuse.page_bytes)."""
    with _located_errors(root, template, page_path):
        reuse: Reuse = getattr(env, "kept_html", None) or Reuse()
        return reuse.page_bytes(env.get_template(template).generate(context))


@contextmanager
def _located_errors(root: Path, template: str, page_path: str) -> Iterator[None]:
    """Template errors raised inside as located TemplateProblems."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            Problem(
                _display(root, exc.filename, exc.name),
                exc.lineno or 1,
                1,
                "error",
                f"template syntax: {exc.message}",
            )
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(
            Problem(
                "templates/" + template,
                1,
                1,
                "error",
                f"template '{exc.name}' not found (rendering {page_path})",
            )
        ) from None
    except Exception as exc:  # a template's runtime error, located by its frame
        filename, line = _template_frame(exc)
        message = f"{type(exc).__name__}: {exc} (rendering {page_path})"
        raise TemplateProblem(
            Problem(_display(root, filename, template), line, 1, "error", message)
        ) from None


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    found: tuple[str | None, int] = (None, 1)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt")):
            found = (frame.filename, frame.lineno or 1)
    return found


def _display(root: Path, filename: str | None, name: str | None) -> str:
    if filename:
        path = Path(filename)
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return f"(theme)/{path.name}"
    return f"templates/{name}"
