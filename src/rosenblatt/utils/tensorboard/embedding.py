"""`add_embedding`: files for TensorBoard's Projector (points in 2-D/3-D by PCA, t-SNE, UMAP).

Each call writes `<step>/<tag>/tensors.tsv` (one row per point), optionally `metadata.tsv`
(labels) and `sprite.png` (each point's image, in a square grid), and rewrites
`projector_config.pbtxt` in the log folder listing every embedding added so far.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from .summary import encode_png, make_grid, np, to_numpy


def _sprite(images: Any) -> tuple[Any, list[int]]:
    """(N, C, H, W) images -> a square RGB grid of nrow x nrow cells, [W, H] of one cell."""
    array = to_numpy(images)
    n, channels, height, width = array.shape
    side = math.ceil(math.sqrt(n))
    padded = np.zeros((side * side, channels, height, width), array.dtype)
    padded[:n] = array
    grid = make_grid(padded, "NCHW", padding=0)  # side x side, as the Projector expects
    if grid.shape[2] == 1:
        grid = np.repeat(grid, 3, axis=2)
    return grid[:, :, :3], [width, height]


def write_embedding(log_dir: str, config: Any, mat: Any, metadata: Sequence | None,
                    label_img: Any, global_step: int, tag: str,
                    metadata_header: Sequence[str] | None) -> Any:
    """Write one embedding's files; returns the ProjectorConfig with it added."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import (
        EmbeddingInfo,
        ProjectorConfig,
    )

    points = to_numpy(mat)
    if points.ndim != 2:
        raise ValueError(f"add_embedding: mat must be (N, D), got {points.shape}")
    subdir = f"{global_step:05d}/{tag.replace('/', '_')}"
    folder = Path(log_dir) / subdir
    folder.mkdir(parents=True, exist_ok=True)
    info = EmbeddingInfo(tensor_name=f"{tag}:{global_step:05d}",
                         tensor_path=f"{subdir}/tensors.tsv")
    (folder / "tensors.tsv").write_text(
        "".join("\t".join(repr(float(v)) for v in row) + "\n" for row in points))
    if metadata is not None:
        if len(metadata) != len(points):
            raise ValueError(f"add_embedding: {len(metadata)} labels for {len(points)} points")
        rows = [str(m) for m in metadata] if not metadata_header else \
            ["\t".join(map(str, metadata_header))] + ["\t".join(map(str, m)) for m in metadata]
        (folder / "metadata.tsv").write_text("\n".join(rows) + "\n")
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        if len(label_img) != len(points):
            raise ValueError(f"add_embedding: {len(label_img)} images for {len(points)} points")
        sprite, size = _sprite(label_img)
        (folder / "sprite.png").write_bytes(encode_png(sprite))
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend(size)
    config = config or ProjectorConfig()
    config.embeddings.append(info)
    (Path(log_dir) / "projector_config.pbtxt").write_text(text_format.MessageToString(config))
    return config
