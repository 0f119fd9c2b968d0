"""Inter-character justification of CJK lines for WeasyPrint.

WeasyPrint justifies a line by widening its spaces only (``layout.inline.justify_line``),
so Chinese and Japanese text, which has no spaces, stays ragged under
``text-align: justify``.  This module replaces that step: on a line holding CJK text the
extra width is shared between the CJK characters (and spaces) as Pango letter spacing,
as CSS Text 3 ``text-justify: auto`` does for CJK; other lines keep WeasyPrint's own
inter-word justification.  Written against WeasyPrint 70 (pinned in pyproject.toml);
``tests/test_pdf_typography.py`` measures the right edges of justified lines.
"""

from __future__ import annotations

import re

_CJK = re.compile(
    "[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]"
)
#: A run of characters a CJK line may stretch after: spaces and CJK characters.
_OPPORTUNITIES = re.compile("[ \u00a0" + _CJK.pattern[1:] + "+")
_installed = False


def _opportunity(char: str) -> bool:
    return char in " \u00a0" or bool(_CJK.match(char))


def install() -> None:
    """Patch WeasyPrint once, in this process."""
    global _installed
    if _installed:
        return
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline
    from weasyprint.text import line_break
    from weasyprint.text.ffi import TO_UNITS, ffi, pango

    original_justify = inline.justify_line
    original_set_text = line_break.Layout.set_text

    def set_text(self, text, justify=False):
        original_set_text(self, text, justify)
        spacing = getattr(self, "cjk_spacing", 0)
        if not (justify and spacing and self.text):
            return
        base = self.style["letter_spacing"]
        base = 0 if base == "normal" else base
        units = int((spacing + base) * TO_UNITS)
        attr_list = pango.pango_layout_get_attributes(self.layout)
        if attr_list == ffi.NULL:
            attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
        text = self.text
        stop = len(text) if getattr(self, "cjk_trailing", False) else len(text) - 1
        offset, done = 0, 0  # byte offset of text[done]
        for run in _OPPORTUNITIES.finditer(text, 0, stop):
            start, end = run.span()
            offset += len(text[done:start].encode("utf-8"))
            size = len(text[start:end].encode("utf-8"))
            attr = pango.pango_attr_letter_spacing_new(units)
            attr.start_index, attr.end_index = offset, offset + size
            pango.pango_attr_list_insert(attr_list, attr)
            offset, done = offset + size, end
        pango.pango_layout_set_attributes(self.layout, attr_list)

    def text_boxes(box, found):
        if isinstance(box, boxes.TextBox):
            found.append(box)
        elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            for child in box.children:
                if child.is_in_normal_flow():
                    text_boxes(child, found)
        return found

    def measure(box, context, spacing, trailing):
        layout = line_break.create_layout(box.text, box.style, context, max_width=None,
                                          justification_spacing=0)
        layout.cjk_spacing = spacing
        layout.cjk_trailing = trailing
        layout.set_text(box.text, justify=True)
        first_line, _ = layout.get_first_line()
        width, _ = line_break.line_size(first_line, box.style)
        return layout, width

    def shift(box, context, widths, x_advance):
        if isinstance(box, boxes.TextBox):
            box.position_x += x_advance
            if box in widths:
                layout, width = widths[box]
                x_advance += width - box.width
                box.width = width
                box.pango_layout = layout
                layout.deactivate()
        elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            box.position_x += x_advance
            before = x_advance
            for child in box.children:
                if child.is_in_normal_flow():
                    x_advance = shift(child, context, widths, x_advance)
            box.width += x_advance - before
        else:
            box.translate(x_advance, 0)
        return x_advance

    def justify_line(context, line, extra_width):
        found = text_boxes(line, [])
        if extra_width <= 0 or not any(_CJK.search(b.text) for b in found):
            return original_justify(context, line, extra_width)
        count = sum(sum(map(_opportunity, b.text[:-1])) for b in found)
        # a box that does not end the line may also stretch after its last character
        count += sum(_opportunity(b.text[-1]) for b in found[:-1] if b.text)
        if count == 0:
            return original_justify(context, line, extra_width)
        spacing = extra_width / count
        for _ in range(2):  # measure, then correct once for Pango's rounding at run edges
            widths = {b: measure(b, context, spacing, b is not found[-1]) for b in found}
            gained = sum(width - b.width for b, (_, width) in widths.items())
            if gained <= 0 or abs(gained - extra_width) < 0.05:
                break
            spacing *= extra_width / gained
        shift(line, context, widths, 0)

    inline.justify_line = justify_line
    line_break.Layout.set_text = set_text
    _installed = True
