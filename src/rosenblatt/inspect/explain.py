"""Seeing inside a convolutional network: filters, feature maps, saliency and Grad-CAM.

- `plot_filters`: the first convolution's kernels as a grid (what the network looks for first).
- `feature_maps` / `plot_feature_maps`: what every Conv2d computed for one input, found with
  forward hooks, in the order forward ran them.
- `saliency` (Simonyan et al., 2013): |d score_k / d input|, the largest over channels: the
  pixels whose change would move the class score most.
- `grad_cam` (Selvaraju et al., 2017): the last convolution's feature maps A weighted by the
  spatial mean of d score_k / d A, summed over channels, ReLU, upsampled to the input size:
  the regions the evidence for class k comes from.
- `integrated_gradients` (Sundararajan et al., 2017): (x - baseline) times the mean gradient
  along the straight path from the baseline to x; the attributions add up to
  score(x) - score(baseline) (completeness).
- `occlusion` (Zeiler & Fergus, 2014): how much the class score drops when a square patch is
  covered, averaged over the patches covering each pixel.
- `randomization_check` (Adebayo et al., 2018): explanations must depend on the weights:
  re-initialise the layers from the top down and measure how similar the maps stay.
- `explain`: all of them for one image, PNGs in a folder, arrays returned.

Every function returns NumPy arrays and writes a PNG when given a path. The model is run in
eval mode (and put back as it was); gradients come from `rb.autograd.grad`, so no `.grad` of
the model is touched. matplotlib is imported on first use and never changes the backend.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import rosenblatt as rb
from rosenblatt._backend import np
from rosenblatt.autograd.tensor import Tensor
from rosenblatt.nn import Conv2d, Module

__all__ = ["Explanation", "conv_layers", "feature_maps", "plot_filters", "plot_feature_maps",
           "saliency", "grad_cam", "integrated_gradients", "occlusion", "SanityCheck",
           "randomization_check", "explain"]


# ------------------------------------------------------------------ plumbing
@contextlib.contextmanager
def _evaluating(model: Module) -> Iterator[None]:
    """Eval mode (BatchNorm running statistics, no dropout) for the block, then as before."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _device(model: Module) -> Any:
    for p in model.parameters():
        return p.device
    return "cpu"


def _as_input(model: Module, image: Any) -> Tensor:
    """(H, W), (C, H, W) or (1, C, H, W) tensor/array -> a float32 (1, C, H, W) leaf that
    requires grad, on the model's device."""
    array = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] != 1:
        raise ValueError(f"explain: expected one image (H, W), (C, H, W) or (1, C, H, W), "
                         f"got shape {tuple(array.shape)}")
    x = rb.tensor(np.ascontiguousarray(array, dtype=np.float32)).to(_device(model))
    return x.requires_grad_()


def _numpy(t: Tensor) -> Any:
    return t.detach().cpu().numpy()


def _find(model: Module, layer: str | Module) -> tuple[str, Module]:
    for name, module in model.named_modules():
        if module is layer or name == layer:
            return name, module
    raise ValueError(f"explain: the model has no layer {layer!r}")


def _capture(model: Module, x: Tensor, layers: Sequence[tuple[str, Module]]
             ) -> tuple[Tensor, dict[str, Tensor]]:
    """Run the model on x; returns its output and each layer's output (in execution order)."""
    outputs: dict[str, Tensor] = {}
    handles = []
    for name, module in layers:
        def hook(m: Module, args: Any, out: Any, name: str = name) -> None:
            outputs.pop(name, None)  # a layer run twice: keep its last output, in order
            outputs[name] = out
        handles.append(module.register_forward_hook(hook))
    try:
        logits = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return logits, outputs


def conv_layers(model: Module, image: Any = None) -> list[tuple[str, Conv2d]]:
    """The model's (name, Conv2d) pairs: in the order forward runs them for `image`, or in
    registration order without one."""
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, Conv2d)]
    if image is None or not convs:
        return convs
    with _evaluating(model), rb.no_grad():
        _, outputs = _capture(model, _as_input(model, image).detach(), convs)
    by_name = dict(convs)
    return [(name, by_name[name]) for name in outputs]


def _target(logits: Tensor, target: int | None) -> int:
    if logits.ndim != 2 or logits.shape[0] != 1:
        raise ValueError(f"explain: expected the model to return (1, classes) scores, got "
                         f"{tuple(logits.shape)}")
    if target is None:
        return int(np.argmax(_numpy(logits)[0]))
    if not 0 <= target < logits.shape[1]:
        raise ValueError(f"explain: target {target} is not a class of a model with "
                         f"{logits.shape[1]} outputs")
    return int(target)


# ---------------------------------------------------------------- the maps
def feature_maps(model: Module, image: Any) -> dict[str, Any]:
    """Each Conv2d's output for one image: {layer name: (C, h, w) array}, in forward order."""
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"explain: {type(model).__name__} has no Conv2d layer")
    with _evaluating(model), rb.no_grad():
        _, outputs = _capture(model, _as_input(model, image).detach(), convs)
    return {name: _numpy(out)[0] for name, out in outputs.items()}


def saliency(model: Module, image: Any, target: int | None = None,
             path: str | os.PathLike | None = None) -> Any:
    """One image (C, H, W) -> (H, W): max over channels of |d score_target / d image|
    (target: the predicted class by default); writes a PNG beside the image with `path`."""
    x = _as_input(model, image)
    with _evaluating(model):
        logits = model(x)
        k = _target(logits, target)
        (grad,) = rb.autograd.grad(logits[0, k], x)
    result = np.abs(_numpy(grad)[0]).max(axis=0)
    if path is not None:
        _plot_maps(_numpy(x)[0], [("saliency |d score / d pixel|", result, "hot")], path,
                   f"class {k}")
    return result


def grad_cam(model: Module, image: Any, target: int | None = None,
             layer: str | Module | None = None, path: str | os.PathLike | None = None) -> Any:
    """One image (C, H, W) -> (H, W) Grad-CAM heat map (>= 0) at the input's resolution.

    `layer`: a Conv2d (or any layer with (1, C, h, w) output), by name or module; default
    the last Conv2d forward runs. With `path`, writes the image, the map and an overlay.
    """
    x = _as_input(model, image)
    if layer is None:
        convs = conv_layers(model, x)
        if not convs:
            raise ValueError(f"grad_cam: {type(model).__name__} has no Conv2d layer")
        name, module = convs[-1]
    else:
        name, module = _find(model, layer)
    with _evaluating(model):
        logits, outputs = _capture(model, x, [(name, module)])
        if name not in outputs:
            raise ValueError(f"grad_cam: layer {name!r} did not run in forward")
        activations = outputs[name]
        if activations.ndim != 4:
            raise ValueError(f"grad_cam: layer {name!r} gives {tuple(activations.shape)}; "
                             f"expected feature maps (1, C, h, w)")
        k = _target(logits, target)
        (grad,) = rb.autograd.grad(logits[0, k], activations)
    a, g = _numpy(activations)[0], _numpy(grad)[0]  # (C, h, w)
    weights = g.mean(axis=(1, 2))  # one importance per channel
    cam = np.maximum(np.tensordot(weights, a, axes=1), 0).astype(np.float32)
    size = tuple(x.shape[2:])
    cam = rb.nn.functional.interpolate(rb.tensor(cam[None, None]), size=size, mode="bilinear",
                                       align_corners=False)
    result = np.maximum(cam.numpy()[0, 0], 0)  # bilinear weights are >= 0; guard rounding
    if path is not None:
        _plot_maps(_numpy(x)[0], [("Grad-CAM", result, "jet"), ("overlay", result, None)],
                   path, f"class {k}, layer {name}")
    return result


def integrated_gradients(model: Module, image: Any, target: int | None = None,
                         baseline: Any = None, steps: int = 50,
                         path: str | os.PathLike | None = None) -> Any:
    """One image (C, H, W) -> attributions (C, H, W): (x - baseline) * the mean gradient of
    the target score at `steps` midpoints between baseline (zeros by default) and x; with
    `path`, a PNG of their sum over channels."""
    x = _as_input(model, image).detach()
    base = rb.zeros_like(x) if baseline is None else _as_input(model, baseline).detach()
    alphas = rb.tensor(((np.arange(steps) + 0.5) / steps).astype(np.float32)).to(x.device)
    path_points = (base + alphas.reshape(-1, 1, 1, 1) * (x - base)).requires_grad_()
    with _evaluating(model):
        with rb.no_grad():
            k = _target(model(x), target)
        scores = model(path_points)[:, k]
        (grad,) = rb.autograd.grad(scores.sum(), path_points)
    result = (_numpy(x - base)[0] * _numpy(grad).mean(axis=0)).astype(np.float32)
    if path is not None:
        _plot_maps(_numpy(x)[0], [("integrated gradients", result.sum(axis=0), "bwr")], path,
                   f"class {k}")
    return result


def occlusion(model: Module, image: Any, target: int | None = None, window: int = 4,
              stride: int = 2, value: float = 0.0, batch_size: int = 128,
              path: str | os.PathLike | None = None) -> Any:
    """One image (C, H, W) -> (H, W): the drop of the target score when a window x window
    patch (all channels) is set to `value`, averaged over the patches covering each pixel."""
    x = _as_input(model, image).detach()
    _, _, height, width = x.shape
    tops = sorted({*range(0, max(height - window, 0) + 1, stride), max(height - window, 0)})
    lefts = sorted({*range(0, max(width - window, 0) + 1, stride), max(width - window, 0)})
    patches = [(t, left) for t in tops for left in lefts]
    picture = _numpy(x)[0]
    drops = []
    with _evaluating(model), rb.no_grad():
        logits = model(x)
        k = _target(logits, target)
        score = float(_numpy(logits)[0, k])
        for start in range(0, len(patches), batch_size):
            chunk = patches[start:start + batch_size]
            covered = np.repeat(picture[None], len(chunk), axis=0)
            for i, (t, left) in enumerate(chunk):
                covered[i, :, t:t + window, left:left + window] = value
            out = model(rb.tensor(covered).to(x.device))
            drops.append(score - _numpy(out)[:, k])
    total = np.zeros((height, width), np.float64)
    count = np.zeros((height, width), np.float64)
    for (t, left), drop in zip(patches, np.concatenate(drops)):
        total[t:t + window, left:left + window] += drop
        count[t:t + window, left:left + window] += 1
    result = (total / np.maximum(count, 1)).astype(np.float32)
    if path is not None:
        _plot_maps(picture, [("occlusion: score drop", result, "bwr")], path, f"class {k}")
    return result


def _rank_correlation(a: Any, b: Any) -> float:
    """Spearman's rank correlation of two maps (ties broken by position)."""
    ra = np.argsort(np.argsort(a.ravel())).astype(np.float64)
    rb_ = np.argsort(np.argsort(b.ravel())).astype(np.float64)
    ra -= ra.mean()
    rb_ -= rb_.mean()
    return float((ra @ rb_) / (np.sqrt((ra @ ra) * (rb_ @ rb_)) or 1.0))


@dataclass
class SanityCheck:
    """Rank correlations of |map| between the trained model and the model with the layers
    from the top down to each named one re-initialised; `passed` when the fully randomised
    model's map correlates below the threshold."""

    method: str
    layers: list  # names, in the order they were randomised (output first)
    correlations: list  # one per entry of `layers`
    threshold: float
    trained: Any = None  # the trained model's map
    randomized: Any = None  # the fully randomised model's map

    @property
    def passed(self) -> bool:
        """True when the explanation changed with the weights, as it must."""
        return bool(self.correlations and abs(self.correlations[-1]) < self.threshold)


def randomization_check(model: Module, image: Any, method: Any = saliency,
                        target: int | None = None, threshold: float = 0.5,
                        seed: int = 0) -> SanityCheck:
    """Adebayo et al.'s cascading model-randomisation test on one image: re-initialise the
    layers with parameters from the output back to the input (on a copy) and compare each
    map with the trained model's. method(model, image, target) -> map; the model is kept.
    Maps that multiply by the input (integrated gradients from a black baseline) can fail it
    on sparse images: the ink shapes them whatever the weights."""
    import copy

    x = _as_input(model, image).detach()
    with _evaluating(model), rb.no_grad():
        k = _target(model(x), target)
    trained = np.abs(np.asarray(method(model, x, k)))
    clone = copy.deepcopy(model)
    layers = [(n, m) for n, m in clone.named_modules()
              if hasattr(m, "reset_parameters") and any(True for _ in m.parameters(False))]
    rng_state = rb.get_rng_state()  # the user's random stream goes on as if not called
    rb.manual_seed(seed)
    names, correlations, current = [], [], trained
    try:
        for name, module in reversed(layers):
            module.reset_parameters()
            current = np.abs(np.asarray(method(clone, x, k)))
            names.append(name)
            correlations.append(_rank_correlation(trained, current))
    finally:
        rb.set_rng_state(rng_state)
    return SanityCheck(getattr(method, "__name__", str(method)), names, correlations,
                       threshold, trained, current)


def _first_conv(model: Module, layer: str | Module | None) -> tuple[str, Module]:
    if layer is not None:
        return _find(model, layer)
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"plot_filters: {type(model).__name__} has no Conv2d layer")
    return convs[0]


# ---------------------------------------------------------------- plots
def _figure(width: float, height: float) -> Any:
    from rosenblatt.train.plots import _figure as figure

    return figure(width, height)


def _save(fig: Any, path: str | os.PathLike) -> Path:
    from rosenblatt.train.plots import _save as save

    return save(fig, path)


def _picture(x: Any) -> tuple[Any, str | None]:
    """(C, H, W) -> something imshow shows: (H, W) grey or (H, W, 3) colour in [0, 1]."""
    if x.shape[0] == 3:
        lo, hi = float(x.min()), float(x.max())
        return (x.transpose(1, 2, 0) - lo) / (hi - lo or 1.0), None
    return x.mean(axis=0), "gray"


def _plot_maps(x: Any, maps: list[tuple[str, Any, str | None]], path: str | os.PathLike,
               title: str) -> Path:
    """The input beside each map; a map with cmap None is drawn over the input."""
    fig = _figure(3.2 * (1 + len(maps)), 3.4)
    axes = fig.subplots(1, 1 + len(maps), squeeze=False)[0]
    picture, cmap = _picture(x)
    axes[0].imshow(picture, cmap=cmap)
    axes[0].set_title("input")
    for ax, (label, values, map_cmap) in zip(axes[1:], maps):
        if map_cmap is None:
            ax.imshow(picture, cmap=cmap)
            ax.imshow(values, cmap="jet", alpha=0.5)
        else:
            im = ax.imshow(values, cmap=map_cmap)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(label)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return _save(fig, path)


def plot_filters(model: Module, path: str | os.PathLike | None = None,
                 layer: str | Module | None = None) -> Any:
    """The first Conv2d's weights (out, in, kh, kw) as an array; with `path`, a PNG grid of
    the kernels (grey for one input channel, colour for three, else the channel mean)."""
    name, module = _first_conv(model, layer)
    weights = _numpy(module.weight)
    if path is not None:
        n = weights.shape[0]
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        fig = _figure(1.3 * cols, 1.3 * rows + 0.5)
        axes = fig.subplots(rows, cols, squeeze=False)
        for i, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if i >= n:
                continue
            w = weights[i]
            if w.shape[0] == 3:
                picture, cmap = _picture(w)
                ax.imshow(picture, interpolation="nearest")
            else:
                w = w.mean(axis=0)
                m = float(np.abs(w).max()) or 1.0  # zero is mid-grey in every kernel
                ax.imshow(w, cmap="gray", vmin=-m, vmax=m, interpolation="nearest")
        fig.suptitle(f"{name}: {n} filters {weights.shape[2]}x{weights.shape[3]}")
        _save(fig, path)
    return weights


def plot_feature_maps(model: Module, image: Any, path: str | os.PathLike | None = None,
                      max_channels: int = 8) -> dict[str, Any]:
    """`feature_maps` (name -> (C, h, w)); with `path`, a PNG with one row per Conv2d
    showing its first `max_channels` channels."""
    maps = feature_maps(model, image)
    if path is not None:
        cols = max(1, min(max_channels, max(m.shape[0] for m in maps.values())))
        fig = _figure(1.4 * cols + 1.5, 1.5 * len(maps) + 0.4)
        axes = fig.subplots(len(maps), cols, squeeze=False)
        for row, (name, m) in zip(axes, maps.items()):
            for c, ax in enumerate(row):
                ax.set_xticks([])
                ax.set_yticks([])
                if c < m.shape[0]:
                    ax.imshow(m[c], cmap="viridis", interpolation="nearest")
                else:
                    ax.set_axis_off()
            row[0].set_ylabel(f"{name}\n{m.shape[0]}x{m.shape[1]}x{m.shape[2]}", fontsize=8)
        fig.suptitle("feature maps (first channels of each convolution)")
        _save(fig, path)
    return maps


# ------------------------------------------------------------- all at once
@dataclass
class Explanation:
    """What `explain` found for one image; arrays are NumPy, files the PNGs written."""

    prediction: int
    probabilities: Any  # (classes,)
    target: int  # the class the maps explain
    saliency: Any  # (H, W)
    grad_cam: Any = None  # (H, W); None for a model without convolutions
    integrated_gradients: Any = None  # (C, H, W), summing to score(x) - score(0)
    occlusion: Any = None  # (H, W) score drop when covered
    filters: Any = None  # (out, in, kh, kw)
    feature_maps: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # 'filters', 'feature_maps', ... -> Path


def explain(model: Module, image: Any, out_dir: str | os.PathLike, target: int | None = None,
            classes: Sequence[str] | None = None) -> Explanation:
    """Prediction, saliency, integrated gradients, occlusion, Grad-CAM, first-layer filters
    and feature maps for one image (C, H, W); writes saliency.png, integrated_gradients.png,
    occlusion.png, grad_cam.png, filters.png, feature_maps.png to out_dir. A model without
    Conv2d layers gets no Grad-CAM, filters or feature maps."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x = _as_input(model, image).detach()
    with _evaluating(model), rb.no_grad():
        logits = model(x)
    probs = _numpy(rb.nn.functional.softmax(logits, dim=1))[0]
    prediction = int(np.argmax(probs))
    k = prediction if target is None else _target(logits, target)
    name = classes[k] if classes is not None else str(k)
    title = f"class {name} (p = {probs[k]:.2f})"
    result = Explanation(prediction, probs, k, saliency(model, x, k))
    files = result.files
    files["saliency"] = _plot_maps(_numpy(x)[0], [("saliency", result.saliency, "hot")],
                                   out / "saliency.png", title)
    result.integrated_gradients = integrated_gradients(model, x, k)
    result.occlusion = occlusion(model, x, k, window=max(2, x.shape[-1] // 7),
                                 stride=max(1, x.shape[-1] // 14))
    files["integrated_gradients"] = _plot_maps(
        _numpy(x)[0], [("integrated gradients", result.integrated_gradients.sum(axis=0), "bwr")],
        out / "integrated_gradients.png", title)
    files["occlusion"] = _plot_maps(_numpy(x)[0], [("occlusion: score drop", result.occlusion,
                                                     "bwr")], out / "occlusion.png", title)
    if conv_layers(model):
        result.grad_cam = grad_cam(model, x, k)
        files["grad_cam"] = _plot_maps(
            _numpy(x)[0], [("Grad-CAM", result.grad_cam, "jet"), ("overlay", result.grad_cam,
                                                                   None)],
            out / "grad_cam.png", title)
        result.filters = plot_filters(model, out / "filters.png")
        files["filters"] = out / "filters.png"
        result.feature_maps = plot_feature_maps(model, x, out / "feature_maps.png")
        files["feature_maps"] = out / "feature_maps.png"
    return result
