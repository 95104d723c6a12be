"""DDP training on this rank's half of each batch; saves the parameters to OUT/rank<r>.npz.

Every rank starts from a different initialisation (seeded by rank): DDP must broadcast rank
0's. Steps: 3 synchronised SGD steps, then one step accumulated over 2 micro-batches with
no_sync() on the first. MODEL is 'mlp' (Linear-Tanh-Linear) or 'bn' (SyncBatchNorm inside).
"""

import sys

import numpy as np

import rosenblatt as torch
import rosenblatt.distributed as dist
from rosenblatt import nn

out, kind = sys.argv[1], sys.argv[2]
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(100 + rank)
layers = [nn.Linear(5, 6), nn.BatchNorm1d(6) if kind == "bn" else nn.Tanh(), nn.Linear(6, 3)]
model = nn.Sequential(*layers).double()
if kind == "bn":
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
ddp = nn.parallel.DistributedDataParallel(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
data = np.random.default_rng(7).standard_normal((6, 8, 5))
targets = np.random.default_rng(8).standard_normal((6, 8, 3))


def loss_of(step: int, rows: slice) -> torch.Tensor:
    x = torch.tensor(data[step][rows])
    y = torch.tensor(targets[step][rows])
    return ((ddp(x) - y) ** 2).mean()


share = 8 // world
mine = slice(rank * share, (rank + 1) * share)
for step in range(3):
    optimizer.zero_grad()
    loss_of(step, mine).backward()
    optimizer.step()
optimizer.zero_grad()
half = share // 2
with ddp.no_sync():
    loss_of(3, slice(rank * share, rank * share + half)).backward()
loss_of(3, slice(rank * share + half, (rank + 1) * share)).backward()
optimizer.step()
state = {k: v.detach().numpy() for k, v in ddp.state_dict().items()}
np.savez(f"{out}/rank{rank}.npz", **state)
dist.destroy_process_group()
