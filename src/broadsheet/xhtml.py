"""The one safe XML parser: no entities resolved, no DTD loaded, nothing fetched.

Every XHTML document broadsheet makes or reads back (rendered pages, converted fragments, device
profiles' rewrites) is parsed here; ``remove_keep_tail`` takes an element out of any tree without
losing the text after it.  A leaf: imports only lxml.
"""

from __future__ import annotations

from lxml import etree

_OPTIONS = dict(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
#: for documents broadsheet rendered itself
PARSER = etree.XMLParser(**_OPTIONS)
#: the same, for fragments as long and deep as a source may make them (a converted article)
HUGE_PARSER = etree.XMLParser(**_OPTIONS, remove_blank_text=False, huge_tree=True)


def parse(content: bytes | str, *, huge: bool = False) -> etree._Element:
    """Parse well-formed XML (raise ``etree.XMLSyntaxError`` otherwise)."""
    return etree.fromstring(content, HUGE_PARSER if huge else PARSER)


def remove_keep_tail(el: etree._Element) -> None:
    """Remove ``el`` from its parent, keeping its tail text."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
