"""Model cards for the files deployment makes (ONNX exports, pruned checkpoints).

A card is JSON beside the file (`model.onnx` -> `model.card.json`, as the committed models'
cards): what the model is and was trained on, its measured test accuracy, the file's size
and digest, and how the file was made from which checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def source_card(path: Path, config: dict) -> dict:
    """What is known of a checkpoint: its own card (committed models), the run's result.json
    (`rosenblatt train`), a pruning record, and its config."""
    card: dict[str, Any] = {}
    for candidate in (path.with_suffix(".json"), path.with_suffix(".card.json")):
        if candidate.is_file() and candidate != path:
            card = json.loads(candidate.read_text())
            break
    result = path.parent / "result.json"
    if "test_accuracy" not in card and result.is_file():
        card["test_accuracy"] = json.loads(result.read_text()).get("test_accuracy")
    points = config.get("pruning", {}).get("points")
    if points:
        card["test_accuracy"] = points[-1]["accuracy"]
    spec = config.get("model")
    card.setdefault("architecture", spec if isinstance(spec, str) else (spec or {}).get("name"))
    card.setdefault("trained_on", config.get("dataset"))
    for key in ("input_shape", "classes", "settings"):
        if key in config:
            card.setdefault(key, config[key])
    return card


SOURCE_MEASURED = ("test_accuracy", "per_class_accuracy", "most_confused")


def write_card(file: Path, source: Path, config: dict, made: dict,
               test_accuracy: float | None = None) -> Path:
    """Write `file`'s card beside it: the source's card plus the file's size, digest and how
    it was made (`made`); `test_accuracy`, when given, is the file's own (measured on it),
    and what was measured on the source moves to `source_measured`."""
    data = file.read_bytes()
    card = source_card(source, config)
    if test_accuracy is not None:  # the source's measurements describe the source only
        card["source_measured"] = {k: card.pop(k) for k in SOURCE_MEASURED if k in card}
        card["test_accuracy"] = test_accuracy
    earlier = card.pop("made", None)  # the source was itself made (pruned): keep the chain
    card.pop("version", None)
    card.update({"file": file.name, "bytes": len(data),
                 "sha256": hashlib.sha256(data).hexdigest(), "source": str(source),
                 "made": {**made, "from": earlier} if earlier else made})
    out = file.with_suffix(".card.json")
    out.write_text(json.dumps(card, indent=1, default=str) + "\n")
    return out
