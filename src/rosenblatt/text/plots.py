"""Attention maps: each head's weights of a trained GPT over a text, as one PNG grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .tokenizer import CharTokenizer


def plot_attention(model: Any, tokenizer: CharTokenizer, text: str, path: str | Path,
                   layers: list[int] | None = None) -> Path:
    """Save a grid (rows: layers, columns: heads) of attention weights over `text`.

    Cell (i, j) of a map is how much position i (query) attends to position j (key);
    the characters label both axes. Only the last block_size characters are shown.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = tokenizer.encode(text)[-model.block_size :]
    chars = [repr(c)[1:-1] for c in tokenizer.decode(ids)]
    maps = model.attention_maps(ids)
    rows = list(range(len(maps))) if layers is None else list(layers)
    heads = maps[0].shape[0]
    size = max(2.5, 0.12 * len(ids))
    fig, axes = plt.subplots(len(rows), heads, figsize=(size * heads, size * len(rows)),
                             squeeze=False)
    labelled = len(ids) <= 64
    for r, layer in enumerate(rows):
        for h in range(heads):
            ax = axes[r][h]
            ax.imshow(maps[layer][h], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer} head {h}", fontsize=9)
            # characters on the outer axes only: tick labels are most of the drawing time
            ax.set_xticks(range(len(ids)) if labelled and r == len(rows) - 1 else [])
            ax.set_yticks(range(len(ids)) if labelled and h == 0 else [])
            if labelled and r == len(rows) - 1:
                ax.set_xticklabels(chars, fontsize=6)
            if labelled and h == 0:
                ax.set_yticklabels(chars, fontsize=6)
    fig.suptitle(f"attention over {text[-40:]!r} (row: query, column: key)", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.06, top=0.9, wspace=0.15, hspace=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
