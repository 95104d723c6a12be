"""`CharTokenizer`: one token per character, vocabulary taken from a corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable


class CharTokenizer:
    """Maps each distinct character of a corpus to an id (sorted by code point).

    `encode("abc") -> [ids]`, `decode(ids) -> "abc"`. Characters outside the vocabulary
    raise a KeyError naming them, unless `unknown` names a vocabulary character to use
    in their place. Saved as JSON next to (or inside) a model checkpoint.
    """

    def __init__(self, chars: Iterable[str], unknown: str | None = None) -> None:
        self.chars = sorted(set(chars))
        if not self.chars:
            raise ValueError("CharTokenizer: the vocabulary is empty")
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        if unknown is not None and unknown not in self.stoi:
            raise ValueError(f"CharTokenizer: unknown character {unknown!r} not in vocabulary")
        self.unknown = unknown

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The vocabulary of every character appearing in `text`."""
        return cls(text)

    @property
    def vocab_size(self) -> int:
        """Number of distinct characters."""
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Text -> list of ids."""
        try:
            return [self.stoi[c] for c in text]
        except KeyError:
            if self.unknown is None:
                missing = sorted({c for c in text if c not in self.stoi})
                raise KeyError(f"CharTokenizer: characters not in the vocabulary: "
                               f"{''.join(missing)!r}") from None
            fallback = self.stoi[self.unknown]
            return [self.stoi.get(c, fallback) for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Ids (ints or a 1-D tensor) -> text."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        """The vocabulary as a JSON string."""
        return json.dumps({"type": "char", "chars": "".join(self.chars),
                           "unknown": self.unknown})

    @classmethod
    def from_json(cls, text: str) -> CharTokenizer:
        """Rebuild from `to_json()`."""
        data = json.loads(text)
        if data.get("type") != "char":
            raise ValueError(f"CharTokenizer.from_json: not a char tokenizer ({data.get('type')})")
        return cls(data["chars"], data.get("unknown"))

    def save(self, path: str | Path) -> None:
        """Write the JSON vocabulary to `path`."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        """Read a vocabulary written by `save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.chars == other.chars \
            and self.unknown == other.unknown

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
