"""The one Jinja2 environment: autoescaped (``.xhtml`` too), strict, themable, sandboxed.

A theme may come with a publication folder someone else wrote, so its templates see values,
never capabilities: :class:`ThemeSandbox` refuses every attribute that is a path or a file,
every underscore name, pydantic's own methods, and every callable attribute that is not on
an allow-list of pure methods (``str.upper``, ``dict.items``, ``date.strftime``, a template's
macros …).  Templates are read through :class:`ThemeLoader`, one folder at a time and each
through :mod:`broadsheet.files` against that folder: a link out, an absolute name or ``..``
is refused.  ``!default/NAME`` (any shipped theme's name) reads only shipped templates.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import string
import types
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from jinja2 import BaseLoader, StrictUndefined, TemplateError
from jinja2.compiler import CodeGenerator
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Cycler, Namespace
from markupsafe import Markup
from pydantic import BaseModel

from .. import limits
from ..files import read_inside, real_root
from ..model import Inline
from .labels import format_date, labels_for, number_label, section_label
from .theme import SHIPPED_PREFIX, Theme, shipped_template_path, shipped_themes

__all__ = ["ThemeSandbox", "ThemeLoader", "RefusedTemplate", "make_environment", "inline_markup"]

# Pure methods a template may call, by the type of the object they belong to.
STR_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "format", "format_map", "index", "isalnum", "isalpha",
    "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle",
    "isupper", "join", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
    "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper",
})
MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})
SEQUENCE_METHODS = frozenset({"index", "count"})
DATE_METHODS = frozenset({"strftime", "isoformat", "weekday", "isoweekday", "isocalendar"})
LOOP_METHODS = frozenset({"cycle", "changed"})
_MODEL_NAMES = frozenset(dir(BaseModel))
# What one ``*`` or ``**`` may make: sequences of this many items, numbers of this many bits.
MAX_REPEAT = 1_000_000
MAX_POWER_BITS = 4096
MAX_INT_BITS = 65_536
# The longest text or sequence one expression may make (``~``, ``+``, ``replace``, ``join``, filters).
MAX_VALUE_CHARS = 16 * 1024 * 1024
MAX_WIDTH = 10_000


class RefusedTemplate(TemplateError):
    """A template name that is absolute or climbs out with ``..``, or an expression too large for a template."""


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_SPEC_WIDTH = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d+)?[,_]?(?:\.(\d+))?")


def _longest(values) -> int:
    """The longest text or sequence among ``values`` (a tuple, a mapping or one value), at least 20."""
    if isinstance(values, Mapping):
        values = list(values.values())
    elif not isinstance(values, (list, tuple)):
        values = [values]
    return max((len(v) for v in values if isinstance(v, (str, list, tuple, dict))), default=0) + 20


def _check_format(spec: str, values, what: str) -> None:
    """Refuse a ``%`` or ``str.format`` pattern whose result could be too long: every field's width and
    precision (``*`` and nested fields refused), plus the longest value once per field, counted before."""
    total, longest = len(spec), _longest(values)
    if what == "%":
        fields = [(m.group(1) or "", m.group(2) or "") for m in _PERCENT_FIELD.finditer(spec)]
    else:
        fields = []
        for _, name, format_spec, _ in string.Formatter().parse(spec):
            if name is None:
                continue
            if "{" in (format_spec or ""):
                raise RefusedTemplate(f"a format width given by a value is refused in a template "
                                      f"({limits.quote(spec, 60)})")
            match = _SPEC_WIDTH.match(format_spec or "")
            fields.append((match.group(1) or "", match.group(2) or ""))
    for width, precision in fields:
        if "*" in (width, precision):
            raise RefusedTemplate(f"a format width given by a value is refused in a template ({limits.quote(spec, 60)})")
        total += int(width or 0) + int(precision or 0) + longest
    _too_long(total, "a % format" if what == "%" else "format()")


def _too_long(size: int, what: str) -> None:
    if size > MAX_VALUE_CHARS:
        raise RefusedTemplate(f"{what} would make {size:,} characters or items, more than a template may "
                              f"({MAX_VALUE_CHARS:,})")


def _bounded_text(value):
    """Every ``a ~ b`` of a template passes here (see :class:`_BoundedCodeGenerator`): a doubling in a loop stops."""
    _too_long(len(value), "a ~ concatenation")
    return value


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``~`` so that its result is measured."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")


def _guard_str_method(obj, name, value):
    """``replace`` and ``join`` of a text, however reached (``s.replace``, ``s["replace"]``, ``attr``), bounded."""
    if isinstance(obj, str) and name in ("replace", "join") and callable(value):
        return _bounded_str_method(obj, name, value)
    return value


def _bounded_str_method(text: str, name: str, method):
    def replace(old, new, count=-1):
        if isinstance(old, str) and isinstance(new, str):
            hits = (text.count(old) if old else len(text) + 1)
            if count is not None and count >= 0:
                hits = min(hits, count)
            _too_long(len(text) + hits * max(len(new) - len(old), 0), "replace()")
        return method(old, new, count)

    def join(items):
        items = list(items)
        _too_long(sum(len(item) for item in items if isinstance(item, str)) + len(text) * len(items), "join()")
        return method(items)

    return {"replace": replace, "join": join}[name]


def _capability(value: object) -> bool:
    """A path, a file, a module: what a template must never hold."""
    return isinstance(value, (os.PathLike, io.IOBase, types.ModuleType)) or \
        type(value).__module__ in {"pathlib", "io", "_io", "os", "posix", "shutil", "tempfile"}


#: How many answers of :meth:`ThemeSandbox.is_safe_attribute` an environment keeps.
SAFE_ANSWERS = 4096


class ThemeSandbox(SandboxedEnvironment):
    """A sandbox in which templates read values and call only pure methods."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("center", "indent", "format", "wordwrap", "truncate", "replace", "join", "string", "striptags",
                     "urlize", "title", "capitalize", "upper", "lower", "trim", "xmlattr", "tojson", "pprint"):
            self.filters[name] = _bounded(self.filters[name], name)
        self.globals.pop("lipsum", None)
        self._safe: dict[tuple[type, str, type], bool] = {}

    @staticmethod
    def bounded_text(value):
        return _bounded_text(value)

    def is_safe_attribute(self, obj, attr, value) -> bool:
        # Every check below depends on the types of the object and the value and on the name alone, so each
        # answer is kept by those (up to SAFE_ANSWERS of them: a template can make names without end).
        key = (type(obj), attr, type(value))
        answer = self._safe.get(key)
        if answer is None:
            answer = self._is_safe_attribute(obj, attr, value)
            if len(self._safe) < SAFE_ANSWERS:
                self._safe[key] = answer
        return answer

    def _is_safe_attribute(self, obj, attr, value) -> bool:
        if attr.startswith("_") or not super().is_safe_attribute(obj, attr, value):
            return False
        if _capability(value) or _capability(obj):
            return False
        if isinstance(obj, BaseModel) and attr in _MODEL_NAMES and attr not in type(obj).model_fields:
            return False
        if not callable(value):
            return True
        if isinstance(value, Macro):  # {% import "x" as blocks %}{{ blocks.name() }}
            return True
        if isinstance(obj, (TemplateReference, BlockReference)):  # self.block(), super()
            return True
        if isinstance(obj, str):
            return attr in STR_METHODS
        if isinstance(obj, Mapping) and not isinstance(obj, Namespace):
            return attr in MAPPING_METHODS
        if isinstance(obj, (list, tuple)):
            return attr in SEQUENCE_METHODS
        if isinstance(obj, (dt.date, dt.time)):
            return attr in DATE_METHODS
        if isinstance(obj, LoopContext):
            return attr in LOOP_METHODS
        if isinstance(obj, Cycler):
            return attr in ("next", "reset")
        return False

    def getattr(self, obj, attribute):
        # refused by name before the attribute is even looked up (a pydantic method, an underscore name)
        if isinstance(attribute, str) and (attribute.startswith("_") or (
                isinstance(obj, BaseModel) and attribute in _MODEL_NAMES and attribute not in type(obj).model_fields)):
            return self.unsafe_undefined(obj, attribute)
        return _guard_str_method(obj, attribute, super().getattr(obj, attribute))

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        spec = value.__self__

        def bounded(*args, **kwargs):
            _check_format(spec, [*args, *kwargs.values()], "format()")
            return wrapped(*args, **kwargs)

        return bounded

    def getitem(self, obj, argument):
        value = super().getitem(obj, argument)
        if _capability(value):
            return self.unsafe_undefined(obj, str(argument))
        return _guard_str_method(obj, argument, value)  # s["replace"] is s.replace

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and \
                    max(left.bit_length(), 1) * right > MAX_POWER_BITS:
                raise RefusedTemplate(f"a power too large for a template ({limits.quote(left, 40)} ** "
                                      f"{limits.quote(right, 40)})")
        elif operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                    raise RefusedTemplate(f"a repetition too long for a template ({len(seq):,} × {count:,})")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RefusedTemplate("a product too large for a template")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _too_long(len(left) + len(right), "a + sum")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right, "%")
        return super().call_binop(context, operator, left, right)


class ThemeLoader(BaseLoader):
    """Templates from ``folders`` in order, each file read through the file door against its folder.

    ``!NAME/rest`` names the template ``rest`` of the shipped theme ``NAME`` (``!default/epub/article.xhtml``):
    it is looked up in that theme's shipped folders and the shipped base only, never in ``folders``,
    so a theme's template can extend the shipped one it overrides and call ``super()``.
    """

    def __init__(self, folders, shipped=shipped_template_path) -> None:
        self.folders = tuple(Path(folder) for folder in folders)
        self.shipped = shipped

    def folders_for(self, name: str) -> tuple[tuple[Path, ...], str]:
        """The folders to search for ``name`` and its name in them (``!NAME/`` resolved to shipped folders)."""
        if not name.startswith(SHIPPED_PREFIX):
            return self.folders, name
        theme, slash, rest = name[len(SHIPPED_PREFIX):].partition("/")
        folders = self.shipped(theme) if slash and rest and theme else None
        if folders is None:
            raise RefusedTemplate(f"template name {limits.quote(name, 80)} names no shipped template; "
                                  f"{SHIPPED_PREFIX}NAME/ takes a shipped theme ({', '.join(shipped_themes())}) "
                                  "and a template name")
        return tuple(Path(folder) for folder in folders), rest

    @staticmethod
    def split(name: str, shown: str | None = None) -> list[str]:
        shown = name if shown is None else shown
        if not name or "\0" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise RefusedTemplate(f"template name {limits.quote(shown, 80)} is absolute or not a name; "
                                  "templates are named relative to the theme folder")
        pieces = name.split("/")
        if any(piece in ("", ".", "..") for piece in pieces):
            raise RefusedTemplate(f"template name {limits.quote(shown, 80)} leaves or wanders in the theme folder; "
                                  "not read")
        return pieces

    def get_source(self, environment, template):
        folders, name = self.folders_for(template)
        pieces = self.split(name, template)
        for folder in folders:
            path = folder.joinpath(*pieces)
            if not os.path.lexists(path):
                continue
            data = read_inside(path, real_root(folder), max_bytes=limits.current().source_bytes,
                               what="theme template")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise RefusedTemplate(f"template {template} is not UTF-8 text ({path})") from None
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                mtime = None

            def uptodate(path=path, mtime=mtime) -> bool:
                try:
                    return os.stat(path).st_mtime_ns == mtime
                except OSError:
                    return False

            return text, str(path), uptodate
        from jinja2 import TemplateNotFound

        if folders is not self.folders:
            raise TemplateNotFound(template, f"no shipped template {limits.quote(template, 80)}")
        raise TemplateNotFound(template)


def _bounded(function, name):
    """A shipped filter whose widths, format strings and results cannot ask for gigabytes."""
    offset = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    def bounded(*args, **kwargs):
        rest = list(args[offset:])
        values = [*rest, *kwargs.values()]
        if name in ("center", "indent", "wordwrap", "truncate", "format") and \
                any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_WIDTH for v in values):
            raise RefusedTemplate(f"the {name} filter was given a width too large for a template")
        if name == "format" and rest and isinstance(rest[0], str):
            _check_format(rest[0], rest[1:] or list(kwargs.values()), "%")
        if name == "indent" and rest and isinstance(rest[0], str):
            width = rest[1] if len(rest) > 1 else kwargs.get("width", 4)
            width = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            _too_long(len(rest[0]) + (rest[0].count("\n") + 1) * width, "the indent filter")
        if name == "replace" and len(rest) >= 3:
            text, old, new = (str(v) for v in rest[:3])
            _too_long(len(text) + (text.count(old) if old else len(text) + 1) * max(len(new) - len(old), 0),
                      "the replace filter")
        if name == "join" and rest:
            items = rest[0] = list(rest[0])
            joiner = rest[1] if len(rest) > 1 else kwargs.get("d", "")
            _too_long(sum(len(i) for i in items if isinstance(i, str)) + len(str(joiner)) * len(items),
                      "the join filter")
            args = (*args[:offset], *rest)
        result = function(*args, **kwargs)
        if isinstance(result, (str, list, tuple)):
            _too_long(len(result), f"the {name} filter")
        return result

    for attribute in ("jinja_pass_arg",):
        if hasattr(function, attribute):
            setattr(bounded, attribute, getattr(function, attribute))
    return bounded


def inline_markup(value: Inline | None) -> Markup:
    """Insert a sanitised Inline fragment (only ingest/html.py can make one)."""
    if value is None:
        return Markup("")
    if not isinstance(value, Inline):
        raise TypeError("the inline filter takes model Inline values only")
    return Markup(value.html)


@lru_cache(maxsize=16)
def make_environment(theme: Theme) -> ThemeSandbox:
    """Return the environment over the theme's folders and the shipped templates (one per theme)."""
    env = ThemeSandbox(
        loader=ThemeLoader(theme.template_path),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = inline_markup
    env.globals.update(
        format_date=format_date, labels_for=labels_for, section_label=section_label, number_label=number_label
    )
    return env
