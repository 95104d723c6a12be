"""torchvision's architectures: parameter counts and state-dict keys as torchvision 0.28 has
them (the figures from its model documentation), so converted weights load by name."""

from __future__ import annotations

import pytest

import rosenblatt as rb
from rosenblatt.vision import models

# torchvision's published parameter counts and number of state-dict entries
KNOWN = {
    "resnet18": (11_689_512, 122), "resnet34": (21_797_672, 218), "resnet50": (25_557_032, 320),
    "mobilenet_v2": (3_504_872, 314), "squeezenet1_0": (1_248_424, 52),
    "squeezenet1_1": (1_235_496, 52),
    "alexnet": (61_100_840, 16), "vgg11": (132_863_336, 22), "vgg16": (138_357_544, 32),
}
BIG = {"alexnet", "vgg11", "vgg16"}  # hundreds of MB of weights to initialise


def _cases() -> list:
    return [pytest.param(name, marks=[pytest.mark.slow] if name in BIG else [])
            for name in KNOWN]


@pytest.mark.parametrize("name", _cases())
def test_parameter_count_and_state_dict_size_match_torchvision(name: str) -> None:
    model = getattr(models, name)()
    params, entries = KNOWN[name]
    assert sum(p.numel() for p in model.parameters()) == params
    assert len(model.state_dict()) == entries


def test_resnet_keys_are_torchvisions() -> None:
    keys = list(models.resnet18().state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked"]
    for key in ("layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias", "fc.weight"):
        assert key in keys
    bottleneck = models.resnet50().state_dict()
    assert bottleneck["layer1.0.conv3.weight"].shape == (256, 64, 1, 1)
    assert bottleneck["fc.weight"].shape == (1000, 2048)


def test_mobilenet_and_squeezenet_keys_are_torchvisions() -> None:
    keys = models.mobilenet_v2().state_dict()
    assert keys["features.1.conv.0.0.weight"].shape == (32, 1, 3, 3)  # depthwise, no expansion
    assert keys["features.2.conv.0.0.weight"].shape == (96, 16, 1, 1)
    assert keys["features.18.0.weight"].shape == (1280, 320, 1, 1)
    assert keys["classifier.1.weight"].shape == (1000, 1280)
    squeeze = models.squeezenet1_1().state_dict()
    assert squeeze["features.3.expand3x3.weight"].shape == (64, 16, 3, 3)
    assert squeeze["classifier.1.weight"].shape == (1000, 512, 1, 1)


def test_small_models_run_and_a_state_dict_reloads() -> None:
    x = rb.randn(2, 3, 64, 64)
    for build in (models.resnet18, models.squeezenet1_1, models.mobilenet_v2):
        model = build(num_classes=5).eval()
        with rb.no_grad():
            out = model(x)
        assert out.shape == (2, 5)
        again = build(num_classes=5).eval()
        again.load_state_dict(model.state_dict())
        with rb.no_grad():
            assert rb.allclose(again(x), out)


def test_pretrained_weights_are_refused_with_a_clear_message() -> None:
    with pytest.raises(NotImplementedError, match="does not download pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(NotImplementedError, match="does not download"):
        models.resnet18(pretrained=True)


def test_resnet_zero_init_residual_zeroes_the_last_norm_of_each_block() -> None:
    model = models.resnet18(zero_init_residual=True)
    assert float(model.layer1[0].bn2.weight.abs().sum()) == 0.0
    assert float(model.layer1[0].bn1.weight.sum()) == 64.0


def test_weights_enums_get_model_and_list_models_as_torchvision() -> None:
    assert "resnet18" in models.list_models() and "mobilenet_v2" in models.list_models()
    assert type(models.get_model("resnet18", num_classes=3).fc) is rb.nn.Linear
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_weight("ResNet50_Weights.DEFAULT") is models.ResNet50_Weights.IMAGENET1K_V2
    assert repr(models.ResNet18_Weights.DEFAULT) == "ResNet18_Weights.IMAGENET1K_V1"
    with pytest.raises(NotImplementedError, match="ResNet18_Weights.IMAGENET1K_V1"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet9000")
    # the preprocessing torchvision pairs with the weights: resize 256, crop 224, normalise
    image = rb.randint(0, 256, (3, 300, 400)).to(rb.uint8)
    out = models.ResNet18_Weights.IMAGENET1K_V1.transforms()(image)
    assert out.shape == (3, 224, 224) and out.dtype == rb.float32
    assert abs(float(out.mean()) - float(((image.float() / 255).mean() - 0.456) / 0.224)) < 0.1
