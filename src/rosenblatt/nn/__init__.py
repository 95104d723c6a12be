"""`rosenblatt.nn`: layers, losses, containers and the Module base class (`torch.nn`).

The layer classes live in `nn/modules/` at torch's module paths (`nn.modules.rnn.LSTM`) and
are listed once, in `nn/modules/__init__.py`; every class there is public here.
"""

from . import functional, init, modules, parallel, parameter, utils
from .modules import *  # noqa: F403
from .parallel import DataParallel
from .parameter import Parameter
