"""`Summary` protobufs for TensorBoard: scalars, histograms, images (PNG), text, hparams and
precision-recall curves.

Each function returns a `tensorboard.compat.proto.summary_pb2.Summary` (or several), built
from NumPy arrays or rosenblatt tensors. Images are encoded as PNG here (zlib, no imaging
library needed). The protobuf classes come from the `tensorboard` package.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any

from rosenblatt._backend import np


def to_numpy(value: Any) -> Any:
    """A rosenblatt/PyTorch tensor, array, list or number -> a NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def scalar(tag: str, value: Any) -> Any:
    """A one-number summary (the Scalars dashboard)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    number = float(to_numpy(value).reshape(-1)[0]) if not isinstance(value, (int, float)) \
        else float(value)
    return Summary(value=[Summary.Value(tag=tag, simple_value=number)])


# TensorFlow's default histogram buckets: +-1e-12 growing by 10% to +-1e20 (PyTorch's 'tensorflow')
def _tensorflow_bins() -> Any:
    v = 1e-12
    positive = []
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    positive.append(1.7976931348623157e308)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None
              ) -> Any:
    """A summary of the distribution of `values` (any shape; the Histograms dashboard)."""
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary

    values = to_numpy(values).astype(np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError(f"add_histogram: {tag!r} has no values")
    if not np.isfinite(values).all():
        raise ValueError(f"add_histogram: {tag!r} holds nan or inf")
    edges = _tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, limits = np.histogram(values, bins=edges)
    if max_bins is not None and len(counts) > max_bins:
        factor = math.ceil(len(counts) / max_bins)
        pad = (-len(counts)) % factor
        counts = np.pad(counts, (0, pad)).reshape(-1, factor).sum(axis=1)
        limits = np.concatenate([limits[:-1][::factor], limits[-1:]])
    # keep the buckets from the first to the last non-empty one, as PyTorch does
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1]) + 1
    proto = HistogramProto(
        min=float(values.min()), max=float(values.max()), num=float(values.size),
        sum=float(values.sum()), sum_squares=float(values @ values),
        bucket_limit=limits[first + 1:last + 1].tolist(), bucket=counts[first:last].tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(pixels: Any) -> bytes:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 array -> PNG bytes."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 3: 2, 4: 6}[channels]  # grey, RGB, RGBA
    rows = np.concatenate([np.zeros((height, 1), np.uint8),  # filter type 0 for every row
                           pixels.reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b""))


def to_hwc(image: Any, dataformats: str = "CHW") -> Any:
    """An image in `dataformats` (CHW, HWC, HW, ...) -> (H, W, C) uint8 with C in 1, 3, 4;
    floats are taken to lie in [0, 1], as PyTorch's add_image does."""
    array = to_numpy(image)
    dataformats = dataformats.upper()
    if array.ndim != len(dataformats) or sorted(dataformats) not in (
            sorted("HW"), sorted("CHW")):
        raise ValueError(f"add_image: an image of shape {array.shape} does not match "
                         f"dataformats {dataformats!r}")
    if "C" not in dataformats:
        array, dataformats = array[None], "C" + dataformats
    array = array.transpose([dataformats.index(c) for c in "HWC"])
    if array.shape[2] not in (1, 3, 4):
        raise ValueError(f"add_image: images need 1, 3 or 4 channels, got {array.shape[2]}")
    if array.dtype != np.uint8:
        array = np.clip(np.round(array.astype(np.float64) * 255), 0, 255).astype(np.uint8)
    return array


def make_grid(images: Any, dataformats: str = "NCHW", padding: int = 2) -> Any:
    """A batch (N, C, H, W) (or NHWC, NHW) -> one (H', W', C) uint8 grid, nearly square."""
    array = to_numpy(images)
    dataformats = dataformats.upper()
    if array.ndim != len(dataformats) or dataformats[0] != "N":
        raise ValueError(f"add_images: a batch of shape {array.shape} does not match "
                         f"dataformats {dataformats!r}")
    tiles = [to_hwc(a, dataformats[1:]) for a in array]
    n = len(tiles)
    if n == 0:
        raise ValueError("add_images: the batch is empty")
    height, width, channels = tiles[0].shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (height + padding) + padding, cols * (width + padding) + padding,
                     channels), np.uint8)
    for i, tile in enumerate(tiles):
        top = padding + (i // cols) * (height + padding)
        left = padding + (i % cols) * (width + padding)
        grid[top:top + height, left:left + width] = tile
    return grid


def image(tag: str, pixels_hwc: Any) -> Any:
    """A (H, W, C) uint8 image as a PNG summary (the Images dashboard)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    height, width, channels = pixels_hwc.shape
    proto = Summary.Image(height=height, width=width, colorspace=channels,
                          encoded_image_string=encode_png(pixels_hwc))
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def figure_pixels(figure: Any, close: bool = True) -> Any:
    """A matplotlib Figure rendered to a (H, W, 4) uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return pixels


def text(tag: str, content: str) -> Any:
    """A Markdown text summary (the Text dashboard)."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[content.encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata,
                                        tensor=tensor)])


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127,
             weights: Any = None) -> Any:
    """A precision-recall curve of binary `labels` (N,) against probabilities (N,): rows
    TP, FP, TN, FN, precision, recall at `num_thresholds` thresholds from 0 to 1."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

    n = min(num_thresholds, 127)  # TensorBoard's plugin reads at most 127
    y = to_numpy(labels).reshape(-1).astype(np.float64)
    p = to_numpy(predictions).reshape(-1).astype(np.float64)
    w = np.ones_like(y) if weights is None else to_numpy(weights).reshape(-1)
    bucket = np.clip(np.floor(p * (n - 1)).astype(np.int64), 0, n - 1)
    # a sample counts as predicted positive at every threshold up to its bucket
    tp = np.cumsum(np.bincount(bucket, y * w, n)[::-1])[::-1]
    fp = np.cumsum(np.bincount(bucket, (1 - y) * w, n)[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    data = np.stack([tp, fp, tn, fn, tp / np.maximum(tp + fp, 1e-7),
                     tp / np.maximum(tp + fn, 1e-7)])
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="pr_curves",
        content=PrCurvePluginData(version=0, num_thresholds=n).SerializeToString()))
    tensor = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=6),
                                                            TensorShapeProto.Dim(size=n)]))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])


def _hparams_summary(tag: str, **plugin_data: Any) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams.metadata import PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    content = HParamsPluginData(version=PLUGIN_DATA_VERSION, **plugin_data)
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=PLUGIN_NAME, content=content.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def hparams(hparam_dict: dict, metric_dict: dict) -> tuple[Any, Any, Any]:
    """The experiment, session-start and session-end summaries of the HParams dashboard."""
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.api_pb2 import (
        DataType,
        Experiment,
        HParamInfo,
        MetricInfo,
        MetricName,
        Status,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
    start, infos = SessionStartInfo(), []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, bool):  # before int: a bool is an int in Python
            start.hparams[name].bool_value, kind = value, "DATA_TYPE_BOOL"
        elif isinstance(value, (int, float)):
            start.hparams[name].number_value, kind = float(value), "DATA_TYPE_FLOAT64"
        else:
            start.hparams[name].string_value, kind = str(value), "DATA_TYPE_STRING"
        infos.append(HParamInfo(name=name, type=DataType.Value(kind)))
    experiment = Experiment(hparam_infos=infos,
                            metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (_hparams_summary(metadata.EXPERIMENT_TAG, experiment=experiment),
            _hparams_summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            _hparams_summary(metadata.SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(
                status=Status.Value("STATUS_SUCCESS"))))

