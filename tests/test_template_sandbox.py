"""The template sandbox, the theme loader, the stylesheet check and the bounds of one render."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest
from jinja2 import DictLoader, StrictUndefined, TemplateError

from broadsheet import limits
from broadsheet.config import PdfConfig
from broadsheet.errors import BroadsheetError, ConfigError, RenderError
from broadsheet.files import OutsideRoot
from broadsheet.model import Article, Figure, Image
from broadsheet.paper import DEFAULT_PAGE
from broadsheet.render import _render
from broadsheet.render.css import css_fault
from broadsheet.render.environment import ThemeLoader, ThemeSandbox, make_environment
from broadsheet.render.page import page_css
from broadsheet.render.theme import Theme, find_theme
from broadsheet.resources import data_dir


def sandbox(templates: dict[str, str] | None = None) -> ThemeSandbox:
    return ThemeSandbox(loader=DictLoader(templates or {}), autoescape=True, undefined=StrictUndefined)


def render(source: str, **context) -> str:
    return sandbox().from_string(source).render(**context)


@pytest.fixture
def article(tmp_path) -> Article:
    (tmp_path / "a.md").write_text("secret source", encoding="utf-8")
    picture = Image(src="p.png", name="p.png", path=tmp_path / "p.png", media_type="image/png", alt="A picture",
                    width=4, height=4)
    return Article(id="a", title="Title", lang="en", source_path=tmp_path / "a.md", blocks=(Figure(image=picture),))


CAPABILITIES = [
    '{{ article.source_path.joinpath("/etc/passwd").read_text() }}',
    '{{ article.source_path.read_text() }}',
    '{{ article.source_path.with_name("x.txt").write_text("x") }}',
    '{{ article.source_path.unlink() }}',
    '{{ article.source_path }}',
    '{{ article["source_path"] }}',
    '{{ article|attr("source_path") }}',
    '{{ [article]|map(attribute="source_path")|first }}',
    '{{ article.images[0].path.read_bytes() }}',
    '{{ article.model_dump() }}',
    '{{ article.model_dump_json() }}',
    '{{ article.model_copy(update={"title": "x"}) }}',
    '{{ article.model_validate({}) }}',
    '{{ article.model_fields }}',
    '{{ article.__class__ }}',
    '{{ article.__dict__ }}',
    '{{ article.__class__.__mro__[1].__subclasses__() }}',
    '{{ article.copy() }}',
    '{{ article.json() }}',
    '{{ article.tags.__len__() }}',
    '{{ "x".encode() }}',
    '{{ "x".__class__ }}',
    '{{ "{0.__class__}".format(article) }}',
    '{{ labels.pop("a") }}',
    '{{ labels.update({"a": 1}) }}',
    '{{ labels.setdefault("a", 1) }}',
    '{{ items.append(1) }}',
    '{{ items.clear() }}',
    '{{ when.astimezone() }}',
    '{{ when.replace(year=1) }}',
    '{{ fn.__globals__ }}',
    '{{ 2 ** 100000 }}',
    '{{ "x" * 100000000 }}',
    '{{ "%099999999d" % 1 }}',
    '{{ "{:>999999999}".format(1) }}',
    '{{ "x"|center(1000000000) }}',
    '{{ "%099999999d"|format(1) }}',
    '{% set s = "x" * 1000000 %}{% set ns = namespace(s=s) %}'
    '{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}',
    '{% set s = "x" * 1000000 %}{% set ns = namespace(s=s) %}'
    '{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}',
    '{% set s = "x" * 1000000 %}{{ s.replace("x", s)|length }}',
    '{% set s = "x" * 1000000 %}{{ s|replace("x", s)|length }}',
    '{% set s = "x" * 1000000 %}{{ s.join(range(100000)|map("string"))|length }}',
    '{% set s = "x" * 1000000 %}{{ ([s] * 100)|join(s)|length }}',
    '{% set s = "x" * 1000000 %}{{ ("{0}" * 100000).format(s)|length }}',
    '{% set s = "\n" * 1000000 %}{{ s|indent(9999)|length }}',
    '{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n > 1 }}',
    '{% set s = "a" * 10000 %}{{ s["replace"]("a", "a" * 2000)|length }}',
    '{% set s = "a" * 2000 %}{{ s["join"](["b"] * 10000)|length }}',
    '{{ "%(a)20000000s" % {"a": 1} }}',
    '{{ ("%9999s" * 2000) % ((1,) * 2000) }}',
    '{{ ("{0:9999}" * 2000).format(1) }}',
    '{{ "{0:{1}}".format(1, 999999999) }}',
    '{{ "%*d" % (999999999, 1) }}',
    '{{ lipsum(1000000000) }}',
    '{{ module.system("true") }}',
    '{{ handle.read() }}',
]


@pytest.mark.parametrize("source", CAPABILITIES)
def test_sandbox_refuses_capabilities(source, article, tmp_path):
    context = {"article": article, "labels": {"a": "b"}, "items": [1, 2], "when": dt.datetime(2024, 1, 2, 3, 4),
               "fn": render, "module": os}
    with open(tmp_path / "a.md", encoding="utf-8") as handle, pytest.raises(TemplateError):
        render(source, handle=handle, **context)
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "secret source"
    assert not (tmp_path / "x.txt").exists()


ALLOWED = {
    '{{ article.title.upper() }}|{{ article.lang.startswith(("zh", "ja")) }}': "TITLE|False",
    '{{ labels.page.format(page="A1") }}': "p. A1",
    '{% for k, v in labels.items() %}{{ k }}={{ v }};{% endfor %}{{ labels.get("x", "-") }}': "page=p. {page};-",
    '{{ when.strftime("%Y-%m-%d") }} {{ when.isoformat() }}': "2024-01-02 2024-01-02T03:04:00",
    '{{ article.images[0].name }} {{ article.images[0].width }} {{ article.tags|join(",") }}': "p.png 4 ",
    '{% for i in items %}{{ loop.cycle("a", "b") }}{{ loop.index }}{% endfor %}': "a1b2",
    '{{ "a-b".split("-")|join(" ") }} {{ " x ".strip() }} {{ "x" * 3 }} {{ 2 ** 10 }}': "a b x xxx 1024",
    '{% set ns = namespace(n=0) %}{% for i in items %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}': "3",
}


@pytest.mark.parametrize("source", ALLOWED)
def test_sandbox_allows_values_and_pure_methods(source, article):
    context = {"article": article, "labels": {"page": "p. {page}"}, "items": [1, 2],
               "when": dt.datetime(2024, 1, 2, 3, 4)}
    assert render(source, **context) == ALLOWED[source]


def test_macros_blocks_and_super_still_work():
    env = sandbox({
        "macros.html": "{% macro hello(name) %}Hello {{ name }}{% endmacro %}",
        "base.html": "{% block body %}base{% endblock %}|{{ self.body() }}",
        "child.html": '{% extends "base.html" %}{% import "macros.html" as m %}'
                      "{% block body %}{{ super() }}+{{ m.hello('you') }}{% endblock %}",
    })
    assert env.get_template("child.html").render() == "base+Hello you|base+Hello you"


def test_shipped_templates_render_in_the_sandbox():
    env = make_environment(find_theme("newspaper"))
    assert isinstance(env, ThemeSandbox)
    for name in ("epub/article.xhtml", "epub/section.xhtml", "epub/nav.xhtml", "epub/cover.xhtml",
                 "pdf/edition.html", "base/blocks.html"):
        env.get_template(name)  # parses; rendering is covered by the example builds


def test_loader_refuses_names_outside_and_links_out(tmp_path):
    theme = tmp_path / "theme"
    (theme / "epub").mkdir(parents=True)
    (theme / "epub" / "ok.xhtml").write_text("ok", encoding="utf-8")
    (theme / "epub" / "inside.xhtml").symlink_to(theme / "epub" / "ok.xhtml")
    (tmp_path / "secret.txt").write_text("CANARY", encoding="utf-8")
    (theme / "epub" / "out.xhtml").symlink_to(tmp_path / "secret.txt")
    env = ThemeSandbox(loader=ThemeLoader([theme]))
    assert env.get_template("epub/ok.xhtml").render() == "ok"
    assert env.get_template("epub/inside.xhtml").render() == "ok"  # a link that stays inside is followed
    with pytest.raises(OutsideRoot, match="leads outside"):
        env.get_template("epub/out.xhtml")
    for name in ("/etc/passwd", "../secret.txt", "epub/../../secret.txt", "epub//ok.xhtml", "C:/x", "a\\b"):
        with pytest.raises(TemplateError):
            env.get_template(name)


def test_stylesheet_read_through_the_door(tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.css").symlink_to("/etc/passwd")
    with pytest.raises(OutsideRoot, match="theme stylesheet leads outside"):
        Theme(name="theme", folders=(theme,)).read_style("theme.css")
    path, css = Theme(name="theme", folders=(theme,)).read_style("base.css")
    assert path == data_dir("styles") / "base.css" and css


REFUSED_CSS = {
    "@import url(x.css);": "@import",
    "@\\69mport url(x.css);": "@import",
    "@IMPORT 'x.css';": "@import",
    "@media print { @import 'x.css'; }": "@import",
    'body { background: url("\\66ile:///etc/passwd"); }': "scheme",
    "body { background: url(\\66ile:///etc/passwd); }": "scheme",
    "body { background: url(file:///etc/passwd); }": "scheme",
    "body { background: url(https://example.org/x.png); }": "scheme",
    "body { background: url(//example.org/x.png); }": "absolute",
    "body { background: url(/etc/passwd); }": "absolute",
    "body { background: url(../../x.png); }": "outside",
    "body { background: url(%2e%2e/%2e%2e/x.png); }": "outside",
    "body { background: url(%2F%2Fexample.org/x); }": "absolute",
    'h1 { background-image: image-set("file:///etc/passwd" 1x); }': "scheme",
    'h1 { background-image: -webkit-image-set(url(http://x/y.png) 1x); }': "scheme",
    'h1 { background-image: image("http://x/y.png"); }': "scheme",
    'h1 { background-image: cross-fade(url(a.png), url("ftp://x/y")); }': "scheme",
    '@font-face { font-family: X; src: url("http://x/f.woff"); }': "scheme",
    '@media screen { @supports (display: grid) { h1 { background: url(file:x) } } }': "scheme",
    "h1 { background: url(data:text/html,<script>x</script>); }": "scheme",
    "h1 { background: url(data:image/svg+xml,<svg/>); }": "scheme",
    "h1 { background: url(x y); }": "malformed",
    "h1 { background: url(a\\\\b.png); }": "backslash",
    "h1 { background-image: attr(data-src url); }": "attr()",
}


@pytest.mark.parametrize("css", REFUSED_CSS)
def test_stylesheet_check_refuses(css):
    fault = css_fault(css)
    assert fault is not None and REFUSED_CSS[css] in fault, fault


ALLOWED_CSS = [
    "h1 { color: red; content: 'file:///etc/passwd is only text'; }",
    "h1 { background: url(../images/x.png); }",
    "h1 { background: url('pictures/x.png#frag'); }",
    "h1 { fill: url(#gradient); }",
    "@namespace svg url(http://www.w3.org/2000/svg);",
    '@namespace svg url("http://www.w3.org/2000/svg");',
    "@font-face { font-family: X; src: local('Noto Serif'), url(../fonts/x.otf) format('opentype'); }",
    "h1 { background: url(data:image/png;base64,iVBORw0KGgo=); }",
    "@page { @top-center { content: element(header); } }",
]


@pytest.mark.parametrize("css", ALLOWED_CSS)
def test_stylesheet_check_allows(css):
    assert css_fault(css) is None


def test_shipped_and_generated_stylesheets_pass():
    for folder in (data_dir("styles"), data_dir("templates") / "themes"):
        for path in folder.rglob("*.css"):
            assert css_fault(path.read_text(encoding="utf-8")) is None, path
    assert css_fault(page_css(PdfConfig(bleed="3mm", marks=["crop"], variant="pdf/x-4"), DEFAULT_PAGE)) is None
    face = '@font-face { font-family: "bs-Noto"; src: url("../fonts/noto.otf") format("opentype"); }'
    assert css_fault(face) is None


def test_render_is_bounded_in_time(monkeypatch):
    previous_limits = limits.current()
    limits.use(previous_limits.lowered(template_seconds=1))
    before = signal.getsignal(signal.SIGALRM)
    env = sandbox({"loop": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"})
    started = time.monotonic()
    try:
        with pytest.raises(RenderError, match="longer than 1 s"):
            _render(env, "loop", {})
    finally:
        limits.use(previous_limits)
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_render_is_bounded_even_when_the_timer_fires_while_jinja_folds_constants():
    """Jinja folds constant expressions at compile time inside ``except Exception``: a timer that fires
    there must not be swallowed, leaving a loop that prints nothing to run on."""
    script = """
import sys
from broadsheet import limits
from broadsheet.errors import RenderError
from broadsheet.render import _render
from broadsheet.render.environment import ThemeSandbox
from jinja2 import DictLoader, StrictUndefined
limits.use(limits.current().lowered(template_seconds=0.2))
slow = "{% set x = '" + "a b " * 300000 + "' | wordwrap(7) %}"
loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
env = ThemeSandbox(loader=DictLoader({"t": slow + loop}), autoescape=True, undefined=StrictUndefined)
try:
    _render(env, "t", {})
except RenderError as exc:
    print(exc)
"""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "longer than 0.2 s" in result.stdout, result.stdout + result.stderr


def test_render_keeps_an_enclosing_timer():
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    try:
        signal.setitimer(signal.ITIMER_REAL, 100)
        _render(sandbox({"t": "x"}), "t", {})
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def test_render_is_bounded_in_size(monkeypatch):
    import broadsheet.render as render_module

    monkeypatch.setattr(render_module, "MAX_DOCUMENT_CHARS", 10_000)
    env = sandbox({"flood": '{% for i in range(100000) %}{{ "x" * 100 }}{% endfor %}'})
    with pytest.raises(RenderError, match="characters of text"):
        _render(env, "flood", {})


@pytest.mark.parametrize("source, fault", [
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
    ("{{ nothing.here }}", "template error"),
])
def test_render_faults_are_named(source, fault):
    with pytest.raises(RenderError, match=fault) as info:
        _render(sandbox({"t": source}), "t", {})
    assert "\n" not in str(info.value)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_inherit_is_confined(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "themes/shared/theme.css", "h1 { color: red; }")
    write(tmp_path / "themes/mine/theme.toml", 'inherit = "../shared"\n')
    assert [f.name for f in find_theme(str(tmp_path / "themes/mine")).folders] == ["mine", "shared"]
    for inherit in ("/", "../../..", "..", ".", "/etc"):
        write(tmp_path / "themes/bad/theme.toml", f'inherit = "{inherit}"\n')
        with pytest.raises(ConfigError, match="lies outside|loops|not a theme folder"):
            find_theme(str(tmp_path / "themes/bad"))
    write(tmp_path / "config/broadsheet/themes/house/theme.css", "h1 { color: blue; }")
    write(tmp_path / "themes/bad/theme.toml", 'inherit = "house"\n')
    assert find_theme(str(tmp_path / "themes/bad")).folders[-1].name == "house"


def test_a_sources_own_theme_stays_inside_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    pub = tmp_path / "pub"
    write(pub / "look/theme.css", "h1 { color: red; }")
    write(tmp_path / "elsewhere/theme.css", "h1 { color: red; }")
    assert find_theme("look", pub, confine=pub).folders[0].name == "look"
    assert find_theme("newspaper", pub, confine=pub).folders[0].name == "newspaper"
    for spec in ("/", "..", "../elsewhere", str(tmp_path / "elsewhere"), ".", "/proc"):
        with pytest.raises(BroadsheetError, match="lies outside"):
            find_theme(spec, pub, confine=pub)
    os.symlink(tmp_path / "elsewhere", pub / "linked")
    with pytest.raises(ConfigError, match="lies outside"):
        find_theme("linked", pub, confine=pub)


def test_theme_option_must_be_a_theme_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a theme folder"):
        find_theme("/")
    with pytest.raises(ConfigError, match="not a theme folder"):
        find_theme(str(tmp_path))


def test_a_theme_folder_with_a_link_out_is_refused(tmp_path):
    theme = write(tmp_path / "theme/theme.css", "h1 { color: red; }").parent
    (theme / "fonts").mkdir()
    (theme / "fonts" / "inside.css").symlink_to(theme / "theme.css")
    assert find_theme(str(theme)).folders == (theme.resolve(),)
    (tmp_path / "outside").mkdir()
    (theme / "fonts" / "kcore").symlink_to("/proc/kcore")
    with pytest.raises(OutsideRoot, match="kcore: theme file leads outside its folder"):
        find_theme(str(theme))
    (theme / "fonts" / "kcore").unlink()
    (theme / "pdf").symlink_to(tmp_path / "outside")
    with pytest.raises(OutsideRoot, match="pdf: theme file leads outside"):
        find_theme(str(theme))


def test_render_off_the_main_thread_is_bounded_by_its_output():
    import threading

    previous_limits = limits.current()
    limits.use(previous_limits.lowered(template_seconds=1))
    env = sandbox({"loop": "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}"})
    failures = []

    def run() -> None:
        try:
            _render(env, "loop", {})
        except RenderError as exc:
            failures.append(str(exc))

    started = time.monotonic()
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(30)
    finally:
        limits.use(previous_limits)
    assert failures and "longer than 1 s" in failures[0]
    assert time.monotonic() - started < 10


def test_the_sandbox_s_kept_answers_are_its_answers():
    """Each attribute of each kind of value a template may meet, asked twice (the second answer kept): the same
    as a sandbox that keeps nothing; and no more answers are kept than the bound, however many names are made."""
    import io
    import types

    from jinja2.runtime import LoopContext

    from broadsheet.render import environment

    article = Article(id="a", title="T", lang="en", blocks=())
    values = [article, "text", b"bytes", [1], (1,), {"k": 1}, dt.date(2024, 5, 1), Path("/etc"), io.BytesIO(),
              os, types, len, lambda: 1, article.model_copy, "text".upper, Article, 3, 1.5, None]
    names = ["title", "upper", "replace", "format", "mro", "model_copy", "items", "pop", "append",
             "isoformat", "read", "name", "path", "open", "system", "__class__", "_private", "gi_frame", "model_construct",
             "func_globals", "im_func", "f_locals", "keys", "count", "strftime", "blocks", "model_dump", "model_config"]
    keeping = ThemeSandbox()
    asked = 0
    for obj in values:
        for name in names:
            try:
                value = getattr(obj, name)
            except AttributeError:
                continue
            fresh = ThemeSandbox()._is_safe_attribute(obj, name, value)
            assert keeping.is_safe_attribute(obj, name, value) == fresh, (obj, name)
            assert keeping.is_safe_attribute(obj, name, value) == fresh, (obj, name)  # the kept answer
            asked += 1
    assert asked > 40 and len(keeping._safe) <= asked
    assert not keeping.is_safe_attribute(Path("/etc"), "name", "etc")  # a path's parts: refused, and kept so
    assert not keeping.is_safe_attribute(Path("/home"), "name", "home")
    assert keeping.is_safe_attribute("text", "upper", "text".upper)
    # one kind of object, one name, values of two kinds: a value read, a function refused
    plain, calling = types.SimpleNamespace(a=1), types.SimpleNamespace(a=len)
    assert keeping.is_safe_attribute(plain, "a", 1) and not keeping.is_safe_attribute(calling, "a", len)
    for n in range(environment.SAFE_ANSWERS + 100):
        keeping.is_safe_attribute(article, f"name{n}", None)
    assert len(keeping._safe) == environment.SAFE_ANSWERS
