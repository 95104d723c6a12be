"""Training the generative models with the `Trainer`: data, the models' settings, the GAN's
two optimizers, a time budget, the diffusion model's weight average and sample grids.

A checkpoint's `config["generate"]` says how to rebuild its model (`load_model`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import rosenblatt as rb

MODELS = ("ae", "vae", "dcgan", "ddpm")
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
# per model: learning rate, batch size, images per epoch (an epoch is the unit of history,
# checkpoints and the time budget), epochs between sample grids
DEFAULTS = {
    "ae": {"lr": 1e-3, "batch_size": 128, "epoch_size": 20000, "grid_every": 1},
    "vae": {"lr": 1e-3, "batch_size": 128, "epoch_size": 20000, "grid_every": 1},
    "dcgan": {"lr": 2e-4, "batch_size": 64, "epoch_size": 3200, "grid_every": 1},
    "ddpm": {"lr": 1e-3, "batch_size": 32, "epoch_size": 3200, "grid_every": 5},
}


def build_model(name: str, **options: Any) -> Any:
    """A fresh model by command name ('ae', 'vae', 'dcgan', 'ddpm') with its keyword options."""
    from rosenblatt.models import DCGAN, DDPM, VAE, Autoencoder

    classes = {"ae": Autoencoder, "vae": VAE, "dcgan": DCGAN, "ddpm": DDPM}
    if name not in classes:
        raise ValueError(f"unknown generative model {name!r}; choose one of {list(MODELS)}")
    return classes[name](**options)


def load_model(path: str | os.PathLike) -> tuple[Any, dict]:
    """A trained model (eval mode) and its `generate` config from a checkpoint of `train`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    state = rb.load(path)
    config = (state.get("config") or {}).get("generate") if isinstance(state, dict) else None
    if not config:
        raise ValueError(f"{path} is not a checkpoint of `rosenblatt generate train`")
    model = build_model(config["model"], **config["options"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, config


def dataset(name: str, train: bool = True) -> Any:
    """MNIST or Fashion-MNIST from the data root: images (1, 28, 28) in [0, 1], labels."""
    from rosenblatt import datasets

    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    return getattr(datasets, DATASETS[name])(train=train)


def sample_images(model: Any, n: int, steps: int | None = None, seed: int = 0) -> Any:
    """n generated images (n, 1, 28, 28) in [0, 1] from any of the four models.

    An autoencoder has no prior: its 'samples' decode standard-normal codes, shown only for
    comparison. `steps`: DDIM steps for diffusion (None: all T ancestral steps).
    """
    from rosenblatt.models import DDPM, Autoencoder

    gen = rb.Generator().manual_seed(seed)
    with rb.no_grad():
        if isinstance(model, DDPM):
            return model.sample(n, steps=steps, generator=gen)
        if isinstance(model, Autoencoder):
            return model.decode(rb.randn((n, model.config["latent_dim"]), generator=gen))
        return model.sample(n, generator=gen)  # VAE, DCGAN


def save_grid(images: Any, path: str | os.PathLike, nrow: int = 8) -> Path:
    """Write images (N, 1, 28, 28) in [0, 1] as one PNG grid (atomically); returns the path."""
    from rosenblatt.vision.utils import save_image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_image(images.clamp(0, 1), tmp, format="png", nrow=nrow, padding=2, pad_value=0.5)
    os.replace(tmp, path)
    return path


class Optimizers:
    """Several optimizers behind one optimizer's interface (zero_grad, step, state_dict,
    param_groups of the first), so the Trainer can checkpoint and resume a GAN's two."""

    def __init__(self, **optimizers: Any) -> None:
        self.optimizers = optimizers

    def __getitem__(self, name: str) -> Any:
        """The optimizer registered as `name`."""
        return self.optimizers[name]

    @property
    def param_groups(self) -> list:
        """The first optimizer's groups (what the history's lr shows)."""
        return next(iter(self.optimizers.values())).param_groups

    def zero_grad(self) -> None:
        """Zero every optimizer's gradients."""
        for opt in self.optimizers.values():
            opt.zero_grad()

    def step(self) -> None:
        """Step every optimizer."""
        for opt in self.optimizers.values():
            opt.step()

    def state_dict(self) -> dict:
        """{name: that optimizer's state_dict()}."""
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()`."""
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])


def gan_step(trainer: Any, inputs: Any, target: Any) -> dict:
    """The Trainer's step for a DCGAN: one D and one G update; D's loss is the shown loss."""
    opts = trainer.optimizer
    d_loss, g_loss = trainer.model.train_step(inputs, opts["g"], opts["d"])
    return {"loss": d_loss, "d_loss": d_loss, "g_loss": g_loss}


class TimeBudget(rb.train.Callback):
    """Stop when another epoch like the last one would pass `minutes` since training began."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.start = time.perf_counter()

    def on_fit_start(self, trainer: Any) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        used = time.perf_counter() - self.start
        if used + record["seconds"] > self.seconds:
            trainer.stop(f"time budget: {used / 60:.1f} of {self.seconds / 60:g} minutes used")


class EMAUpdate(rb.train.Callback):
    """After every optimizer step, update the diffusion model's weight average."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def on_batch_end(self, trainer: Any, step: int, loss: float) -> None:
        trainer.model.update_ema(step, self.decay)


class SampleGrid(rb.train.Callback):
    """Write `samples.png` (64 images from fixed noise) every `every` epochs and at the end."""

    def __init__(self, path: Path, every: int, steps: int | None = None) -> None:
        self.path, self.every, self.steps = path, every, steps
        self.drawn_at = -1

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        if self.every and record["epoch"] % self.every == 0:
            self.draw(trainer)

    def on_fit_end(self, trainer: Any) -> None:
        if trainer.history and self.drawn_at != trainer.epoch:
            self.draw(trainer)

    def draw(self, trainer: Any) -> None:
        self.drawn_at = trainer.epoch
        was_training = trainer.model.training
        trainer.model.eval()
        try:
            save_grid(sample_images(trainer.model, 64, self.steps), self.path)
        finally:
            trainer.model.train(was_training)


def plot_losses(history: list[dict], path: str | os.PathLike, title: str = "") -> Path:
    """Every `train_*` loss of the history (a GAN's D and G losses too) against the epoch."""
    from rosenblatt.train.plots import _figure, _save

    fig = _figure(6, 4)
    ax = fig.subplots()
    keys = [k for k in history[0] if k.startswith("train_") and k.endswith("_loss")
            and k != "train_loss"] or ["train_loss"]  # a GAN's loss is its D loss again
    for key in keys:
        ax.plot([r["epoch"] for r in history], [r[key] for r in history], "-o", markersize=3,
                label=key.removeprefix("train_"))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)


def _objective(output: Any, target: Any) -> Any:
    """The models' forward returns their loss already; the Trainer's loss_fn passes it on."""
    return output


def train(model_name: str, dataset_name: str = "mnist", out_dir: str | os.PathLike = "runs",
          epochs: int | None = None, minutes: float | None = None, options: dict | None = None,
          lr: float | None = None, batch_size: int | None = None, epoch_size: int | None = None,
          grid_every: int | None = None, grid_steps: int | None = 20, ema: float = 0.995,
          resume: str | os.PathLike | None = None, seed: int = 0, progress: bool = True,
          limit: int | None = None) -> Any:
    """Train one generative model with the Trainer; returns the trainer (history, model).

    out_dir receives best/last.safetensors, history.jsonl/.csv, curves.png, losses.png (every
    training loss, a GAN's two) and samples.png.
    Without `epochs`, training runs until `minutes` pass (or 1000 epochs). `limit` uses only
    the first `limit` training images (for quick runs).
    """
    from rosenblatt.utils.data import DataLoader, RandomSampler, Subset

    if model_name not in DEFAULTS:
        raise ValueError(f"unknown generative model {model_name!r}; choose one of {list(MODELS)}")
    d = DEFAULTS[model_name]
    saved = rb.load(resume) if resume is not None else None
    if saved is not None:
        options = (saved.get("config") or {}).get("generate", {}).get("options")
    rb.manual_seed(seed)
    model = build_model(model_name, **(options or {}))
    data = dataset(dataset_name)
    if limit is not None:
        data = Subset(data, range(min(limit, len(data))))
    gen = rb.Generator().manual_seed(seed)
    size = epoch_size or d["epoch_size"]
    if limit is not None:
        size = min(size, len(data))
    sampler = RandomSampler(data, num_samples=size, generator=gen)
    loader = DataLoader(data, batch_size=batch_size or d["batch_size"], sampler=sampler,
                        generator=gen, drop_last=True)
    lr = lr or d["lr"]
    step = None
    if model_name == "dcgan":
        opt: Any = Optimizers(
            g=rb.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999)),
            d=rb.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)))
        step = gan_step
    elif model_name == "ddpm":
        opt = rb.optim.Adam(model.net.parameters(), lr=lr)
    else:
        opt = rb.optim.Adam(model.parameters(), lr=lr)
    out = Path(out_dir)
    callbacks: list = [SampleGrid(out / "samples.png",
                                  d["grid_every"] if grid_every is None else grid_every,
                                  grid_steps)]
    if model_name == "ddpm":
        callbacks.insert(0, EMAUpdate(ema))
    if minutes is not None:
        callbacks.append(TimeBudget(minutes))
    config = {"generate": {"model": model_name, "dataset": dataset_name,
                           "options": dict(model.config)},
              "settings": {"lr": lr, "batch_size": loader.batch_size, "epoch_size": size,
                           "seed": seed, "minutes": minutes}}
    trainer = rb.train.Trainer(model, _objective, opt, out_dir=out, progress=progress,
                               config=config, callbacks=callbacks, train_step=step)
    total = epochs if epochs is not None else 1000
    if saved is not None and epochs is None:  # a budget continues from where it stopped
        total = int(saved["epoch"]) + 1000
    trainer.fit(loader, epochs=total, resume=resume)
    if trainer.history:
        plot_losses(trainer.history, out / "losses.png", f"{model_name} on {dataset_name}")
    return trainer
