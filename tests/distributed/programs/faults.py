"""Rank 1 misbehaves (MODE: raise, kill, early, stuck, params) while rank 0 waits on it."""

import datetime
import os
import signal
import sys
import time

import rosenblatt as torch
import rosenblatt.distributed as dist
from rosenblatt import nn

mode = sys.argv[1]
rank = int(os.environ["RANK"])
if mode == "early" and rank == 1:
    raise RuntimeError("rank 1 fails before joining")
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=2))
if rank == 1:
    if mode == "raise":
        raise RuntimeError("boom on rank 1")
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "stuck":
        time.sleep(60)
if mode == "params":
    nn.parallel.DistributedDataParallel(nn.Linear(3, 2 + rank))
dist.all_reduce(torch.ones(3))
print("rank", rank, "finished")
