"""`torchvision.datasets` for Rosenblatt: image data sets with torchvision's names and layout.

Images come as float tensors (C, H, W) in [0, 1], not PIL images; `transforms.ToTensor()`
passes them through, so torchvision pipelines work unchanged.
"""

from ...datasets.mnist import MNIST, FashionMNIST
from .fakedata import FakeData

__all__ = ["MNIST", "FashionMNIST", "FakeData"]
