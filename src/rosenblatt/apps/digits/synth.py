"""A seeded generator of synthetic ZIP-field images built from MNIST TEST digits only.

The MNIST test set (t10k, 10,000 digits) is split in two halves: the first half
(`CALIBRATION`) fits the temperature and the acceptance threshold, the second half
(`EVALUATION`) is what `rosenblatt zip evaluate` measures on. Training never sees either.
"""

from __future__ import annotations

import gzip
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosenblatt._backend import np

CALIBRATION = slice(0, 5000)
EVALUATION = slice(5000, 10000)


def data_dir() -> Path:
    """The MNIST folder: $ROSENBLATT_DATA/mnist, else ~/.rosenblatt/data/mnist (the rule of
    every command: `--data-root` sets $ROSENBLATT_DATA for the `zip` commands)."""
    from rosenblatt.datasets.download import data_root

    return data_root("mnist")


def read_idx(path: Path) -> Any:
    """Read an IDX file (gzip or plain) into a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


_CACHE: dict[str, tuple[Any, Any]] = {}


def load_mnist(split: str = "test") -> tuple[Any, Any]:
    """MNIST images (N, 28, 28) uint8 and labels (N,) int64; split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    if split not in _CACHE:
        prefix = "train" if split == "train" else "t10k"
        folder = data_dir()
        if not (folder / f"{prefix}-images-idx3-ubyte.gz").is_file():
            raise FileNotFoundError(
                f"MNIST {split} files not found in {folder}: pass --data-root with a folder "
                "holding mnist/, or set ROSENBLATT_DATA to one")
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
        _CACHE[split] = (images, labels)
    return _CACHE[split]


def mnist_test_half(part: str = "evaluation") -> tuple[Any, Any]:
    """One half of the MNIST test set: 'calibration' (first 5,000) or 'evaluation' (last 5,000)."""
    images, labels = load_mnist("test")
    part_slice = {"calibration": CALIBRATION, "evaluation": EVALUATION}[part]
    return images[part_slice], labels[part_slice]


@dataclass
class Field:
    """One synthetic ZIP field: the image and its ground truth."""

    image: Any  # (H, W) or (H, W, 3) uint8, dark ink on light paper
    zip: str  # the five digits
    boxes: list[tuple[int, int, int, int]]  # (x0, y0, x1, y1) of each digit's ink
    touching: list[int] = field(default_factory=list)  # i: digits i and i+1 touch
    params: dict[str, Any] = field(default_factory=dict)

    def truth(self) -> dict[str, Any]:
        """The JSON-serialisable ground truth."""
        return {"zip": self.zip, "boxes": [list(b) for b in self.boxes],
                "touching": self.touching, "params": self.params}


class FieldSynth:
    """Seeded ZIP-field generator over a pool of MNIST digits (images (N,28,28), labels (N,)).

    The default mix: scale 0.9-1.4, slant +-0.3, rotation +-6 degrees, gaps of 2-12 px, one
    touching pair in a quarter of the fields, stroke darkness 0.45-1, paper grey 0.72-1 (half
    of the fields tinted in colour), a light gradient of up to 35 %, noise up to 4 %, blur up
    to 1 px. p_break > 0 also erases a thin band across some digits (broken strokes).
    """

    def __init__(self, images: Any, labels: Any, seed: int = 0, p_touch: float = 0.25,
                 p_break: float = 0.0, p_colour: float = 0.5, max_slant: float = 0.3,
                 max_rotation: float = 6.0) -> None:
        self.images, self.labels = images, labels
        self.max_slant, self.max_rotation = max_slant, max_rotation
        self.rng = np.random.default_rng(seed)
        self.p_touch, self.p_break, self.p_colour = p_touch, p_break, p_colour

    def _digit(self, index: int, scale: float, slant: float, angle: float) -> Any:
        """One MNIST digit scaled, slanted and rotated; float ink in [0,1] cropped to its ink."""
        from scipy import ndimage

        img = self.images[index].astype(np.float32) / 255.0
        size = int(np.ceil(28 * scale * 1.4))
        c, s = np.cos(angle), np.sin(angle)
        # output -> input map: undo rotation, slant (x shifts with y) and scale
        forward = np.array([[c, -s], [s, c]]) @ np.array([[1.0, 0.0], [slant, 1.0]]) * scale
        inverse = np.linalg.inv(forward)
        centre_out = np.array([size / 2, size / 2])
        offset = np.array([13.5, 13.5]) - inverse @ centre_out
        out = ndimage.affine_transform(img, inverse, offset=offset, output_shape=(size, size),
                                       order=1)
        ys, xs = np.nonzero(out > 0.05)
        return out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]

    def _break_stroke(self, ink: Any) -> Any:
        """Erase a thin horizontal band: a broken stroke, as light pens leave."""
        h = ink.shape[0]
        y = int(self.rng.integers(int(h * 0.3), max(int(h * 0.3) + 1, int(h * 0.7))))
        ink = ink.copy()
        ink[y : y + int(self.rng.integers(1, 3))] = 0.0
        return ink

    def sample(self) -> Field:
        """Draw one field."""
        rng = self.rng
        idx = rng.integers(0, len(self.labels), size=5)
        scale = rng.uniform(0.9, 1.4)
        digits = []
        for i in idx:
            ink = self._digit(int(i), scale * rng.uniform(0.92, 1.08),
                              rng.uniform(-self.max_slant, self.max_slant),
                              np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation)))
            if rng.random() < self.p_break:
                ink = self._break_stroke(ink)
            digits.append(ink)
        touch_at = int(rng.integers(0, 4)) if rng.random() < self.p_touch else -1
        height = max(d.shape[0] for d in digits)
        margin_y = int(rng.integers(5, 14))
        tops = [margin_y + int(rng.integers(0, height - d.shape[0] + 3)) for d in digits]
        lefts = [int(rng.integers(6, 20))]
        for k in range(1, 5):
            gap = -1 if k - 1 == touch_at else int(rng.integers(2, int(4 + 6 * scale)))
            lefts.append(lefts[-1] + self._offset(digits[k - 1], tops[k - 1], digits[k],
                                                  tops[k], gap))
        # a digit tucked under its touching neighbour can reach left of the first digit or
        # right of the last one: keep every digit inside the image
        shift = max(0, 2 - min(lefts))
        lefts = [x + shift for x in lefts]
        h_img = height + 2 * margin_y + 3
        w_img = max(x + d.shape[1] for x, d in zip(lefts, digits)) + int(rng.integers(6, 20))
        ink = np.zeros((h_img, w_img), np.float32)
        boxes = []
        for d, y, x in zip(digits, tops, lefts):
            region = ink[y : y + d.shape[0], x : x + d.shape[1]]
            np.maximum(region, d, out=region)
            boxes.append((x, y, x + d.shape[1], y + d.shape[0]))
        params = self._render_params(scale)
        image = self._render(ink, params)
        return Field(image, "".join(str(int(self.labels[i])) for i in idx), boxes,
                     [touch_at] if touch_at >= 0 else [], params)

    @staticmethod
    def _offset(a: Any, ya: int, b: Any, yb: int, gap: int) -> int:
        """Left of b relative to left of a so the closest strokes are `gap` px apart."""
        best = None
        for row in range(max(ya, yb), min(ya + a.shape[0], yb + b.shape[0])):
            ra = np.nonzero(a[row - ya] > 0.3)[0]
            rb_ = np.nonzero(b[row - yb] > 0.3)[0]
            if len(ra) and len(rb_):
                need = ra[-1] - rb_[0] + 1 + gap  # b's left column so this row is `gap` apart
                best = need if best is None else max(best, need)
        return int(best) if best is not None else a.shape[1] + gap

    def _render_params(self, scale: float) -> dict[str, Any]:
        rng = self.rng
        colour = rng.random() < self.p_colour
        paper = rng.uniform(0.72, 1.0)
        tint = (rng.uniform(0.85, 1.0, size=3) if colour else np.ones(3)).tolist()
        return {
            "scale": round(float(scale), 3),
            "colour": bool(colour),
            "paper": round(float(paper), 3),
            "tint": [round(t, 3) for t in tint],
            "darkness": round(float(rng.uniform(0.45, 1.0)), 3),
            "light_gradient": round(float(rng.uniform(0.0, 0.35)), 3),
            "light_angle": round(float(rng.uniform(0, 2 * np.pi)), 3),
            "noise": round(float(rng.uniform(0.0, 0.04)), 3),
            "blur": round(float(rng.uniform(0.0, 1.0)), 3),
            "ink_rgb": (rng.uniform(0.0, 0.25, size=3).tolist() if colour else [0.0] * 3),
        }

    def _render(self, ink: Any, p: dict[str, Any]) -> Any:
        """Paper colour x uneven light x (1 - darkness*ink) + noise, blurred; uint8."""
        from scipy import ndimage

        h, w = ink.shape
        if p["blur"] > 0.15:
            ink = ndimage.gaussian_filter(ink, p["blur"])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = (np.cos(p["light_angle"]) * xx / w + np.sin(p["light_angle"]) * yy / h)
        light = 1.0 - p["light_gradient"] * (u - u.min()) / max(float(np.ptp(u)), 1e-6)
        paper = p["paper"] * light
        cover = p["darkness"] * ink
        channels = []
        for t, c in zip(p["tint"], p["ink_rgb"]):
            channels.append(paper * t * (1 - cover) + c * cover * paper)
        img = np.stack(channels, axis=-1)
        img += self.rng.normal(0.0, p["noise"], size=img.shape).astype(np.float32)
        img = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if not p["colour"]:
            img = img[..., 0]
        return img


def make_fields(n: int, part: str = "evaluation", seed: int = 0, **kwargs: Any) -> list[Field]:
    """n fields from one half of the MNIST test set (see CALIBRATION/EVALUATION)."""
    images, labels = mnist_test_half(part)
    synth = FieldSynth(images, labels, seed=seed, **kwargs)
    return [synth.sample() for _ in range(n)]


def write_samples(fields: list[Field], out: Path) -> list[Path]:
    """Write each field as NNNNN.png with its ground truth in NNNNN.json; returns PNG paths."""
    from PIL import Image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, f in enumerate(fields):
        path = out / f"{i:05d}.png"
        Image.fromarray(f.image).save(path)
        path.with_suffix(".json").write_text(json.dumps(f.truth(), indent=1))
        paths.append(path)
    return paths
