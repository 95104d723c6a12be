"""`rosenblatt generate train | sample | evaluate`: generative models on MNIST-like images."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from ..cli import (
    add_command_group,
    add_data_root,
    add_run_options,
    positive_float,
    positive_int,
    use_data_root,
)
from ..utils.threads import limit_blas_threads


class ModelFlag(NamedTuple):
    """A `generate train` flag that sets a model option; not given, the model's default holds."""

    models: tuple[str, ...]  # the models it applies to
    keyword: str  # the model's keyword argument
    settings: dict[str, Any]  # add_argument's, besides default=None


MODEL_FLAGS = {
    "kind": ModelFlag(("ae", "vae"), "kind", {
        "choices": ("dense", "conv"),
        "help": "ae/vae: dense or convolutional (ae: conv, vae: dense)"}),
    "latent": ModelFlag(("ae", "vae", "dcgan"), "latent_dim", {
        "type": positive_int, "help": "latent size (ae 16, vae 2, dcgan 100)"}),
    "noise": ModelFlag(("ae",), "noise", {
        "type": float, "help": "ae: denoising, std of the Gaussian noise added to the input"}),
    "likelihood": ModelFlag(("vae",), "likelihood", {
        "choices": ("bernoulli", "gaussian"),
        "help": "vae: decoder likelihood (default bernoulli)"}),
    "beta": ModelFlag(("vae",), "beta", {"type": float, "help": "vae: weight of the KL term (1)"}),
    "binarize": ModelFlag(("vae",), "binarize", {
        "action": "store_const", "const": True,
        "help": "vae: train on dynamically binarized images"}),
    "width": ModelFlag(("dcgan",), "width", {
        "type": positive_int, "help": "dcgan: base width (32)"}),
    "channels": ModelFlag(("ddpm",), "channels", {
        "help": "ddpm: U-Net channels per level (default 16,32,32)"}),
    "schedule": ModelFlag(("ddpm",), "schedule", {
        "choices": ("linear", "cosine"), "help": "ddpm: noise schedule (default linear)"}),
}


def register(subparsers: Any) -> None:
    """Add `generate` with its train, sample and evaluate subcommands."""
    from .train import DATASETS, MODELS

    sub = add_command_group(subparsers, "generate", "generate_command",
                            help="generative models: autoencoder, VAE, DCGAN, diffusion",
                            description="Train, sample and measure generative models of 28x28 "
                            "images.")

    t = sub.add_parser("train", help="train a generative model",
                       description="Train with the Trainer (progress bar, checkpoints, resume, "
                       "history, curves.png); also write losses.png and samples.png to --out.")
    t.add_argument("--model", choices=MODELS, required=True, help="which model")
    t.add_argument("--dataset", choices=sorted(DATASETS), default="mnist", help="training data")
    add_data_root(t)
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive_float, default=None,
                        help="time budget: stop before an epoch would pass it")
    budget.add_argument("--epochs", type=positive_int, default=None,
                        help="epochs in all, counting those before a resume "
                        "(default: 1000, or until --minutes)")
    t.add_argument("--out", default=None, help="run folder (default runs/generate-MODEL)")
    t.add_argument("--resume", default=None, metavar="CKPT", help="continue from a checkpoint")
    t.add_argument("--lr", type=positive_float, default=None,
                   help="Adam learning rate (ae/vae 1e-3, dcgan 2e-4, ddpm 1e-3)")
    t.add_argument("--batch-size", type=positive_int, default=None,
                   help="images per step (ae/vae 128, dcgan 64, ddpm 32)")
    t.add_argument("--epoch-size", type=positive_int, default=None,
                   help="images per epoch (ae/vae 20000, dcgan/ddpm 3200)")
    t.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training images")
    for flag, option in MODEL_FLAGS.items():
        t.add_argument(f"--{flag}", default=None, **option.settings)
    t.add_argument("--ema", type=float, default=0.995, help="ddpm: weight-average decay")
    t.add_argument("--grid-every", type=int, default=None,
                   help="epochs between sample grids (ddpm 5, others 1; 0: only at the end)")
    t.add_argument("--grid-steps", type=positive_int, default=20,
                   help="ddpm: DDIM steps for the grids drawn during training")
    add_run_options(t, progress=True, threads_help="BLAS threads (0: library default)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="draw a grid of samples from a checkpoint",
                       description="Write --n samples as one PNG grid; for AE/VAE also "
                       "interpolations and a 2-D latent scatter of the test set.")
    s.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of `generate train`")
    s.add_argument("--n", type=positive_int, default=64, help="how many images")
    s.add_argument("--out", default="grid.png", help="PNG to write")
    s.add_argument("--steps", type=positive_int, default=None,
                   help="ddpm: DDIM steps (default: all T ancestral steps)")
    s.add_argument("--interpolate", action="store_true",
                   help="ae/vae: rows of 10 decoded points between two test images' codes")
    s.add_argument("--scatter", default=None, metavar="PNG",
                   help="ae/vae: also write the test set's codes coloured by class")
    add_run_options(s)
    add_data_root(s)
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="measure a checkpoint on the MNIST test set",
                       description="AE/VAE: reconstruction error and (VAE) negative ELBO on "
                       "the test set; VAE/DCGAN/DDPM: Frechet distance on LeNet-5 features "
                       "(not Inception FID), share of samples read with p >= 0.9 and the class "
                       "histogram, with the real images' own values as the floor.")
    e.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of `generate train`")
    e.add_argument("--n", type=positive_int, default=1000, help="samples to generate")
    e.add_argument("--steps", type=positive_int, default=50, help="ddpm: DDIM steps")
    e.add_argument("--out", default=None, help="also write the numbers to this JSON file")
    e.add_argument("--card", action="store_true",
                   help="also write the model card beside the checkpoint (CKPT.card.json)")
    add_run_options(e)
    add_data_root(e)
    e.set_defaults(func=cmd_evaluate)


def _options(args: argparse.Namespace) -> dict:
    """The model options given on the command line (the model's defaults for the rest)."""
    given = {flag: getattr(args, flag) for flag in MODEL_FLAGS
             if getattr(args, flag) is not None}
    unused = sorted(flag for flag in given if args.model not in MODEL_FLAGS[flag].models)
    if unused:
        raise ValueError(f"--{unused[0]} does not apply to --model {args.model}")
    options = {MODEL_FLAGS[flag].keyword: value for flag, value in given.items()}
    if "channels" in options:
        options["channels"] = tuple(int(c) for c in options["channels"].split(","))
        if len(options["channels"]) != 3:
            raise ValueError("--channels needs three numbers, e.g. 32,64,64")
    return options


def cmd_train(args: argparse.Namespace) -> int:
    """Train; the run folder gets checkpoints, history, curves.png, losses.png and samples.png."""
    limit_blas_threads(args.threads)
    use_data_root(args)
    from .train import train

    out = Path(args.out or f"runs/generate-{args.model}")
    options = _options(args)
    if args.resume and options:
        raise ValueError("--resume keeps the checkpoint's model options; drop the model flags")
    trainer = train(args.model, args.dataset, out, epochs=args.epochs, minutes=args.minutes,
                    options=options or None, lr=args.lr, batch_size=args.batch_size,
                    epoch_size=args.epoch_size, grid_every=args.grid_every,
                    grid_steps=args.grid_steps, ema=args.ema, resume=args.resume,
                    seed=args.seed, progress=not args.no_progress, limit=args.limit)
    seconds = sum(r["seconds"] for r in trainer.history)
    print(f"{trainer.epoch} epochs, {trainer.global_step} steps, {seconds / 60:.1f} min of "
          f"training in total; checkpoints, history and samples.png in {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Write a grid of samples (or interpolations) and, if asked, the latent scatter."""
    limit_blas_threads(args.threads)
    use_data_root(args)
    import rosenblatt as rb

    from .train import load_model, sample_images, save_grid

    model, config = load_model(args.checkpoint)
    latent = config["model"] in ("ae", "vae")
    if (args.interpolate or args.scatter) and not latent:
        raise ValueError("--interpolate and --scatter need an ae or vae checkpoint")
    if args.steps is not None and config["model"] != "ddpm":
        raise ValueError("--steps applies to ddpm checkpoints only")
    rb.manual_seed(args.seed)
    if args.interpolate:
        from .visual import interpolations

        images, nrow = interpolations(model, config["dataset"], rows=max(1, args.n // 10),
                                      seed=args.seed), 10
    else:
        images, nrow = sample_images(model, args.n, args.steps, args.seed), 8
    print(f"wrote {save_grid(images, args.out, nrow=nrow)}")
    if args.scatter:
        from .visual import latent_scatter

        print(f"wrote {latent_scatter(model, config['dataset'], args.scatter)}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print (and optionally save) the checkpoint's measured quality on the test set."""
    limit_blas_threads(args.threads)
    use_data_root(args)
    from .evaluate import evaluate, write_card

    results = evaluate(args.checkpoint, n=args.n, steps=args.steps, seed=args.seed)
    # lists of numbers (class histograms) on one line each
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
                  lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]",
                  json.dumps(results, indent=2))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.card:
        print(f"wrote {write_card(args.checkpoint, results)}")
    return 0
