"""The v1 transforms added for torchvision programs: Resize (antialiased, as torchvision on
tensors), Pad, Grayscale, RandomResizedCrop, dtype conversions, PIL in and out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.vision import transforms as T


@pytest.mark.parametrize(("size", "expected"), [(16, (16, 24)), ((10, 7), (10, 7)),
                                                ([12], (12, 18)), (40, (40, 60))])
def test_resize_matches_torchvision_on_tensors(size, expected) -> None:
    x = rb.rand(3, 20, 30)
    out = T.Resize(size)(x)
    assert tuple(out.shape[-2:]) == expected
    # torchvision's tensor Resize is interpolate(bilinear, antialias=True, align_corners=False)
    ref = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=expected,
                                          mode="bilinear", antialias=True, align_corners=False)
    np.testing.assert_allclose(out.numpy(), ref[0].numpy(), atol=1e-5)


def test_resize_max_size_and_batches() -> None:
    out = T.Resize(10, max_size=12)(rb.rand(2, 1, 10, 20))
    assert out.shape == (2, 1, 6, 12)


def test_pad_and_grayscale_match_torch_math() -> None:
    x = rb.rand(3, 4, 5)
    padded = T.Pad((1, 2), fill=0.5)(x)
    assert padded.shape == (3, 8, 7) and float(padded[0, 0, 0]) == 0.5
    np.testing.assert_array_equal(T.Pad([1, 0, 2, 3])(x).numpy()[:, :4, 1:6], x.numpy())
    gray = T.Grayscale(3)(x).numpy()
    luma = 0.299 * x.numpy()[0] + 0.587 * x.numpy()[1] + 0.114 * x.numpy()[2]
    np.testing.assert_allclose(gray, np.stack([luma] * 3), rtol=1e-6)


def test_random_resized_crop_gives_the_size_and_stays_inside() -> None:
    crop = T.RandomResizedCrop(8, scale=(0.2, 0.5))
    for _ in range(20):
        top, left, h, w = crop.window(30, 40)
        assert 0 <= top and top + h <= 30 and 0 <= left and left + w <= 40
    assert crop(rb.rand(3, 30, 40)).shape == (3, 8, 8)


def test_dtype_conversions_and_pil_round_trip() -> None:
    pytest.importorskip("PIL")
    x = rb.tensor([[[0.0, 0.5, 1.0]]])
    as_bytes = T.ConvertImageDtype(rb.uint8)(x)
    assert as_bytes.dtype == rb.uint8 and as_bytes.tolist() == [[[0, 128, 255]]]
    assert T.ConvertImageDtype(rb.float32)(as_bytes).dtype == rb.float32
    image = T.ToPILImage()(rb.rand(3, 4, 6))
    assert image.size == (6, 4) and image.mode == "RGB"
    back = T.PILToTensor()(image)
    assert back.shape == (3, 4, 6) and back.dtype == rb.uint8
    # a PIL image given to a tensor transform is made a float tensor first
    assert T.Resize((2, 3))(image).shape == (3, 2, 3)


def test_random_combinators() -> None:
    rb.manual_seed(0)
    add_one = T.Lambda(lambda v: v + 1)
    assert T.RandomApply([add_one], p=1.0)(rb.zeros(1)).item() == 1.0
    assert T.RandomApply([add_one], p=0.0)(rb.zeros(1)).item() == 0.0
    assert T.RandomChoice([add_one], p=[1.0])(rb.zeros(1)).item() == 1.0
    assert T.RandomOrder([add_one, add_one])(rb.zeros(1)).item() == 2.0


def test_v1_names_are_all_there() -> None:
    for name in ("Compose", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop",
                 "RandomHorizontalFlip", "RandomRotation", "RandomAffine", "Pad", "Grayscale",
                 "RandomResizedCrop", "Lambda", "ToPILImage", "PILToTensor"):
        assert hasattr(T, name), name


def test_every_image_transform_accepts_a_pil_image() -> None:
    image_module = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = image_module.fromarray(pixels)
    expected = pixels.transpose(2, 0, 1) / 255.0
    cropped = T.CenterCrop(4)(image)
    assert isinstance(cropped, rb.Tensor) and cropped.shape == (3, 4, 4)
    np.testing.assert_allclose(cropped.numpy(), expected[:, 1:5, 2:6], rtol=1e-6)
    flipped = T.RandomHorizontalFlip(p=1.0)(image)
    np.testing.assert_allclose(flipped.numpy(), expected[:, :, ::-1], rtol=1e-6)
    pipeline = T.Compose([T.RandomCrop(5), T.Resize(3), T.ToTensor(), T.Normalize([0.5] * 3,
                                                                                [0.5] * 3)])
    assert pipeline(image).shape == (3, 3, 3)
    gray = image_module.fromarray(pixels[:, :, 0])
    assert T.CenterCrop(2)(gray).shape == (1, 2, 2)


def test_v2_pipeline_from_pil() -> None:
    image_module = pytest.importorskip("PIL.Image")
    from rosenblatt.vision.transforms import v2

    pixels = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(rb.float32, scale=True),
                           v2.Normalize([0.5] * 3, [0.5] * 3)])
    out = pipeline(image_module.fromarray(pixels))
    np.testing.assert_allclose(out.numpy(), pixels.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
    as_uint8 = v2.ToImage()(image_module.fromarray(pixels))
    assert as_uint8.dtype == rb.uint8 and v2.ToDtype(rb.float32)(as_uint8).max().item() > 1
    assert v2.RandomHorizontalFlip is T.RandomHorizontalFlip
