"""`rosenblatt text train|generate|attention`: character language models from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..cli import (
    add_command_group,
    add_data_root,
    add_run_options,
    positive_float,
    positive_int,
)
from ..utils.threads import limit_blas_threads


def register(subparsers: Any) -> None:
    """Add `text` with its train, generate and attention subcommands."""
    sub = add_command_group(subparsers, "text", "text_command",
                            help="character-level language models (LSTM, GPT)",
                            description="Train and sample character language models.")
    t = sub.add_parser("train", help="train an LSTM or GPT on a text file",
                       description="Train a character language model; the checkpoint goes to "
                       "runs/text-MODEL.safetensors unless --out says otherwise.")
    t.add_argument("--corpus", default=None,
                   help="text file (default: tinyshakespeare/input.txt in the data root)")
    add_data_root(t)
    t.add_argument("--model", choices=("lstm", "gpt"), default="lstm", help="the network")
    t.add_argument("--steps", type=positive_int, default=2000, help="optimizer steps")
    t.add_argument("--minutes", type=positive_float, default=None,
                   help="stop after this many minutes (time budget)")
    t.add_argument("--batch-size", type=positive_int, default=32, help="windows per step")
    t.add_argument("--seq-len", type=positive_int, default=64,
                   help="characters per window (TBPTT length / GPT context)")
    t.add_argument("--lr", type=positive_float, default=None,
                   help="peak learning rate (3e-3 LSTM, 1e-3 GPT)")
    t.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    t.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip (0: off)")
    t.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay")
    t.add_argument("--eval-every", type=positive_int, default=200,
                   help="steps between validation losses")
    t.add_argument("--sample-every", type=int, default=500,
                   help="steps between printed samples (0: never)")
    t.add_argument("--embed-dim", type=positive_int, default=64, help="LSTM embedding width")
    t.add_argument("--hidden-size", type=positive_int, default=256, help="LSTM hidden size")
    t.add_argument("--layers", type=positive_int, default=None,
                   help="LSTM layers (2) / GPT blocks (4)")
    t.add_argument("--heads", type=positive_int, default=4, help="GPT attention heads")
    t.add_argument("--width", type=positive_int, default=128, help="GPT width")
    t.add_argument("--dropout", type=float, default=0.0, help="dropout probability")
    t.add_argument("--out", default=None,
                   help="checkpoint path (default runs/text-MODEL.safetensors)")
    add_run_options(t, progress=True)
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("generate", help="sample text from a checkpoint",
                       description="Stream characters sampled from a `text train` checkpoint.")
    g.add_argument("checkpoint", help="e.g. runs/text-gpt.safetensors")
    g.add_argument("--prompt", default="", help="text the sample continues")
    g.add_argument("--max-new-tokens", "-n", type=positive_int, default=500,
                   help="characters to sample")
    g.add_argument("--temperature", type=positive_float, default=0.8,
                   help="below 1: safer choices, above 1: more varied")
    g.add_argument("--top-k", type=positive_int, default=None,
                   help="sample among the k likeliest characters only (default: all)")
    g.add_argument("--top-p", type=positive_float, default=None,
                   help="sample among the likeliest characters covering this probability")
    g.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    g.set_defaults(func=cmd_generate)

    a = sub.add_parser("attention", help="save a GPT checkpoint's attention maps as a PNG")
    a.add_argument("checkpoint", help="a GPT checkpoint of `text train --model gpt`")
    a.add_argument("--text", required=True, help="the text to attend over")
    a.add_argument("--out", default="attention.png", help="the PNG to write")
    a.set_defaults(func=cmd_attention)


def cmd_train(args: argparse.Namespace) -> int:
    """Train and keep the best checkpoint by validation loss."""
    limit_blas_threads(args.threads)
    from .data import default_corpus
    from .train import TrainConfig, train_text

    corpus = Path(args.corpus) if args.corpus else default_corpus(args.data_root)
    if not corpus.is_file():
        raise FileNotFoundError(f"no text corpus at {corpus}: pass --corpus FILE, or "
                                "--data-root FOLDER (holding tinyshakespeare/input.txt), or "
                                "set ROSENBLATT_DATA")
    text = corpus.read_text(encoding="utf-8")
    if args.model == "lstm":
        model_args = {"embed_dim": args.embed_dim, "hidden_size": args.hidden_size,
                      "num_layers": args.layers or 2, "dropout": args.dropout}
    else:
        model_args = {"n_layer": args.layers or 4, "n_head": args.heads, "n_embd": args.width,
                      "dropout": args.dropout}
    out = args.out or f"runs/text-{args.model}.safetensors"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig(model=args.model, steps=args.steps, minutes=args.minutes,
                      batch_size=args.batch_size, seq_len=args.seq_len,
                      lr=args.lr or (3e-3 if args.model == "lstm" else 1e-3),
                      weight_decay=args.weight_decay, warmup=args.warmup, clip=args.clip,
                      eval_every=args.eval_every, sample_every=args.sample_every,
                      seed=args.seed, checkpoint=out, model_args=model_args)
    print(f"training {args.model} on {corpus} ({len(text):,} characters), checkpoint {out}")
    result = train_text(text, cfg, progress=not args.no_progress)
    print(f"best validation loss {result['best_val']:.4f} in {result['seconds']:.0f} s; "
          f"saved {out}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Stream characters to stdout as they are sampled."""
    from .generate import stream
    from .train import load_checkpoint

    model, tokenizer, _ = load_checkpoint(args.checkpoint)
    sys.stdout.write(args.prompt)
    for ch in stream(model, tokenizer, args.prompt, args.max_new_tokens, args.temperature,
                     args.top_k, args.top_p, args.seed):
        sys.stdout.write(ch)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    """Write the attention-map grid of a GPT checkpoint."""
    from .models import GPT
    from .plots import plot_attention
    from .train import load_checkpoint

    model, tokenizer, _ = load_checkpoint(args.checkpoint)
    if not isinstance(model, GPT):
        raise ValueError("attention maps need a GPT checkpoint (this one is an LSTM)")
    print(f"saved {plot_attention(model, tokenizer, args.text, args.out)}")
    return 0
