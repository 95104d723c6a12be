"""Data-parallel scaling of a training step: `rosenblatt launch --nproc-per-node N
benchmarks/bench_distributed.py --model mlp|cnn` (weak scaling: --batch samples per process).

Each rank times --steps DDP steps (forward, backward with the gradient all-reduce, SGD) after
3 warm-up steps; rank 0 prints the whole job's samples per second. Efficiency is
throughput(N) / (N * throughput(1)) at the same threads per process (OMP_NUM_THREADS).
"""

import argparse
import os
import time

import rosenblatt as torch
import rosenblatt.distributed as dist
from rosenblatt.models import CNN3, MLP

parser = argparse.ArgumentParser()
parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--steps", type=int, default=20)
args = parser.parse_args()
dist.init_process_group("gloo")
world = dist.get_world_size()
torch.manual_seed(0)
model = MLP() if args.model == "mlp" else CNN3()
ddp = torch.nn.parallel.DistributedDataParallel(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01)
x = torch.randn(args.batch, 784) if args.model == "mlp" else torch.randn(args.batch, 1, 28, 28)
y = torch.randint(0, 10, (args.batch,))
loss_fn = torch.nn.CrossEntropyLoss()


def step() -> None:
    optimizer.zero_grad()
    loss_fn(ddp(x), y).backward()
    optimizer.step()


for _ in range(3):
    step()
dist.barrier()
start = time.perf_counter()
for _ in range(args.steps):
    step()
dist.barrier()
seconds = time.perf_counter() - start
if dist.get_rank() == 0:
    rate = world * args.batch * args.steps / seconds
    print(f"{args.model} processes={world} threads/process={os.environ.get('OMP_NUM_THREADS')} "
          f"batch/process={args.batch} step={1000 * seconds / args.steps:.1f} ms "
          f"throughput={rate:.0f} samples/s", flush=True)
