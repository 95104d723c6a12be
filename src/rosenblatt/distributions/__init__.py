"""`torch.distributions` (a first part): Normal, Uniform, Bernoulli, Categorical, with
sample/rsample, log_prob, entropy, mean/variance, and kl_divergence between same kinds.
PyTorch's argument validation (validate_args) is not performed."""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "kl_divergence",
           "register_kl"]
