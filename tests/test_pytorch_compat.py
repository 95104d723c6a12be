"""One PyTorch-style training script, run unchanged under torch and under rosenblatt.

Only the import lines differ; both runs must learn the digits (the promise of the API).
"""

import re
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent('''
    import {lib} as torch
    import {lib}.nn as nn
    import {lib}.nn.functional as F
    import {lib}.optim as optim
    from {lib}.optim.lr_scheduler import StepLR
    from {lib}.utils.data import DataLoader, TensorDataset, random_split
    from sklearn.datasets import load_digits

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.dropout = nn.Dropout(0.1)
            self.fc1 = nn.Linear(8 * 4 * 4, 64)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)
            x = self.dropout(torch.flatten(x, 1))
            return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)

    torch.manual_seed(1)
    digits = load_digits()
    X = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    train_set, test_set = random_split(TensorDataset(X, y), [0.8, 0.2],
                                       generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)
    model = Net()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(3):
        model.train()
        for data, target in train_loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
        scheduler.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            pred = model(data).argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    accuracy = correct / len(test_loader.dataset)
    model.load_state_dict(model.state_dict())
''')


@pytest.mark.parametrize("lib", ["torch", "rosenblatt"])
def test_the_same_script_learns_under_both_libraries(lib):
    namespace: dict = {}
    exec(compile(SCRIPT.format(lib=lib), f"<script with {lib}>", "exec"), namespace)
    assert namespace["accuracy"] >= 0.93, (lib, namespace["accuracy"])


# ---------------------------------------------------------------- whole PyTorch programs
# tests/pytorch_programs/ holds ordinary PyTorch programs (the styles of PyTorch's own
# tutorials: autograd by hand, a custom autograd.Function, nn from scratch, an LSTM language
# model, a Transformer classifier). Each runs as written under torch, and under rosenblatt
# with nothing changed but its import lines.
PROGRAMS = Path(__file__).parent / "pytorch_programs"


def with_rosenblatt_imports(source: str) -> str:
    """The program with `torch` replaced by `rosenblatt` in its import lines only."""
    lines = []
    for line in source.splitlines():
        if line == "import torch":
            line = "import rosenblatt as torch"
        else:
            line = re.sub(r"^(from|import) torch(?=[. ])", r"\1 rosenblatt", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _polynomial(ns: dict) -> None:
    assert ns["manual_loss"] < 50 and ns["function_loss"] < 10 and ns["sequential_loss"] < 20
    assert abs(ns["cubic"] - (-0.094)) < 0.01  # the x^3 coefficient of the sine fit
    assert ns["dynamic_loss"] < ns["dynamic_start"] / 2
    assert ns["names"] == ["a", "b", "c", "d"]


def _nn_from_scratch(ns: dict) -> None:
    assert ns["scratch_accuracy"] > 0.8 and ns["module_accuracy"] > 0.8
    assert ns["cnn_accuracy"] > 0.7 and ns["n_params"] == 3930


def _char_lstm(ns: dict) -> None:
    assert ns["final_loss"] < 0.3, ns["final_loss"]  # the 45-character text is memorised
    assert len(ns["sample"]) == 41 and set(ns["sample"]) <= set(ns["chars"])


def _transformer_classifier(ns: dict) -> None:
    assert ns["accuracy"] > 0.95 and ns["accuracy"] > ns["base"] + 0.1, ns["accuracy"]


CHECKS = {"polynomial": _polynomial, "nn_from_scratch": _nn_from_scratch,
          "char_lstm": _char_lstm, "transformer_classifier": _transformer_classifier}


def test_every_program_has_a_check() -> None:
    assert sorted(p.stem for p in PROGRAMS.glob("*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("lib", ["torch", "rosenblatt"])
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_pytorch_program_runs_and_learns(name: str, lib: str) -> None:
    source = (PROGRAMS / f"{name}.py").read_text()
    if lib == "rosenblatt":
        source = with_rosenblatt_imports(source)
        assert "import torch" not in source and "from torch" not in source
    namespace: dict = {"__name__": f"{name}_under_{lib}"}
    exec(compile(source, f"{name}.py ({lib})", "exec"), namespace)
    CHECKS[name](namespace)
