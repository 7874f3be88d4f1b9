"""YAML as the import commands read it: a key written twice in one mapping is an error.

Plain YAML keeps the last of two equal keys, so a second `modules:` or `choices:` written lower
in a file silently drops the first; the importers refuse it instead, naming the key and line.
"""

from __future__ import annotations

from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key written twice in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                twice = key in seen
                seen.add(key)
            except TypeError:  # not a key at all: the base class says so
                continue
            if twice:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is written twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


class UniqueKeyYAMLHandler(YAMLHandler):
    """Front matter read with `UniqueKeyLoader` (python-frontmatter's handler, stricter)."""

    def load(self, fm: str, **kwargs: object) -> Any:
        """Parse the front matter, refusing a key written twice."""
        kwargs.setdefault("Loader", UniqueKeyLoader)
        return super().load(fm, **kwargs)
