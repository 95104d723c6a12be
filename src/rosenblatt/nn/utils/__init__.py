"""`rosenblatt.nn.utils`: gradient clipping, parameter/vector conversion, packed sequences."""

from . import prune, rnn
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
