"""MNIST with a 784-512-256-10 MLP (ReLU, Dropout 0.2, Adam), written as a PyTorch script.

The loop is spelled out (zero_grad, forward, loss, backward, step); `rosenblatt train
--dataset mnist` does the same with checkpoints, early stopping and curves. Reads the IDX
files from --data (default: $ROSENBLATT_DATA/mnist).

    python examples/mnist_mlp.py [--epochs 10] [--limit N] [--data DIR]
"""

import argparse
import time

import rosenblatt as rb
import rosenblatt.nn as nn
from rosenblatt.datasets import MNIST
from rosenblatt.utils.data import DataLoader, Subset

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--limit", type=int, default=None, help="use the first N training images")
parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
args = parser.parse_args()

rb.manual_seed(0)
train_set = MNIST(args.data, train=True)
if args.limit:
    train_set = Subset(train_set, range(args.limit))
test_set = MNIST(args.data, train=False)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(256, 10),
)
optimizer = rb.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
scheduler = rb.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)


def test_accuracy() -> float:
    model.eval()
    correct = 0
    with rb.no_grad():
        for x, y in test_loader:
            correct += int((model(x).argmax(dim=1) == y).sum().item())
    model.train()
    return correct / len(test_set)


for epoch in range(1, args.epochs + 1):
    start, total, seen = time.perf_counter(), 0.0, 0
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    scheduler.step()
    print(f"epoch {epoch}: train loss {total / seen:.4f}, test accuracy "
          f"{test_accuracy():.2%} ({time.perf_counter() - start:.1f}s)")
