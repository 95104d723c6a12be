"""`torchvision.datasets` for Rosenblatt: image data sets with torchvision's names and layout.

Images come as float tensors (C, H, W) in [0, 1], not PIL images; `transforms.ToTensor()`
passes them through, so torchvision pipelines work unchanged.
"""

from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "FakeData",
           "DatasetFolder", "ImageFolder"]
