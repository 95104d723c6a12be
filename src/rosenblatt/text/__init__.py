"""`rosenblatt.text`: character-level language modelling.

tokenizer (CharTokenizer) -> data (windows, TBPTT streams) -> models (CharLSTM, GPT) ->
train (train_text, checkpoints) -> generate (sampling, streaming) -> plots (attention maps).
The `rosenblatt text ...` commands live in cli.py.
"""

from .data import CharWindowDataset, split_text, stream_batches
from .generate import generate, sample_next, stream
from .models import GPT, CharLSTM, KVCache, build_model
from .tokenizer import CharTokenizer
from .train import TrainConfig, load_checkpoint, save_checkpoint, train_text, warmup_cosine

__all__ = [
    "CharTokenizer", "CharWindowDataset", "stream_batches", "split_text", "CharLSTM", "GPT",
    "KVCache", "build_model", "generate", "stream", "sample_next", "TrainConfig", "train_text",
    "save_checkpoint", "load_checkpoint", "warmup_cosine",
]
