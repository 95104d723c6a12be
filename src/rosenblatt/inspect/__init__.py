"""Looking inside networks: `summary` (costs per layer) and `trace` (one example, step by step)."""

from .summary import (
    MAC_RULES,
    LayerSummary,
    ModelSummary,
    mac_rule,
    optimizer_state_copies,
    register_macs,
    summary,
)
from .trace import Trace, TraceStep, trace

__all__ = [
    "MAC_RULES", "LayerSummary", "ModelSummary", "mac_rule", "optimizer_state_copies",
    "register_macs", "summary", "Trace", "TraceStep", "trace",
]
