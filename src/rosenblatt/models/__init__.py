"""`rosenblatt.models`: ready-made networks (LeNet-5, a 3-block CNN, small ResNets, an MLP) and
generative models (autoencoders, a VAE, a DCGAN, a diffusion model)."""

from .autoencoder import Autoencoder
from .cnn import CNN3, cnn3
from .dcgan import DCGAN
from .ddpm import DDPM, UNet
from .lenet import LeNet5, lenet5
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet, resnet8, resnet20
from .vae import VAE

__all__ = ["CNN3", "cnn3", "LeNet5", "lenet5", "MLP", "BasicBlock", "ResNet", "resnet",
           "resnet8", "resnet20", "Autoencoder", "VAE", "DCGAN", "DDPM", "UNet"]
