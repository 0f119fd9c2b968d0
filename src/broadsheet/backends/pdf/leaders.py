"""Leaders (``content: leader(". ")``, the dotted lines of the contents) drawn as one text box.

WeasyPrint fills a leader with one copy of its text box per repetition (``layout.leader``):
a contents entry's row of dots is some seventy boxes, each laid out, kept and drawn on its
own, which made drawing the dots most of the cost of the contents.  This module lets
WeasyPrint place the copies as it does, then puts one text box in their place that holds the
leader's text repeated as many times, from the leftmost copy: the same glyphs at the same
advances, one run of text per entry.  Written against WeasyPrint 70 (pinned in
pyproject.toml); ``tests/test_pdf_typography.py`` counts the runs of text of a contents page.

Each leader box keeps one copy (``leader_unit``) and the layout keeps its context
(``last_context``), for ``contents.fill_in``, which lengthens a leader after layout.
"""

from __future__ import annotations

_installed = False
#: the layout context of the last leader laid out in this process
last_context = None


def install() -> None:
    """Patch WeasyPrint once, in this process."""
    global _installed
    if _installed:
        return
    from weasyprint.layout import inline

    original = inline.handle_leader

    def handle_leader(context, line, containing_block):
        global last_context
        last_context = context
        original(context, line, containing_block)
        _merge(context, line)

    inline.handle_leader = handle_leader
    _installed = True


def _merge(context, line) -> None:
    """Replace the copies in ``line``'s leader box by one text box of the repeated text."""
    from weasyprint.layout import inline
    from weasyprint.layout.leader import leader_index

    _, leader_box = leader_index(line)
    if leader_box is None or not leader_box.children:
        return
    copies = leader_box.children
    first = min(copies, key=lambda box: box.position_x)
    leader_box.leader_unit = first
    if len(copies) < 2:
        return
    merged, _, _ = inline.split_text_box(context, first.copy_with_text(first.text * len(copies)),
                                         float("inf"), 0)
    if merged is None:
        return
    merged.position_x, merged.position_y = first.position_x, first.position_y
    leader_box.children = (merged,)
