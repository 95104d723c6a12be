"""An unmodified PyTorch DDP program (import torch): torchrun's environment, a sampler, DDP."""

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: N817 - as programs write it
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

dist.init_process_group(backend="gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])
torch.manual_seed(0)
data = TensorDataset(torch.randn(12, 3), torch.randn(12, 1))
loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, shuffle=True))
model = DDP(torch.nn.Linear(3, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
weights = [torch.zeros(3) for _ in range(world)]
dist.all_gather(weights, model.module.weight.detach().reshape(3))
assert all(torch.equal(w, weights[0]) for w in weights)  # the replicas stayed identical
print(f"rank {rank} of {world} local {os.environ['LOCAL_RANK']} "
      f"elastic {dist.is_torchelastic_launched()} batches {len(loader)}", flush=True)
dist.destroy_process_group()
