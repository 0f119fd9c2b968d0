"""The contents laid out before their page numbers are known, the numbers written in after.

The contents are laid out in their own process at the same time as the sections, with a
placeholder (``parts.PLACEHOLDER``) where each entry's page number goes.  Their page count
is then known at once, and with it every section's first page.  Once the sections have said
on which pages their anchors fall, :func:`fill_in` writes the numbers into the laid-out
boxes before WeasyPrint draws them: each number replaces its placeholder at the right end of
its line and the entry's leader is lengthened or shortened to meet it, as WeasyPrint's own
``layout.leader`` would have placed its dots.

That is what a layout with the true numbers gives only when the number's width cannot have
changed how the entry breaks into lines: an entry on one line whose leader still has room
for a dot.  Any other entry (a title that wraps, a theme whose numbers are drawn another
way, a link the sections do not hold) makes :func:`fill_in` answer False, and the contents
are laid out again with their numbers written in (``scheduler``).  Written against
WeasyPrint 70 (pinned in pyproject.toml); ``tests/test_contents.py`` reads the numbers back.
"""

from __future__ import annotations

import logging

log = logging.getLogger("broadsheet")


def fill_in(document, pages: dict[str, int], placeholder: str) -> bool:
    """Write each entry's page (``pages``: anchor name → page) over its placeholder in the
    laid-out ``document``; return False, changing nothing, when a new layout is needed."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.inline import split_text_box

    from . import leaders

    context = leaders.last_context
    entries = []  # (line, the entry's ::after box, its leader box, its number box, the number's new text)
    lines_of: dict[object, int] = {}  # how many lines each link's text spans
    for page in document.pages:
        for line in _line_boxes(page._page_box, boxes):
            links = set()
            for box in _descendants(line):
                if box.element_tag == "a":
                    links.add(box.element)
                elif (box.element_tag == "a::after" and isinstance(box, boxes.InlineBox)
                      and not box.is_leader):  # the leader's box is the pseudo-element's too
                    entry = _entry(box, pages, placeholder, boxes)
                    if entry is False:
                        log.debug("contents: %s has no number to fill in", box.element.get("href"))
                        return False
                    if entry is not None:
                        entries.append((line, box, *entry))
            for link in links:
                lines_of[link] = lines_of.get(link, 0) + 1
    if context is None:
        return not entries
    plans = []
    for line, after, leader, number, text in entries:
        if lines_of.get(number.element, 0) != 1 or line.style["direction"] != "ltr":
            log.debug("contents: the entry for %s spans lines", number.element.get("href"))
            return False
        new, _, _ = split_text_box(context, number.copy_with_text(text), float("inf"), 0)
        unit = getattr(leader, "leader_unit", None)
        if new is None or unit is None:
            log.debug("contents: the number of %s cannot be set", number.element.get("href"))
            return False
        available = leader.width + number.width - new.width
        dots = _dots(line, leader, unit, available)
        if not dots:
            log.debug("contents: no room for the number of %s", number.element.get("href"))
            return False
        plans.append((after, leader, number, new, available, dots, unit))
    for after, leader, number, new, available, (first, count), unit in plans:
        new.position_x = number.position_x + number.width - new.width
        new.position_y = number.position_y
        merged, _, _ = split_text_box(context, unit.copy_with_text(unit.text * count), float("inf"), 0)
        merged.position_x, merged.position_y = first, unit.position_y
        leader.children = (merged,)
        leader.width = available
        after.children = tuple(new if child is number else child for child in after.children)
    return True


def _entry(after, pages: dict[str, int], placeholder: str, boxes):
    """The leader and number boxes of one entry's ``::after``, and the number's new text;
    None for a box that holds no placeholder, False for one that cannot be filled in."""
    element = after.element
    if element.get("data-page") != placeholder:
        return None
    href = element.get("href", "")
    page = pages.get(href[1:]) if href.startswith("#") else None
    leader = next((child for child in after.children if getattr(child, "is_leader", False)), None)
    numbers = [child for child in after.children
               if isinstance(child, boxes.TextBox) and placeholder in child.text]
    if page is None or leader is None or len(numbers) != 1 or after.children.index(numbers[0]) < after.children.index(leader):
        return False
    return leader, numbers[0], numbers[0].text.replace(placeholder, str(page), 1)


def _dots(line, leader, unit, available: float) -> tuple[float, int] | None:
    """Where the leader's first dot goes and how many there are, as ``layout.leader`` places
    them (from the line's end leftwards) in ``available`` width; None if none fits."""
    width = unit.width
    if width <= 0 or available < width:
        return None
    position = line.position_x + line.width
    kept = []
    for _ in range(int(line.width // width)):
        position -= width
        if position < leader.position_x or position + width > leader.position_x + available:
            continue
        kept.append(position)
    return (min(kept), len(kept)) if kept else None


def _line_boxes(box, boxes):
    stack = [box]
    while stack:
        box = stack.pop()
        if isinstance(box, boxes.LineBox):
            yield box
        else:
            stack.extend(getattr(box, "children", ()))


def _descendants(box):
    stack = list(getattr(box, "children", ()))
    while stack:
        box = stack.pop()
        yield box
        stack.extend(getattr(box, "children", ()))
