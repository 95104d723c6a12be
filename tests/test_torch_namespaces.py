"""torch.version, torch.distributed, torch.jit and torch.utils.checkpoint: truthful answers,
documented pass-throughs, and errors at the call for what is missing."""

from __future__ import annotations

import pytest

import rosenblatt as rb


def test_version_says_no_cuda_toolkit() -> None:
    assert rb.version.__version__ == rb.__version__ and rb.version.cuda is None


def test_distributed_without_a_process_group_says_so_as_pytorch() -> None:
    assert rb.distributed.is_initialized() is False  # (tests/distributed: the collectives)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        rb.distributed.get_rank()
    with pytest.raises(ValueError, match="'gloo' and 'mpi' run over MPI"):
        rb.distributed.init_process_group("nccl")


def test_jit_script_and_trace_run_eagerly() -> None:
    @rb.jit.script
    def double(x):
        return x * 2

    layer = rb.nn.Linear(2, 1)
    assert rb.jit.trace(layer, rb.ones(1, 2)) is layer
    assert double(rb.ones(2)).tolist() == [2.0, 2.0]
    assert rb.jit.ignore(double) is double and rb.jit.ignore(drop=True)(double) is double
    assert rb.jit.is_scripting() is False
    with pytest.raises(NotImplementedError, match="TorchScript"):
        rb.jit.save(layer, "m.pt")


def test_checkpoint_gives_the_same_values_and_gradients() -> None:
    from rosenblatt.utils.checkpoint import checkpoint, checkpoint_sequential

    net = rb.nn.Sequential(rb.nn.Linear(3, 4), rb.nn.Tanh(), rb.nn.Linear(4, 1))
    x = rb.randn(5, 3, requires_grad=True)
    checkpoint(net, x, use_reentrant=False).sum().backward()
    through_checkpoint = x.grad.clone()
    x.grad = None
    net(x).sum().backward()
    assert rb.allclose(x.grad, through_checkpoint)
    assert rb.allclose(checkpoint_sequential(net, 2, x), net(x))
    assert rb.utils.checkpoint.checkpoint is checkpoint
