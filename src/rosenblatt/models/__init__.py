"""`rosenblatt.models`: ready-made networks (LeNet-5, a 3-block CNN, small ResNets, an MLP)."""

from .cnn import CNN3, cnn3
from .lenet import LeNet5, lenet5
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet, resnet8, resnet20

__all__ = ["CNN3", "cnn3", "LeNet5", "lenet5", "MLP", "BasicBlock", "ResNet", "resnet",
           "resnet8", "resnet20"]
