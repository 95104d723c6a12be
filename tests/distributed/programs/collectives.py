"""Every collective once on known per-rank inputs; results to OUT/rank<r>.npz."""

import sys

import numpy as np

import rosenblatt as torch
import rosenblatt.distributed as dist
from rosenblatt.utils.data.distributed import DistributedSampler


def mine(rank: int, salt: int) -> np.ndarray:
    """Rank `rank`'s input number `salt` (the test makes the same ones)."""
    return np.random.default_rng(10 * rank + salt).standard_normal((3, 4))


dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
out = {}
t = torch.tensor(mine(rank, 0))
dist.broadcast(t, src=1)
out["broadcast"] = t.numpy()
for name in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
    t = torch.tensor(mine(rank, 1))
    dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
    out[f"all_reduce_{name}"] = t.numpy()
t = torch.tensor(mine(rank, 1)).t()  # not contiguous, and asynchronous
work = dist.all_reduce(t, async_op=True)
work.wait()
out["all_reduce_async_transposed"] = t.numpy()
t = torch.tensor([rank + 1, 10 * rank], dtype=torch.int64)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
out["all_reduce_int_max"] = t.numpy()
gathered = [torch.zeros(3, 4, dtype=torch.float64) for _ in range(world)]
dist.all_gather(gathered, torch.tensor(mine(rank, 2)))
out["all_gather"] = np.stack([g.numpy() for g in gathered])
whole = torch.zeros(3 * world, 4, dtype=torch.float64)
dist.all_gather_into_tensor(whole, torch.tensor(mine(rank, 2)))
out["all_gather_into_tensor"] = whole.numpy()
t = torch.zeros(3, 4, dtype=torch.float64)
dist.reduce_scatter(t, [torch.tensor(mine(rank, 10 + i)) for i in range(world)])
out["reduce_scatter"] = t.numpy()
t = torch.zeros(3, 4, dtype=torch.float64)
dist.reduce_scatter_tensor(t, torch.tensor(np.concatenate([mine(rank, 10 + i)
                                                           for i in range(world)])))
out["reduce_scatter_tensor"] = t.numpy()
t = torch.tensor(mine(rank, 4))
dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
out["reduce"] = t.numpy()
if rank == 0:
    gathered = [torch.zeros(3, 4, dtype=torch.float64) for _ in range(world)]
    dist.gather(torch.tensor(mine(rank, 2)), gathered, dst=0)
    out["gather"] = np.stack([g.numpy() for g in gathered])
else:
    dist.gather(torch.tensor(mine(rank, 2)), dst=0)
t = torch.zeros(3, 4, dtype=torch.float64)
pieces = [torch.tensor(mine(1, 20 + i)) for i in range(world)] if rank == 1 else None
dist.scatter(t, pieces, src=1)
out["scatter"] = t.numpy()
if rank == 0:
    dist.send(torch.tensor(mine(0, 3)), dst=1)
else:
    t = torch.zeros(3, 4, dtype=torch.float64)
    out["recv_from"] = np.array(dist.recv(t))
    out["recv"] = t.numpy()
t = torch.tensor(mine(rank, 5))  # isend/irecv both ways at once: no deadlock
back = torch.zeros(3, 4, dtype=torch.float64)
works = [dist.isend(t, dst=1 - rank), dist.irecv(back, src=1 - rank)]
for work in works:
    work.wait()
out["irecv"] = back.numpy()
group = dist.new_group([1])
t = torch.tensor(mine(rank, 6))
if rank == 1:
    dist.all_reduce(t, group=group)  # a group of one: unchanged
    out["group_size"] = np.array(dist.get_world_size(group))
else:
    assert group is dist.GroupMember.NON_GROUP_MEMBER
out["group_all_reduce"] = t.numpy()
objects = [None]
if rank == 0:
    objects = [{"epoch": 3}]
dist.broadcast_object_list(objects, src=0)
out["object_epoch"] = np.array(objects[0]["epoch"])
out["sampler"] = np.array(list(DistributedSampler(range(11), seed=3)))  # rank, size: MPI's
dist.barrier()
np.savez(f"{sys.argv[1]}/rank{rank}.npz", **out)
dist.destroy_process_group()
