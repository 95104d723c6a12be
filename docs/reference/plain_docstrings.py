"""A griffe extension: Rosenblatt's docstrings are plain text, not Markdown, so the characters
Markdown would read as markup outside backticks (`*` in shapes like `(*, in_features)`, `[i][j]`
as a link reference, `<` as HTML) are escaped before mkdocstrings renders them. Doctest lines
(`>>>`, `...`) are left alone."""

from __future__ import annotations

import re
from typing import Any

import griffe

_CODE = re.compile(r"(`+)(.+?)\1")  # inline code spans are kept as written
_MARKUP = str.maketrans({"*": r"\*", "[": r"\[", "]": r"\]", "<": "&lt;"})


def plain(text: str) -> str:
    """Escape Markdown markup outside inline code, line by line, sparing doctest lines."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith((">>>", "...")):
            lines.append(line)
            continue
        parts, last = [], 0
        for code in _CODE.finditer(line):
            parts.append(line[last:code.start()].translate(_MARKUP))
            parts.append(code.group(0))
            last = code.end()
        parts.append(line[last:].translate(_MARKUP))
        lines.append("".join(parts))
    return "\n".join(lines)


class PlainDocstrings(griffe.Extension):
    """Escape every object's docstring as it is loaded."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
