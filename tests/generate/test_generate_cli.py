"""`rosenblatt generate`: training through the Trainer (GAN's two optimizers, resume), sampling,
evaluation, and one-line errors."""

from __future__ import annotations

import json

import pytest

import rosenblatt as rb
from rosenblatt.cli import build_parser, main
from rosenblatt.generate.cli import _options
from rosenblatt.generate.train import load_model, train

TINY_GAN = {"latent_dim": 8, "width": 4}


def test_gan_resume_continues_exactly(tmp_path, data_dir):
    """Two epochs straight = one epoch, then a resume for the second (both optimizers,
    RNG and loader states in the checkpoint)."""
    common = dict(options=TINY_GAN, limit=64, epoch_size=64, batch_size=32, grid_every=0,
                  progress=False)
    straight = train("dcgan", out_dir=tmp_path / "a", epochs=2, **common)
    train("dcgan", out_dir=tmp_path / "b", epochs=1, **common)
    common.pop("options")
    resumed = train("dcgan", out_dir=tmp_path / "b", epochs=2,
                    resume=tmp_path / "b" / "last.safetensors", **common)
    assert [r["train_g_loss"] for r in resumed.history] == \
        [r["train_g_loss"] for r in straight.history]
    for (name, a), b in zip(straight.model.state_dict().items(),
                            resumed.model.state_dict().values()):
        assert bool((a == b).all()), name
    lines = (tmp_path / "b" / "history.jsonl").read_text().splitlines()
    history = [json.loads(line) for line in lines]
    assert len(history) == 2 and {"train_d_loss", "train_g_loss"} <= set(history[0])
    for picture in ("samples.png", "curves.png", "losses.png"):
        assert (tmp_path / "b" / picture).stat().st_size > 1000, picture


def test_vae_train_sample_evaluate(tmp_path, data_dir, capsys):
    run = tmp_path / "vae"
    assert main(["generate", "train", "--model", "vae", "--epochs", "2", "--limit", "256",
                 "--latent", "2", "--out", str(run), "--no-progress"]) == 0
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    ckpt = str(run / "last.safetensors")
    model, config = load_model(ckpt)
    assert config["model"] == "vae" and config["options"]["latent_dim"] == 2
    grid, inter, scatter = tmp_path / "g.png", tmp_path / "i.png", tmp_path / "s.png"
    assert main(["generate", "sample", ckpt, "--n", "16", "--out", str(grid)]) == 0
    assert main(["generate", "sample", ckpt, "--n", "20", "--interpolate", "--out", str(inter),
                 "--scatter", str(scatter)]) == 0
    from PIL import Image

    with Image.open(grid) as a, Image.open(inter) as b:
        assert a.size == (2 + 8 * 30, 2 + 2 * 30)  # 16 images, 8 a row
        assert b.size == (2 + 10 * 30, 2 + 2 * 30)  # 2 rows of 10
    assert scatter.stat().st_size > 10_000
    capsys.readouterr()
    out = tmp_path / "m.json"
    assert main(["generate", "evaluate", ckpt, "--n", "200", "--out", str(out), "--card"]) == 0
    numbers = json.loads(out.read_text())
    card = json.loads((run / "last.card.json").read_text())
    assert card["model"] == "vae" and card["training"]["steps"] == 4  # 2 epochs of 2 steps
    assert card["parameters"] == sum(p.numel() for p in model.parameters())
    assert card["measured"]["samples"] == numbers["samples"]
    assert numbers["neg_elbo_nats"] > numbers["kl_nats"] > 0 and numbers["recon_bce_nats"] > 0
    assert numbers["samples"]["n"] == 200
    # real training images are far closer to the test set than two epochs of 256 images
    assert numbers["floor_real_train"]["frechet_lenet"] < numbers["samples"]["frechet_lenet"]


def test_ddpm_train_and_sample_with_ddim(tmp_path, data_dir):
    run = tmp_path / "ddpm"
    assert main(["generate", "train", "--model", "ddpm", "--epochs", "1", "--limit", "32",
                 "--batch-size", "16", "--channels", "4,8,8", "--schedule", "cosine",
                 "--grid-steps", "2", "--out", str(run), "--no-progress"]) == 0
    model, config = load_model(run / "last.safetensors")
    assert config["options"]["schedule"] == "cosine" and model.config["channels"] == (4, 8, 8)
    grid = tmp_path / "d.png"
    assert main(["generate", "sample", str(run / "last.safetensors"), "--n", "4",
                 "--steps", "3", "--out", str(grid)]) == 0
    assert grid.is_file()


@pytest.mark.parametrize("argv,message", [
    (["train", "--model", "vae", "--width", "8"], "--width does not apply to --model vae"),
    (["train", "--model", "ddpm", "--channels", "4,8"], "--channels needs three numbers"),
    (["sample", "missing.safetensors"], "missing.safetensors not found"),
])
def test_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_options_that_do_not_apply_to_a_checkpoint(tmp_path, data_dir, capsys):
    run = tmp_path / "gan"
    train("dcgan", out_dir=run, epochs=1, options=TINY_GAN, limit=32, epoch_size=32,
          batch_size=32, grid_every=0, progress=False)
    ckpt = str(run / "last.safetensors")
    for extra, message in ((["--steps", "5"], "--steps applies to ddpm"),
                           (["--interpolate"], "need an ae or vae checkpoint")):
        assert main(["generate", "sample", ckpt, *extra]) == 1
        assert message in capsys.readouterr().err
    assert rb.load(ckpt)["config"]["generate"]["model"] == "dcgan"


def test_denoising_autoencoder_is_scored_on_noisy_inputs(tmp_path, data_dir):
    from rosenblatt.datasets import MNIST
    from rosenblatt.generate.evaluate import evaluate

    run = tmp_path / "dae"
    train("ae", out_dir=run, epochs=2, options={"kind": "dense", "hidden": 64, "noise": 0.5},
          limit=1024, epoch_size=1024, lr=3e-3, grid_every=0, progress=False)
    numbers = evaluate(run / "last.safetensors")
    assert numbers["denoise_noise"] == 0.5 and numbers["recon_mse"] > 0
    # its outputs are closer to the clean test images than the noisy inputs it sees
    clean = MNIST(train=False).data.float()[:, None] / 255
    noisy = (clean + 0.5 * rb.randn(tuple(clean.shape))).clamp(0, 1)
    assert numbers["denoise_mse"] < 0.8 * float(((noisy - clean) ** 2).mean())


@pytest.mark.parametrize("argv,options", [
    (["--model", "ae", "--kind", "dense", "--latent", "3", "--noise", "0.5"],
     {"kind": "dense", "latent_dim": 3, "noise": 0.5}),
    (["--model", "vae", "--likelihood", "gaussian", "--beta", "2", "--binarize"],
     {"likelihood": "gaussian", "beta": 2.0, "binarize": True}),
    (["--model", "dcgan", "--latent", "8", "--width", "4"], {"latent_dim": 8, "width": 4}),
    (["--model", "ddpm", "--channels", "4,8,8", "--schedule", "cosine"],
     {"channels": (4, 8, 8), "schedule": "cosine"}),
    (["--model", "ae"], {}),
])
def test_model_flags_become_the_models_keywords(argv, options):
    assert _options(build_parser().parse_args(["generate", "train", *argv])) == options


def test_the_first_flag_that_does_not_apply_is_named():
    args = build_parser().parse_args(["generate", "train", "--model", "ae", "--width", "4",
                                      "--beta", "1", "--schedule", "linear"])
    with pytest.raises(ValueError, match="^--beta does not apply to --model ae$"):
        _options(args)
