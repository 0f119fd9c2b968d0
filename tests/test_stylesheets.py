"""A layout process parses each stylesheet once (``backends/pdf/stylesheets.py``): a document laid out with
a stylesheet kept from an earlier document gets the styles, the pages and the bytes of one parsed for it;
a stylesheet that adds fonts or counter styles to its document is parsed for each document."""

from __future__ import annotations

import subprocess
import sys

_PROBE = r"""
import io, sys
import weasyprint
from weasyprint import css as css_module
from broadsheet.backends.pdf import stylesheets
from broadsheet.backends.pdf.fetcher import BASE_URL, asset_fetcher

CSS = sys.argv[1]
HTML = ('<html><head><link rel="stylesheet" href="styles/print.css"/><style>p.x { color: red }</style></head>'
        '<body><h1 id="t">Title</h1><p class="x">One</p><p>Two</p><p style="page-break-before: always">Three</p>'
        '<ol><li>a</li><li>b</li></ol></body></html>')

def pdf(html, css):
    assets = {"styles/print.css": (css.encode(), None, "text/css", None)}
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=asset_fetcher(assets, False)).render()
    return document.write_pdf(pdf_identifier=False, custom_metadata=False), len(document.pages)

parsed = []
original = css_module.CSS
def counting(*args, **kwargs):
    parsed.append(1)
    return original(*args, **kwargs)
css_module.CSS = counting  # counts the parses under the memo installed over it

fresh = [pdf(HTML, CSS) for _ in range(2)]  # each parsed for its document
fresh_parses = len(parsed)
stylesheets.install()
del parsed[:]
kept = [pdf(HTML, CSS) for _ in range(3)]
other = pdf(HTML, CSS + "\np { margin: 0 }")
print(fresh_parses, len(parsed), all(k == fresh[0] for k in kept), fresh[0] == fresh[1], other != kept[0],
      kept[0][1])
"""

_PAGES = ("@page { size: 120mm 90mm; margin: 10mm; @top-center { content: string(title) } "
          "@bottom-right { content: counter(page) } }\n@page :first { @top-center { content: none } }\n"
          "h1 { string-set: title content(); color: #123456 } p { font-size: 14pt } li { margin-left: 2em }")


def _run(css: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", _PROBE, css], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_kept_stylesheet_gives_the_bytes_of_one_parsed_for_the_document():
    fresh_parses, kept_parses, same, fresh_same, other_differs, pages = _run(_PAGES)
    assert fresh_parses == "4"  # the <link> and the <style>, for each of two documents
    assert kept_parses == "3"  # both parsed for the first document, then kept; the changed <link> anew
    assert same == "True" and fresh_same == "True" and other_differs == "True"
    assert pages == "2"  # the @page rules of the kept stylesheet hold in every document


def test_a_stylesheet_that_adds_counter_styles_is_parsed_for_each_document():
    css = _PAGES + "\n@counter-style thumbs { system: cyclic; symbols: '*'; suffix: ' ' } ol { list-style: thumbs }"
    fresh_parses, kept_parses, same, *_ = _run(css)
    # the <style> is kept (it adds nothing), the <link> parsed for each of the four documents
    assert kept_parses == str(1 + 4) and same == "True"
