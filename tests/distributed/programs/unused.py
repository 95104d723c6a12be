"""A model whose `spare` layer forward never uses: with find_unused_parameters the used
gradients are averaged; without it the next forward says the reduction never finished."""

import sys

import numpy as np

import rosenblatt as torch
import rosenblatt.distributed as dist
from rosenblatt import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used, self.spare = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.used(x)


dist.init_process_group("gloo")
rank = dist.get_rank()
find = sys.argv[1] == "find"
ddp = nn.parallel.DistributedDataParallel(Net(), find_unused_parameters=find)
x = torch.full((1, 2), float(rank + 1))
ddp(x).sum().backward()
if find:
    grad = ddp.module.used.weight.grad.numpy()
    np.testing.assert_allclose(grad, [[1.5, 1.5]])  # mean of rank 0's 1s and rank 1's 2s
    assert ddp.module.spare.weight.grad is None or not ddp.module.spare.weight.grad.any()
    ddp(x).sum().backward()  # and the next iteration goes on
    print(f"rank {rank} averaged", flush=True)
else:
    try:
        ddp(x)
    except RuntimeError as e:
        print(f"rank {rank} refused: {e}", flush=True)
