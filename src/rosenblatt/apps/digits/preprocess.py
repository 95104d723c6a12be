"""From a ZIP-field image to the network's inputs: (k, 1, 28, 28) float32, MNIST convention.

Steps: grey levels; background estimate (block maxima on a coarse grid, smoothed: the paper
with its uneven light); ink = relative darkness below it; Otsu threshold; connected
components; merge pieces of one broken digit (columns overlap); drop specks; split too-wide
blobs (touching digits) at the column-projection minimum nearest the expected cut; then each
digit is masked,
fitted into a 20x20 box and placed in 28x28 with its centre of mass at the centre.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from typing import Any, Sequence

from rosenblatt._backend import np

WORK_HEIGHT = 64  # larger images are reduced to this height first (speed, stable filter sizes)
MIN_CONTRAST = 0.18  # darkest ink relative to paper below this: no ink
EXPECTED_DIGITS = 5


@dataclass
class Segmentation:
    """The digits found in one image, left to right.

    `inputs`/`boxes` are the default reading. Where the cut of touching digits is in doubt,
    `candidates` holds the pieces of the other ways to cut, and `choices` lists per blob
    its ways to be read as indices into inputs + candidates (the first way is the default's):
    the reader keeps the ways the network reads most confidently (see `reader.choose_pieces`).
    """

    inputs: Any  # (k, 1, 28, 28) float32 in [0, 1], ink high
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (x0, y0, x1, y1)
    no_ink: bool = False
    scale: float = 1.0  # boxes are in the working image; multiply by 1/scale for the original
    candidates: Any = None  # (m, 1, 28, 28) pieces of the other ways to cut, or None
    candidate_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    choices: list[list[tuple[int, ...]]] = field(default_factory=list)  # empty: no doubt
    # touching digits read whole: a blob that may be cut in two, normalized as a pair
    pair_inputs: Any = None  # (p, 1, 28, 48) float32 (see normalize_pair), or None
    pair_of: dict[tuple[int, int], int] = field(default_factory=dict)  # 2 pieces -> its row

    def pieces(self) -> Any:
        """Every piece the network must read: inputs, then candidates; (k + m, 1, 28, 28)."""
        if self.candidates is None:
            return self.inputs
        return np.concatenate([self.inputs, self.candidates])


def to_gray(image: Any) -> Any:
    """Any image (numpy array, PIL image, encoded bytes) -> (H, W) float32 in [0, 1]."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        from PIL import Image

        image = Image.open(io.BytesIO(bytes(image)))
    if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            from PIL import Image

            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image.convert("RGBA"))
        image = np.asarray(image.convert("L"))
    a = np.asarray(image)
    if a.ndim == 3:
        if a.shape[2] == 4:  # composite transparent pixels onto white paper
            alpha = a[..., 3:4].astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
            rgb = a[..., :3].astype(np.float32)
            full = 255.0 if a.dtype == np.uint8 else 1.0
            a = rgb * alpha + full * (1 - alpha)
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        a = a.astype(np.float32)
    if a.ndim != 2:
        raise ValueError(f"to_gray: expected an (H, W) or (H, W, C) image, got shape {a.shape}")
    if a.dtype == np.uint8 or a.max(initial=0) > 1.0:
        return a.astype(np.float32) / 255.0
    return a.astype(np.float32)


def _resize(a: Any, width: int, height: int) -> Any:
    """Antialiased resize of a float32 array (PIL's 'F' mode)."""
    from PIL import Image

    return np.asarray(Image.fromarray(a, mode="F").resize((width, height), Image.BILINEAR))


def paper_level(gray: Any, block: int = 8) -> Any:
    """The paper's brightness under the strokes, (H, W): the brightest pixel of each 8x8
    block (a stroke is thinner than a block), spread over 3x3 blocks, smoothed and
    interpolated back. Uneven light and paper colour vary slowly, so the coarse grid is enough.
    """
    h, w = gray.shape
    ph, pw = -h % block, -w % block
    padded = gray
    if ph or pw:  # repeat the last row and column (np.pad's "edge", at a tenth of its cost)
        padded = np.empty((h + ph, w + pw), gray.dtype)
        padded[:h, :w] = gray
        padded[h:, :w] = gray[h - 1 :]
        padded[:, w:] = padded[:, w - 1 : w]
    hb, wb = padded.shape[0] // block, padded.shape[1] // block
    # the rows of each block, then its columns: two reductions over one axis cost a quarter
    # of one over two axes
    coarse = padded.reshape(hb, block, -1).max(axis=1).reshape(hb, wb, block).max(axis=2)
    coarse = _reduce3x3(_edge_pad(coarse), np.maximum)
    coarse = _reduce3x3(_edge_pad(coarse), np.add) / np.float32(9.0)
    return _resample_matrix(hb, h + ph)[:h] @ coarse @ _resample_matrix(wb, w + pw)[:w].T


def ink_map(gray: Any) -> Any:
    """(H, W) grey in [0,1] -> ink (H, W) in [0,1]: darkness relative to the local paper."""
    sample = gray[::3, ::3]
    if 2 * np.count_nonzero(sample < 0.5) > sample.size:  # mostly dark: light ink (MNIST)
        gray = 1.0 - gray
    paper = paper_level(gray)
    ink = (paper - gray) / np.maximum(paper, 0.05)
    np.maximum(ink, 0.0, out=ink)
    np.minimum(ink, 1.0, out=ink)
    return ink


def _edge_pad(a: Any) -> Any:
    """(H, W) -> (H + 2, W + 2), the border rows and columns repeated (mode "nearest")."""
    h, w = a.shape
    p = np.empty((h + 2, w + 2), a.dtype)
    p[1:-1, 1:-1] = a
    p[0, 1:-1], p[-1, 1:-1] = a[0], a[-1]
    p[:, 0], p[:, -1] = p[:, 1], p[:, -2]
    return p


def _reduce3x3(padded: Any, op: Any) -> Any:
    """Combine each pixel's 3x3 neighbourhood with a binary ufunc (max, add, or), separably:
    (H + 2, W + 2) padded -> (H, W). SciPy's filters cost more in call overhead than this
    costs on these small images."""
    rows = op(padded[:, :-2], padded[:, 1:-1])
    op(rows, padded[:, 2:], out=rows)
    out = op(rows[:-2], rows[1:-1])
    return op(out, rows[2:], out=out)


def _grow(mask: Any) -> Any:
    """Binary dilation by one pixel (3x3)."""
    h, w = mask.shape
    p = np.zeros((h + 2, w + 2), bool)
    p[1 : h + 1, 1 : w + 1] = mask
    return _reduce3x3(p, np.bitwise_or)


@functools.lru_cache(maxsize=4096)
def _resample_matrix(n_in: int, n_out: int) -> Any:
    """(n_out, n_in) weights of an antialiased linear resize (PIL's BILINEAR: a triangle
    filter widened by the reduction factor), so a resize is two small matrix products."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    pixels = np.arange(n_in) + 0.5
    w = np.maximum(0.0, 1.0 - np.abs(pixels[None, :] - centres[:, None]) / support)
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)


def otsu(values: Any) -> float:
    """Otsu's threshold of values in [0, 1] (256 bins)."""
    hist = np.bincount(np.minimum((values * 255).astype(np.int32).ravel(), 255),
                       minlength=256).astype(np.float64)
    centres = (np.arange(256) + 0.5) / 256
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mean0 = m0 / np.maximum(w0, 1e-12)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1e-12)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between))] + 0.5 / 256)


def _p80(values: list) -> float:
    """The 80th percentile of a short list (np.percentile costs more than the sort)."""
    v = sorted(values)
    pos = 0.8 * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return float(v[lo] + (v[hi] - v[lo]) * (pos - lo))


def _union(a: list, b: list) -> list:
    """Box [x0, y0, x1, y1, area, labels...] covering both."""
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]), a[4] + b[4],
            *a[5:], *b[5:]]


def _pair_cost(a: list, b: list, ref_h: float, relaxed: bool) -> float | None:
    """How surely a and b (a left of b) are pieces of one digit; None if they are not."""
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    narrow = min(a[2] - a[0], b[2] - b[0])
    width = max(a[2], b[2]) - min(a[0], b[0])
    if width > 1.5 * ref_h:
        return None
    y_overlap = min(a[3], b[3]) - max(a[1], b[1])
    short = min(a[3] - a[1], b[3] - b[1])
    stacked = y_overlap <= 0.3 * short
    both_tall = short >= 0.75 * ref_h and not stacked  # two whole digits side by side
    if overlap >= 0.5 * narrow and not both_tall:  # columns overlap: a stroke broken across
        return -overlap / narrow
    gap = -overlap
    if gap > (0.3 if relaxed else 0.15) * ref_h:
        return None
    if stacked or short < 0.6 * ref_h or relaxed:
        return gap / ref_h + (0.0 if stacked else 0.5) + min(a[4], b[4]) / max(a[4], b[4])
    return None


def _merge_pieces(boxes: list[list[int]], ref_h: float, expected: int | None) -> list:
    """Join pieces of one digit (pen lifts, broken strokes); relaxed while there are too many."""
    boxes = sorted(boxes, key=lambda b: b[0])
    while len(boxes) > 1:
        relaxed = expected is not None and len(boxes) > expected
        best = None
        for k in range(len(boxes) - 1):
            for j in range(k + 1, min(k + 3, len(boxes))):
                cost = _pair_cost(boxes[k], boxes[j], ref_h, relaxed)
                if cost is not None and (best is None or cost < best[0]):
                    best = (cost, k, j)
        if best is None:
            break
        _, k, j = best
        merged = _union(boxes[k], boxes[j])
        del boxes[j]
        boxes[k] = merged
        boxes.sort(key=lambda b: b[0])
    return boxes


def _unmerge(boxes: list, components: dict, ref_h: float, expected: int) -> list:
    """Undo merges while there are fewer digits than expected: a merged group made of a left
    and a right cluster of components, both of digit height, was two digits side by side."""
    while len(boxes) < expected:
        best = None
        for i, b in enumerate(boxes):
            parts = sorted((components[lab] for lab in b[5:]), key=lambda c: c[0] + c[2])
            for k in range(1, len(parts)):
                left, right = parts[0], parts[k]
                for c in parts[1:k]:
                    left = _union(left, c)
                for c in parts[k + 1 :]:
                    right = _union(right, c)
                tall = min(left[3] - left[1], right[3] - right[1]) >= 0.6 * ref_h
                overlap = min(left[2], right[2]) - max(left[0], right[0])
                narrow = min(left[2] - left[0], right[2] - right[0])
                if tall and overlap < 0.8 * narrow and (best is None or overlap < best[0]):
                    best = (overlap, i, left, right)
        if best is None:
            break
        _, i, left, right = best
        boxes[i : i + 1] = [left, right]
    return boxes


def _cut_columns(profile: Any, n: int) -> list[int]:
    """n-1 cut columns of a blob: the projection minimum near each expected (equal) cut."""
    w = len(profile)
    cuts = []
    for i in range(1, n):
        expect = i * w / n
        lo = max(1, int(expect - 0.3 * w / n))
        hi = min(w - 1, int(expect + 0.3 * w / n) + 1)
        window = profile[lo:hi]
        # prefer the minimum; among near-ties, the column nearest the expected place
        cost = window + 1e-3 * np.abs(np.arange(lo, hi) - expect)
        cuts.append(lo + int(np.argmin(cost)))
    return cuts


@dataclass
class Blob:
    """One connected group of ink and its ways to be read (the first is the default), each
    way a list of (digit ink crop masked to its strokes, (x0, y0, x1, y1))."""

    ways: list[list[tuple[Any, tuple]]]
    # the ink crop of a blob wide enough for two touching digits, else None
    whole: Any = None
    box: tuple = ()  # (x0, y0, x1, y1) of the blob


def segment(ink: Any, expected: int | None = EXPECTED_DIGITS) -> list[Blob]:
    """Ink (H, W) -> the blobs left to right with their ways to be read (see Blob)."""
    from scipy import ndimage

    if ink.max(initial=0.0) < MIN_CONTRAST:
        return []
    faint = ink[ink > 0.04]
    t = max(otsu(faint) if faint.size else 0.5, 0.12)
    binary = ink > t
    labels, count = ndimage.label(binary, structure=np.ones((3, 3), bool))
    if count == 0:
        return []
    areas = np.bincount(labels.ravel(), minlength=count + 1).tolist()
    slices = ndimage.find_objects(labels)
    # box = [x0, y0, x1, y1, area, label...]
    boxes = [[s[1].start, s[0].start, s[1].stop, s[0].stop, areas[i + 1], i + 1]
             for i, s in enumerate(slices) if s is not None]
    big = max(areas[1:])
    heights = [b[3] - b[1] for b in boxes if b[4] >= 0.25 * big]
    # a digit's height: robust to a few broken digits (their pieces are shorter)
    rows = np.nonzero(binary.any(axis=1))[0]
    # (at least 0.8 of the ink's full height: one broken digit alone has only short pieces)
    ref_h = max(_p80(heights) if heights else 0.0,
                0.8 * (rows[-1] - rows[0] + 1))
    boxes = [b for b in boxes if b[4] >= max(4, 0.02 * big)]  # specks of noise
    boxes = _merge_pieces(boxes, ref_h, expected)
    keep = [b for b in boxes if b[4] >= max(6, 0.06 * big) and (b[3] - b[1]) >= 0.3 * ref_h]
    if not keep:
        return []
    ref_h = max(_p80([b[3] - b[1] for b in keep]), ref_h * 0.8)
    if expected is not None and len(keep) < expected:
        components = {b[5]: b for b in
                      ([s[1].start, s[0].start, s[1].stop, s[0].stop, areas[i + 1], i + 1]
                       for i, s in enumerate(slices) if s is not None)}
        keep = _unmerge(keep, components, ref_h, expected)
    pieces: list[tuple[Any, tuple]] = []
    for b in keep:
        x0, y0, x1, y1 = b[:4]
        region = labels[y0:y1, x0:x1]
        mask = region == b[5] if len(b) == 6 else np.isin(region, b[5:])
        crop_ink = ink[y0:y1, x0:x1]
        # keep the antialiased edge of the strokes, not the neighbours' ink
        digit = crop_ink * _grow(mask)
        pieces.append((digit, (x0, y0, x1, y1), mask, len(b) == 6))
    return _blob_options(pieces, ref_h, expected)


def _default_parts(pieces: list, ref_h: float, expected: int | None) -> list[int]:
    """How many digits each blob holds by its width alone (touching digits), widest first.

    Without an expected count a blob splits when wider than 1.15 digit heights; with one,
    blobs split only while there are fewer digits than expected, or when very wide (1.6).
    """
    widths = [box[2] - box[0] for _, box, _, _ in pieces]

    def parts_of(width: int) -> int:
        return max(2, int(round(width / (0.78 * ref_h))))

    n_parts = [1] * len(pieces)
    order = sorted(range(len(pieces)), key=lambda i: -widths[i])
    for i in order:
        if not pieces[i][3]:  # only a single connected blob can be touching digits
            continue
        w = widths[i]
        if expected is None:
            n_parts[i] = parts_of(w) if w > 1.15 * ref_h else 1
        elif w > 1.6 * ref_h:
            n_parts[i] = parts_of(w)
        elif sum(n_parts) < expected and w > 0.75 * ref_h:
            # a narrow blob is two digits only if it has a clear neck where they touch
            profile = pieces[i][2].sum(axis=0).astype(np.float32)
            neck = profile[_cut_columns(profile, 2)[0]]
            if w > 0.95 * ref_h or neck <= 0.25 * profile.max():
                n_parts[i] = 2
    return n_parts


def _pair_cuts(profile: Any, count: int) -> list[int]:
    """Up to `count` columns to try cutting a blob into two digits: the lowest columns of
    the projection in the middle 60 %, at least 2 columns apart."""
    w = len(profile)
    lo, hi = max(1, int(0.2 * w)), min(w - 1, int(0.8 * w) + 1)
    if hi <= lo:
        return []
    cost = profile[lo:hi] + 1e-3 * np.abs(np.arange(lo, hi) - w / 2)
    cuts: list[int] = []
    for i in np.argsort(cost, kind="stable"):
        c = lo + int(i)
        if all(abs(c - d) > 2 for d in cuts):
            cuts.append(c)
            if len(cuts) == count:
                break
    return cuts


def _cut(digit: Any, box: tuple, mask: Any, cuts: list[int]) -> list[tuple[Any, tuple]]:
    """A blob cut at the given columns -> its pieces (ink crop, box), each cropped to its ink."""
    x0, y0, x1, y1 = box
    edges = [0, *cuts, x1 - x0]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        part = digit[:, a:b]
        rows = np.nonzero(part.max(axis=1) > 0.1)[0]
        if len(rows) == 0:
            continue
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        out.append((part[r0:r1], (x0 + a, y0 + r0, x0 + b, y0 + r1)))
    return out


PAIR_CUTS = 2  # cut columns tried on a blob that may be two touching digits (3: no better)
PAIR_BLOBS = 2  # the widest blobs of a field tried that way (the pair detector picks among them)
MIN_PAIR_WIDTH = 0.75  # x digit height: narrower blobs are never taken for two digits


def _pair_ways(digit: Any, box: tuple, mask: Any, profile: Any, cuts: list[int]) -> list[list]:
    """The ways to cut a blob into two digits besides `cuts`, at the lowest columns of its
    projection; ways giving the same boxes are tried once."""
    ways = [_cut(digit, box, mask, [c]) for c in _pair_cuts(profile, PAIR_CUTS)]
    seen = {tuple(b for _, b in _cut(digit, box, mask, cuts))} if cuts else set()
    unique = []
    for way in ways:
        key = tuple(b for _, b in way)
        if len(way) == 2 and key not in seen:
            seen.add(key)
            unique.append(way)
    return unique


def _blob_options(pieces: list, ref_h: float, expected: int | None) -> list[Blob]:
    """Each blob's ways to be read, the first by width alone (`_default_parts`).

    When the count is in doubt (not the expected count by width alone, or a blob was
    split), the PAIR_BLOBS widest blobs wide enough for two digits are also tried whole and
    cut in two several ways: the reader keeps the ways the network reads most confidently.
    Blobs merged from pieces count too: two touching digits can come apart under the
    threshold and be joined back as one digit's broken strokes.
    """
    n_parts = _default_parts(pieces, ref_h, expected)
    doubt = expected is not None and (sum(n_parts) != expected or max(n_parts, default=1) > 1)
    wide = [i for i, (_, box, _, _) in enumerate(pieces)
            if n_parts[i] <= 2 and box[2] - box[0] >= MIN_PAIR_WIDTH * ref_h]
    pairs = sorted(wide, key=lambda i: pieces[i][1][0] - pieces[i][1][2])[:PAIR_BLOBS]
    blobs = []
    for i, ((digit, box, mask, _), n) in enumerate(zip(pieces, n_parts)):
        tried_whole = doubt and i in pairs
        profile = mask.sum(axis=0).astype(np.float32) if n > 1 or tried_whole else None
        cuts = _cut_columns(profile, n) if n > 1 else []
        options = [_cut(digit, box, mask, cuts) if cuts else [(digit, box)]]
        if tried_whole:
            options += [[(digit, box)]] if n == 2 else []
            options += _pair_ways(digit, box, mask, profile, cuts)
        pair_wide = box[2] - box[0] >= MIN_PAIR_WIDTH * ref_h
        blobs.append(Blob(options, digit if pair_wide else None, box))
    return blobs


_PLACES = np.arange(48, dtype=np.float32)  # row/column indices for the centre of mass
PAIR_SHAPE = (28, 48)  # a pair of touching digits as the pair reader sees it


def normalize_digit(digit: Any) -> Any:
    """A digit's ink crop (h, w) -> (28, 28) float32: strokes ~1, fitted in 20x20, COM centred."""
    return _normalize(digit, (28, 28), (20, 20))


def normalize_pair(blob: Any) -> Any:
    """Two touching digits' ink crop (h, w) -> PAIR_SHAPE (28, 48) float32: strokes ~1, fitted
    in 20 rows by 44 columns (the MNIST digit height, room for two), COM centred."""
    return _normalize(blob, PAIR_SHAPE, (20, 44))


def _normalize(digit: Any, shape: tuple[int, int], fit: tuple[int, int]) -> Any:
    """Ink crop -> `shape` float32: strokes scaled to ~1, the ink resized with its aspect kept
    to fit in `fit` (rows, columns), its centre of mass at the centre."""
    # (called for every piece of every field: few NumPy calls, no np.clip on scalars)
    ink = digit > 0.05
    rows, cols = ink.any(axis=1), ink.any(axis=0)
    if not (rows[0] and rows[-1] and cols[0] and cols[-1]):  # crop to the ink (pieces are
        rows, cols = np.flatnonzero(rows), np.flatnonzero(cols)  # mostly cropped already)
        if len(rows) == 0:
            return np.zeros(shape, np.float32)
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        digit, ink = digit[r0:r1, c0:c1], ink[r0:r1, c0:c1]
    strokes = digit[ink]
    # stroke darkness varies with pen and lighting; MNIST strokes are saturated
    k = int(0.7 * (strokes.size - 1))
    level = float(np.partition(strokes, k)[k])
    digit = digit * np.float32(1.0 / max(level, 1e-3))
    np.minimum(digit, 1.0, out=digit)
    h, w = digit.shape
    f = min(fit[0] / h, fit[1] / w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    # weights >= 0 summing to 1: stays within [0, 1]
    small = _resample_matrix(h, nh) @ digit @ _resample_matrix(w, nw).T
    row_mass = small.sum(axis=1)
    total = float(row_mass.sum())
    if total <= 0:
        return np.zeros(shape, np.float32)
    cy = float(row_mass @ _PLACES[:nh]) / total
    cx = float(small.sum(axis=0) @ _PLACES[:nw]) / total
    top = min(max(round(shape[0] / 2 - cy), 0), shape[0] - nh)
    left = min(max(round(shape[1] / 2 - cx), 0), shape[1] - nw)
    out = np.zeros(shape, np.float32)
    out[top : top + nh, left : left + nw] = small
    return out


def shifted_views(inputs: Any, shifts: Sequence[tuple[int, int]]) -> Any:
    """Each normalised digit moved by whole pixels (dy down, dx right), zeros coming in:
    (N, 1, 28, 28) -> (len(shifts) * N, 1, 28, 28), all of the first shift's views first."""
    x = np.asarray(inputs, np.float32)
    h, w = x.shape[-2:]
    out = np.zeros((len(shifts),) + x.shape, np.float32)
    for view, (dy, dx) in zip(out, shifts):
        if abs(dy) < h and abs(dx) < w:
            view[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = \
                x[..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out.reshape((-1,) + x.shape[1:])


MAX_SHEAR = 1.0  # columns per row: steeper "slant" is a shape, not a pen angle
_DESKEW_PAD = 14  # zero columns each side of a row: a shift is at most 14 * MAX_SHEAR


def deskew(inputs: Any, chunk: int = 256) -> Any:
    """Shear each normalised digit so its principal axis is vertical (the classic second-moment
    deskew): (N, 1, 28, 28) or (N, 28, 28) float32 -> the same shape.

    Each row moves sideways by a * (row - centre row), a = mu11 / mu02 of the digit's ink, with
    linear interpolation; the ink total and the centre of mass stay where they were.
    """
    x = np.asarray(inputs, np.float32)
    flat = x.reshape(-1, 28, 28)
    out = np.empty_like(flat)
    for i in range(0, len(flat), chunk):  # chunks: the gather indices stay in cache
        out[i : i + chunk] = _deskew_chunk(flat[i : i + chunk])
    return out.reshape(x.shape)


def _deskew_chunk(x: Any) -> Any:
    n = len(x)
    rows, cols = x.sum(axis=2), x.sum(axis=1)
    mass = np.maximum(rows.sum(axis=1), 1e-6)
    places = _PLACES[:28]
    dy = places - (rows @ places / mass)[:, None]  # (n, 28) row offsets from the centre
    dx = places - (cols @ places / mass)[:, None]
    mu02 = (rows * dy * dy).sum(axis=1)
    mu11 = ((dy[:, None, :] @ x)[:, 0] * dx).sum(axis=1)
    shear = np.clip(mu11 / np.maximum(mu02, 1e-6), -MAX_SHEAR, MAX_SHEAR)
    shift = shear[:, None] * dy  # output column c of a row reads input column c + shift
    whole = np.floor(shift)
    frac = (shift - whole)[:, :, None].astype(np.float32)
    pad = _DESKEW_PAD
    width = 28 + 2 * pad + 1
    padded = np.zeros((n, 28, width), np.float32)
    padded[:, :, pad : pad + 28] = x
    # flat gathers: np.take on one axis is many times faster than take_along_axis here
    starts = np.clip(whole.astype(np.intp) + pad, 0, 2 * pad)
    starts += (np.arange(n * 28) * width).reshape(n, 28)
    index = starts[:, :, None] + np.arange(28)
    padded = padded.reshape(-1)
    return padded.take(index) * (1 - frac) + padded.take(index + 1) * frac


def working_image(image: Any) -> tuple[Any, float]:
    """Grey image reduced to at most WORK_HEIGHT rows; returns (gray, scale)."""
    gray = to_gray(image)
    h, w = gray.shape
    if h > WORK_HEIGHT:
        scale = WORK_HEIGHT / h
        gray = np.clip(_resize(gray, max(1, int(round(w * scale))), WORK_HEIGHT), 0.0, 1.0)
        return gray, scale
    return gray, 1.0


def preprocess_field(image: Any, expected: int | None = EXPECTED_DIGITS) -> Segmentation:
    """A ZIP-field image -> its digits as network inputs (k, 1, 28, 28), left to right, with
    the other ways to cut doubtful blobs (see Segmentation)."""
    gray, scale = working_image(image)
    ink = ink_map(gray)
    blobs = segment(ink, expected)
    if not blobs:
        return Segmentation(np.zeros((0, 1, 28, 28), np.float32), [], True, scale)
    default = [p for blob in blobs for p in blob.ways[0]]
    inputs = np.stack([normalize_digit(d) for d, _ in default])[:, None]
    seg = Segmentation(inputs, [b for _, b in default], False, scale)
    extra: list[tuple[Any, tuple]] = []
    pairs = []
    start = 0
    for blob in blobs:
        choice = [tuple(range(start, start + len(blob.ways[0])))]
        start += len(blob.ways[0])
        for way in blob.ways[1:]:
            first = len(default) + len(extra)
            choice.append(tuple(range(first, first + len(way))))
            extra += way
        in_two = [way for way in choice if len(way) == 2]
        if blob.whole is not None and in_two:
            seg.pair_of.update({way: len(pairs) for way in in_two})
            pairs.append(normalize_pair(blob.whole))
        seg.choices.append(choice)
    if pairs:
        seg.pair_inputs = np.stack(pairs)[:, None]
    if not extra:  # one way to read each blob: nothing to choose
        seg.choices = []
        return seg
    seg.candidates = np.stack([normalize_digit(d) for d, _ in extra])[:, None]
    seg.candidate_boxes = [b for _, b in extra]
    return seg


def preprocess_digit(image: Any) -> Segmentation:
    """A single-digit image -> (1, 1, 28, 28) (all of its ink taken as one digit)."""
    gray, scale = working_image(image)
    ink = ink_map(gray)
    if ink.max(initial=0.0) < MIN_CONTRAST:
        return Segmentation(np.zeros((0, 1, 28, 28), np.float32), [], True, scale)
    t = max(otsu(ink[ink > 0.04]), 0.12)
    from scipy import ndimage

    binary = ink > t
    labels, count = ndimage.label(binary, structure=np.ones((3, 3), bool))
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    areas[0] = 0
    keep = areas >= max(4, 0.05 * areas.max())  # drop specks of noise
    mask = keep[labels]
    ys, xs = np.nonzero(mask)
    digit = np.where(_grow(mask), ink, 0.0).astype(np.float32)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Segmentation(normalize_digit(digit)[None, None], [box], False, scale)
