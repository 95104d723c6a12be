"""Saliency and Grad-CAM against PyTorch, Grad-CAM semantics, the PNGs, `rosenblatt explain`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.cli import main
from rosenblatt.inspect.cli import image_to_input, load_checkpoint_model
from rosenblatt.inspect.explain import (
    conv_layers,
    explain,
    feature_maps,
    grad_cam,
    integrated_gradients,
    occlusion,
    plot_feature_maps,
    plot_filters,
    randomization_check,
    saliency,
)
from rosenblatt.models import cnn3, lenet5
from rosenblatt.models.mlp import MLP


# ------------------------------------------------------------ parity with torch
def _tiny_pair() -> tuple[nn.Module, torch.nn.Module]:
    """conv-BN-ReLU-conv-tanh-linear in both libraries with the same weights and BN stats."""
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 5 * 5, 5))
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
        torch.nn.Conv2d(3, 4, 3), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(100, 5))
    rng = np.random.default_rng(1)
    state = ours.state_dict()
    state["1.running_mean"] = rb.tensor(rng.normal(size=3).astype(np.float32))
    state["1.running_var"] = rb.tensor(rng.uniform(0.5, 2, size=3).astype(np.float32))
    state["1.weight"] = rb.tensor(rng.uniform(0.5, 2, size=3).astype(np.float32))
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    theirs.eval()
    return ours, theirs


def _image(shape: tuple = (2, 7, 7), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("target", [None, 3])
def test_saliency_matches_torch_autograd(target) -> None:
    ours, theirs = _tiny_pair()
    ours.train()  # explain must switch BatchNorm to its running statistics, then back
    image = _image()
    result = saliency(ours, rb.tensor(image), target=target)
    assert ours.training
    assert all(p.grad is None for p in ours.parameters())  # no .grad touched

    x = torch.tensor(image[None], requires_grad=True)
    out = theirs(x)
    k = int(out.argmax()) if target is None else target
    out[0, k].backward()
    expected = x.grad.abs().amax(dim=1)[0].numpy()
    assert result.shape == (7, 7)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-7)


def test_grad_cam_matches_torch() -> None:
    ours, theirs = _tiny_pair()
    image = _image(seed=2)
    cams = {}
    for target in range(5):
        cams[target] = grad_cam(ours, image, target=target)

        x = torch.tensor(image[None])
        saved: dict = {}
        handle = theirs[3].register_forward_hook(lambda m, a, out, s=saved: s.update(a=out))
        out = theirs(x)
        handle.remove()
        (g,) = torch.autograd.grad(out[0, target], saved["a"])
        weights = g.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * saved["a"]).sum(1, keepdim=True))
        cam = torch.nn.functional.interpolate(cam, size=(7, 7), mode="bilinear",
                                              align_corners=False)[0, 0].detach().numpy()
        np.testing.assert_allclose(cams[target], cam, rtol=1e-4, atol=1e-6)
    assert any(c.max() > 0 for c in cams.values())
    # the default layer is the last convolution forward ran, named or given as a module
    np.testing.assert_array_equal(grad_cam(ours, image, 1), grad_cam(ours, image, 1, layer="3"))
    np.testing.assert_array_equal(grad_cam(ours, image, 1),
                                  grad_cam(ours, image, 1, layer=ours[3]))


# --------------------------------------------------------------- Grad-CAM semantics
class _Halves(nn.Module):
    """(1, 1, H, W) -> (1, 2, H, W): channel 0 sees only the left half, channel 1 the right."""

    def __init__(self, width: int) -> None:
        super().__init__()
        left = (np.arange(width) < width // 2).astype(np.float32)
        self.left, self.right = rb.tensor(left), rb.tensor(1 - left)

    def forward(self, x):
        return rb.cat([x * self.left, x * self.right], dim=1)


def _half_model(size: int = 16) -> nn.Module:
    """Class 0 depends only on the left half of the image, class 1 only on the right."""
    conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
    linear = nn.Linear(2 * size * size, 3)
    rng = np.random.default_rng(0)
    w = np.abs(rng.normal(size=(2, 2, 3, 3))).astype(np.float32)
    w[0, 1] = w[1, 0] = 0  # output channel c reads input channel c only
    head = rng.normal(size=(3, 2, size * size)).astype(np.float32)
    head[0, 1] = 0  # class 0: channel 0 (left) only
    head[1, 0] = 0  # class 1: channel 1 (right) only
    head[:2] = np.abs(head[:2])
    with rb.no_grad():
        conv.weight.copy_(rb.tensor(w))
        linear.weight.copy_(rb.tensor(head.reshape(3, -1)))
    return nn.Sequential(_Halves(size), conv, nn.ReLU(), nn.Flatten(), linear)


def test_grad_cam_mass_is_where_the_class_looks() -> None:
    model = _half_model()
    image = np.random.default_rng(3).uniform(0.2, 1, size=(1, 16, 16)).astype(np.float32)
    for target, side in ((0, slice(0, 8)), (1, slice(8, 16))):
        cam = grad_cam(model, image, target=target)
        assert cam.shape == (16, 16) and cam.min() >= 0 and cam.sum() > 0
        assert cam[:, side].sum() / cam.sum() > 0.9, (target, cam[:, side].sum() / cam.sum())
    # the image itself has content everywhere: the map follows the gradients, not the pixels
    sal = saliency(model, image, target=0)
    assert sal[:, 8:].max() == 0 and sal[:, :8].max() > 0


def test_grad_cam_on_the_model_zoo_is_a_nonnegative_input_sized_map() -> None:
    image = _image((1, 28, 28), seed=4)
    for model in (lenet5(), cnn3()):
        cam = grad_cam(model, image)
        assert cam.shape == (28, 28) and cam.dtype == np.float32
        assert np.all(cam >= 0) and np.isfinite(cam).all()
    model = lenet5()
    assert [n for n, _ in conv_layers(model, image)] == ["features.0", "features.3"]
    early = grad_cam(model, image, layer="features.0")
    assert early.shape == (28, 28) and early.min() >= 0


def test_feature_maps_are_each_convolutions_output() -> None:
    model = lenet5()
    image = _image((1, 28, 28), seed=5)
    maps = feature_maps(model, image)
    assert list(maps) == ["features.0", "features.3"]
    x = rb.tensor(image[None])
    with rb.no_grad():
        first = model.features[0](x)
        second = model.features[3](model.features[:3](x))
    np.testing.assert_allclose(maps["features.0"], first.numpy()[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(maps["features.3"], second.numpy()[0], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------ PNGs
def _not_blank(path, min_size: int = 150) -> None:
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        assert min(picture.size) >= min_size
        pixels = np.asarray(picture.convert("RGB"))
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


def _digit_image() -> np.ndarray:
    """A bright 7 on black, 28x28, MNIST-like, in [0, 1]."""
    picture = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(picture).line([(7, 6), (21, 6), (11, 23)], fill=255, width=3)
    return (np.asarray(picture, np.float32) / 255)[None]


def test_explain_writes_the_pngs_and_returns_the_arrays(tmp_path) -> None:
    model = lenet5()
    result = explain(model, _digit_image(), tmp_path / "out", classes=list("abcdefghij"))
    assert set(result.files) == {"saliency", "integrated_gradients", "occlusion", "grad_cam",
                                 "filters", "feature_maps"}
    for path in result.files.values():
        assert path.parent == tmp_path / "out"
        _not_blank(path)
    assert 0 <= result.prediction < 10 and result.target == result.prediction
    np.testing.assert_allclose(result.probabilities.sum(), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(result.filters, model.features[0].weight.detach().numpy())
    assert result.saliency.shape == result.grad_cam.shape == (28, 28)
    assert [m.shape for m in result.feature_maps.values()] == [(6, 28, 28), (16, 10, 10)]
    # the single plots also write their PNGs
    plot_filters(model, tmp_path / "f.png")
    plot_feature_maps(model, _digit_image(), tmp_path / "m.png", max_channels=4)
    saliency(model, _digit_image(), path=tmp_path / "s.png")
    grad_cam(model, _digit_image(), path=tmp_path / "g.png")
    for name in ("f", "m", "s", "g"):
        _not_blank(tmp_path / f"{name}.png", min_size=100)


def test_explain_without_convolutions_gives_saliency_only(tmp_path) -> None:
    model = MLP(64, [16], 10)
    result = explain(model, np.random.default_rng(0).random((1, 8, 8)), tmp_path)
    assert list(result.files) == ["saliency", "integrated_gradients", "occlusion"]
    assert result.grad_cam is None and result.occlusion.shape == (8, 8)
    assert result.saliency.shape == (8, 8)
    with pytest.raises(ValueError, match="no Conv2d"):
        grad_cam(model, np.zeros((1, 8, 8)))


# -------------------------------------------------------------------------- CLI
def _paper_digit(path) -> None:
    """A dark 7 on light paper, larger than 28x28 and off-centre (a photo or a scan)."""
    picture = Image.new("RGB", (90, 120), (235, 235, 230))
    ImageDraw.Draw(picture).line([(12, 15), (60, 15), (28, 100)], fill=(20, 20, 30), width=9)
    picture.save(path)


def test_image_to_input_follows_the_mnist_convention(tmp_path) -> None:
    _paper_digit(tmp_path / "seven.png")
    x = image_to_input(tmp_path / "seven.png", [1, 28, 28])
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert x.max() > 0.9 and x.min() >= 0
    ink = x[0]
    ys, xs = np.nonzero(ink > 0.05)
    assert 19 <= max(np.ptp(ys) + 1, np.ptp(xs) + 1) <= 21  # fitted into 20x20
    rows, cols = np.indices(ink.shape)
    assert abs((rows * ink).sum() / ink.sum() - 13.5) < 1.5  # centred by mass
    assert abs((cols * ink).sum() / ink.sum() - 13.5) < 1.5
    # an image of the network's size is used as it is (inverted if on light paper)
    mnist_like = (_digit_image()[0] * 255).astype(np.uint8)
    Image.fromarray(mnist_like).save(tmp_path / "a.png")
    Image.fromarray(255 - mnist_like).save(tmp_path / "b.png")
    np.testing.assert_allclose(image_to_input(tmp_path / "a.png", [1, 28, 28])[0],
                               mnist_like / 255, atol=1e-6)
    np.testing.assert_allclose(image_to_input(tmp_path / "b.png", [1, 28, 28])[0],
                               mnist_like / 255, atol=1e-6)
    small = image_to_input(tmp_path / "seven.png", [1, 8, 8])  # the scikit-learn digits
    assert small.shape == (1, 8, 8) and abs(small.max() - 1) < 1e-6
    assert small[0, 0].max() > 0 and small[0, -1].max() > 0  # the ink fills the height
    Image.new("L", (40, 40), 200).save(tmp_path / "blank.png")
    with pytest.raises(ValueError, match="no digit"):
        image_to_input(tmp_path / "blank.png", [1, 28, 28])


def test_cli_explains_a_trained_checkpoint(tmp_path, data_dir, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--dataset", "mnist", "--data-root", str(data_dir), "--model",
                 "lenet5", "--epochs", "1", "--train-limit", "64", "--batch-size", "32",
                 "--val-fraction", "0", "--no-progress", "--out", str(run)]) == 0
    _paper_digit(tmp_path / "seven.png")
    capsys.readouterr()
    out = tmp_path / "explained"
    assert main(["explain", str(run / "last.safetensors"), str(tmp_path / "seven.png"),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("saliency", "grad_cam", "filters", "feature_maps"):
        _not_blank(out / f"{name}.png")
        assert str(out / f"{name}.png") in printed
    # the printed prediction is the checkpoint's model's on the converted image
    model, config = load_checkpoint_model(run / "last.safetensors")
    with rb.no_grad():
        logits = model(rb.tensor(image_to_input(tmp_path / "seven.png", [1, 28, 28])[None]))
    prediction = int(np.argmax(logits.numpy()))
    assert f"prediction {prediction} " in printed

    other = str((prediction + 1) % 10)
    assert main(["explain", str(run / "last.safetensors"), str(tmp_path / "seven.png"),
                 "--target", other, "--out", str(out)]) == 0
    assert f"explaining class {other} " in capsys.readouterr().out
    missing = tmp_path / "missing.safetensors"
    assert main(["explain", str(missing), str(tmp_path / "seven.png")]) == 1
    assert "no checkpoint" in capsys.readouterr().err


# ------------------------------------------- integrated gradients, occlusion, sanity
def test_integrated_gradients_match_torch_and_are_complete() -> None:
    ours, theirs = _tiny_pair()
    image = _image()
    result = integrated_gradients(ours, image, target=2, steps=8)
    alphas = (torch.arange(8, dtype=torch.float32) + 0.5) / 8
    x = torch.tensor(image[None])
    points = (alphas.reshape(-1, 1, 1, 1) * x).requires_grad_()
    (grad,) = torch.autograd.grad(theirs(points)[:, 2].sum(), points)
    np.testing.assert_allclose(result, (x[0] * grad.mean(0)).numpy(), rtol=1e-4, atol=1e-6)
    # completeness: the attributions add up to score(x) - score(baseline)
    model = lenet5()
    digit = np.random.default_rng(3).random((1, 28, 28)).astype(np.float32)
    baseline = np.full_like(digit, 0.5)
    attributions = integrated_gradients(model, digit, target=4, baseline=baseline, steps=100)
    with rb.no_grad():
        scores = model(rb.tensor(np.stack([digit, baseline])))[:, 4].numpy()
    assert attributions.sum() == pytest.approx(scores[0] - scores[1], rel=0.02, abs=1e-4)


def test_integrated_gradients_of_a_linear_model_are_input_times_weight() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 4))
    image = _image((2, 3, 3))
    result = integrated_gradients(model, image, target=1, steps=5)
    weight = model[1].weight.detach().numpy()[1].reshape(2, 3, 3)
    np.testing.assert_allclose(result, image * weight, rtol=1e-5, atol=1e-7)


def test_occlusion_of_a_linear_model_by_hand() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    image = _image((1, 4, 4), seed=2)
    result = occlusion(model, image, target=0, window=2, stride=2)
    contribution = image[0] * model[1].weight.detach().numpy()[0].reshape(4, 4)
    # four disjoint 2x2 patches: each pixel's drop is its patch's summed contribution
    blocks = contribution.reshape(2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(result, np.kron(blocks, np.ones((2, 2))), rtol=1e-5, atol=1e-6)
    # overlapping windows: a pixel's value is the mean over the windows covering it
    overlapping = occlusion(model, image, target=0, window=3, stride=1)
    corner = contribution[:3, :3].sum()  # only the first window covers pixel (0, 0)
    assert overlapping[0, 0] == pytest.approx(corner, rel=1e-5)


def _trained_digits_cnn() -> nn.Module:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = rb.tensor((digits.data[:600] / 16).astype(np.float32).reshape(-1, 1, 8, 8))
    y = rb.tensor(digits.target[:600]).long()
    rb.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 64, 10))
    optimizer = rb.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        for i in range(0, 600, 50):
            optimizer.zero_grad()
            rb.nn.functional.cross_entropy(model(x[i:i + 50]), y[i:i + 50]).backward()
            optimizer.step()
    return model


def test_randomization_check_separates_real_explanations_from_edge_detectors() -> None:
    model = _trained_digits_cnn()
    from sklearn.datasets import load_digits

    image = (load_digits().data[700] / 16).astype(np.float32).reshape(1, 8, 8)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    rng_before = rb.get_rng_state()
    for method in (saliency, grad_cam, occlusion):
        check = randomization_check(model, image, method=method)
        assert check.layers == ["3", "0"] and len(check.correlations) == 2
        assert check.passed, (method.__name__, check.correlations)
    # integrated gradients from a black baseline are (x - 0) times a gradient: on a sparse
    # digit the ink decides most of the map whatever the weights (Adebayo et al. found the
    # same for gradient x input); the check says so
    assert not randomization_check(model, image, method=integrated_gradients).passed
    # an "explanation" that only looks at the image does not change: the check catches it
    blind = randomization_check(model, image, method=lambda m, x, k: x.detach().numpy()[0, 0])
    assert blind.correlations == [pytest.approx(1.0)] * 2 and not blind.passed
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert rb.equal(rb.get_rng_state(), rng_before)
