"""Text as XML 1.0 can hold it: the Atom feed and CE Broker's rosters are XML documents."""

from __future__ import annotations

import re

# The characters XML 1.0 cannot hold (control characters but tab and line breaks, surrogates,
# U+FFFE and U+FFFF): not even escaped, so one of them makes the whole document unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """The text without the characters an XML 1.0 document cannot hold."""
    return _NOT_XML.sub("", value)
