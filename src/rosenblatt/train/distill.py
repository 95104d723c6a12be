"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a student learns from a teacher's
softened outputs as well as from the labels.

loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
       + (1 - alpha) * cross_entropy(student, labels)

The T^2 keeps the soft term's gradients on the scale of the hard term's as T grows. The
teacher runs on the same batch from a forward hook on the student (training mode only), so
the training loop and the student's checkpoint stay as they are; in evaluation the loss is
plain cross-entropy. `rosenblatt train --teacher` writes a model card beside the student's
checkpoint (`best.card.json`): its measured accuracy, the teacher's, T and alpha.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


def distillation_loss(student: Any, teacher: Any, target: Any, temperature: float,
                      alpha: float) -> Any:
    """Hinton et al.'s loss: (N, C) student and teacher logits, (N,) labels -> ()."""
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1),
                    F.softmax(teacher / temperature, dim=1), reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student, target)


class DistillationLoss(nn.Module):
    """A loss_fn(output, target) for the Trainer that distills `teacher` into the student
    it is attached to (`attach(student)`)."""

    def __init__(self, teacher: Any, temperature: float = 4.0, alpha: float = 0.9) -> None:
        super().__init__()
        if temperature <= 0 or not 0 <= alpha <= 1:
            raise ValueError(f"distillation: temperature must be > 0 and alpha in [0, 1], got "
                             f"{temperature}, {alpha}")
        object.__setattr__(self, "teacher", teacher.eval())  # not a submodule: not trained
        self.temperature, self.alpha = float(temperature), float(alpha)
        self._pending: tuple[Any, Any] | None = None  # (student output, teacher logits)

    def attach(self, student: Any) -> Any:
        """Run the teacher on each training batch the student sees; returns the hook handle."""
        def hook(module: Any, args: tuple, output: Any) -> None:
            if module.training:
                with rb.no_grad():
                    self._pending = (output, self.teacher(*args))
        return student.register_forward_hook(hook)

    def forward(self, output: Any, target: Any) -> Any:
        """Distillation loss for the batch the teacher saw, else cross-entropy."""
        pending, self._pending = self._pending, None
        if pending is None or pending[0] is not output:
            return F.cross_entropy(output, target)
        return distillation_loss(output, pending[1], target, self.temperature, self.alpha)


def write_distilled_card(out: Path, config: dict) -> Path:
    """The card of a distilled run's checkpoint in `out` (best, else last): the student's
    test accuracy (result.json) and how it was made (teacher, its accuracy, T, alpha)."""
    from ..ao.card import source_card, write_card
    from .cli import load_checkpoint

    file = out / "best.safetensors"
    file = file if file.is_file() else out / "last.safetensors"
    recipe = config["distillation"]
    _, teacher_config, teacher = load_checkpoint(recipe["teacher"])
    made = {"by": "rosenblatt train --teacher (Hinton et al. 2015 distillation)", **recipe,
            "teacher_architecture": source_card(teacher, teacher_config).get("architecture"),
            "teacher_test_accuracy": source_card(teacher, teacher_config).get("test_accuracy")}
    return write_card(file, file, config, made)
