"""The one safe XML parser: no entities resolved, no DTD loaded, nothing fetched.

Every XHTML document broadsheet makes or reads back (rendered pages, converted fragments, device
profiles' rewrites) is parsed here.  A leaf: imports only lxml.
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
