"""SummaryWriter's event files, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_crc
from tensorboard.plugins.hparams import metadata as hp_metadata

import rosenblatt as rb
from rosenblatt.cli import main
from rosenblatt.train import Trainer
from rosenblatt.utils.data import DataLoader, TensorDataset
from rosenblatt.utils.tensorboard import SummaryWriter
from rosenblatt.utils.tensorboard._record import crc32c, masked_crc32c


def _read(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0, "images": 0, "scalars": 0})
    acc.Reload()
    return acc


def test_crc32c_check_value_and_tensorboards_mask() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue's check value
    for data in (b"", b"a", bytes(range(256)) * 3):
        assert masked_crc32c(data) == tb_crc(data)


def test_scalars_read_back(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
        w.add_scalar("acc", rb.tensor(0.75), 7)
    acc = _read(tmp_path)
    events = acc.Scalars("loss/train")
    assert [e.step for e in events] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in events], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5],
                               rtol=1e-6)
    assert [(e.step, e.value) for e in acc.Scalars("acc")] == [(7, 0.75)]


def test_add_scalars_writes_one_run_per_curve(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 0.5, "val": 0.7}, 3)
    assert _read(tmp_path / "loss_train").Scalars("loss")[0].value == 0.5
    assert _read(tmp_path / "loss_val").Scalars("loss")[0].value == pytest.approx(0.7)


def test_histogram_matches_numpy(tmp_path: Path) -> None:
    values = np.random.default_rng(0).normal(size=(40, 25)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", rb.tensor(values), 2)
        w.add_histogram("u", values, 2, bins=10)
    acc = _read(tmp_path)
    h = acc.Histograms("w")[0].histogram_value
    assert h.num == 1000 and sum(h.bucket) == 1000
    assert h.min == pytest.approx(values.min()) and h.max == pytest.approx(values.max())
    assert h.sum == pytest.approx(values.sum(dtype=np.float64), rel=1e-6)
    assert h.sum_squares == pytest.approx((values.astype(np.float64) ** 2).sum(), rel=1e-6)
    counts, edges = np.histogram(values.astype(np.float64), bins=10)
    u = acc.Histograms("u")[0].histogram_value
    assert list(u.bucket) == counts.tolist()
    np.testing.assert_allclose(u.bucket_limit, edges[1:])


def test_images_are_pngs_of_the_pixels(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, size=(3, 5, 7), dtype=np.uint8)
    grey = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    with SummaryWriter(tmp_path) as w:
        w.add_image("rgb", rgb, 0)
        w.add_image("grey", grey, 0, dataformats="HW")
        w.add_images("batch", rb.rand(5, 1, 4, 4), 0)
    acc = _read(tmp_path)
    picture = np.asarray(Image.open(io.BytesIO(acc.Images("rgb")[0].encoded_image_string)))
    np.testing.assert_array_equal(picture, rgb.transpose(1, 2, 0))
    picture = np.asarray(Image.open(io.BytesIO(acc.Images("grey")[0].encoded_image_string)))
    np.testing.assert_array_equal(picture, np.round(grey * 255).astype(np.uint8))
    batch = acc.Images("batch")[0]
    assert (batch.width, batch.height) == (3 * 6 + 2, 2 * 6 + 2)  # 3x2 grid, 2-pixel gaps
    with SummaryWriter(tmp_path / "bad") as w:
        with pytest.raises(ValueError, match="channels, got 7"):
            w.add_image("x", rgb, 0, dataformats="HWC")
        with pytest.raises(ValueError, match="dataformats 'HW'"):
            w.add_image("x", rgb, 0, dataformats="HW")


def test_figure_text_and_hparams(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as w:
        w.add_figure("curve", fig, 1)
        w.add_text("notes", "lr **0.1**", 1)
        w.add_hparams({"lr": 0.1, "optimizer": "adam", "bn": True}, {"hp/acc": 0.9},
                      run_name="trial")
    acc = _read(tmp_path)
    image = acc.Images("curve")[0]
    assert (image.width, image.height) == (100, 50)
    assert acc.Tensors("notes/text_summary")[0].tensor_proto.string_val == [b"lr **0.1**"]
    trial = _read(tmp_path / "trial")
    content = trial.PluginTagToContent(hp_metadata.PLUGIN_NAME)
    start = hp_metadata.parse_session_start_info_plugin_data(
        content[hp_metadata.SESSION_START_INFO_TAG])
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["bn"].bool_value is True
    experiment = hp_metadata.parse_experiment_plugin_data(content[hp_metadata.EXPERIMENT_TAG])
    assert [m.name.tag for m in experiment.metric_infos] == ["hp/acc"]
    assert trial.Scalars("hp/acc")[0].value == pytest.approx(0.9)


def test_pr_curve_matches_pytorch(tmp_path: Path) -> None:
    from tensorboard.util.tensor_util import make_ndarray
    from torch.utils.tensorboard.summary import pr_curve as torch_pr_curve

    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(0.3 * labels + rng.uniform(0, 0.7, 300), 0, 1)
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve("pr", rb.tensor(labels), rb.tensor(scores.astype(np.float32)), 5,
                       num_thresholds=11)
    event = _read(tmp_path).Tensors("pr")[0]
    ours = make_ndarray(event.tensor_proto)
    theirs = make_ndarray(torch_pr_curve("pr", labels, scores.astype(np.float32),
                                         num_thresholds=11).value[0].tensor)
    assert event.step == 5 and ours.shape == (6, 11)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[5, 0] == 1.0 and ours[4, 0] == pytest.approx(labels.mean())  # threshold 0


def test_embedding_files_for_the_projector(tmp_path: Path) -> None:
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    points = np.random.default_rng(5).normal(size=(5, 3)).astype(np.float32)
    images = np.random.default_rng(6).random((5, 1, 4, 6)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(rb.tensor(points), metadata=list("abcde"), label_img=images,
                        global_step=3, tag="features")
        w.add_embedding(points[:2], global_step=4)
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(),
                               ProjectorConfig())
    first, second = config.embeddings
    assert first.tensor_name == "features:00003"
    assert second.tensor_path == "00004/default/tensors.tsv"
    rows = (tmp_path / first.tensor_path).read_text().splitlines()
    np.testing.assert_array_equal(np.array([r.split("\t") for r in rows], np.float32), points)
    assert (tmp_path / first.metadata_path).read_text().split() == list("abcde")
    sprite = np.asarray(Image.open(tmp_path / first.sprite.image_path))
    assert sprite.shape == (3 * 4, 3 * 6, 3) and list(first.sprite.single_image_dim) == [6, 4]
    np.testing.assert_array_equal(sprite[4:8, 0:6, 0], np.round(images[3, 0] * 255))  # row 1


def test_graph_names_ops_by_module(tmp_path: Path) -> None:
    model = rb.nn.Sequential(rb.nn.Linear(4, 3), rb.nn.ReLU(), rb.nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, rb.randn(2, 4))
    nodes = {n.name: n for n in _read(tmp_path).Graph().node}
    linear0 = next(n for name, n in nodes.items() if name.startswith("Sequential/0/Linear"))
    assert list(linear0.input) == ["input/input.0", "Sequential/0/weight", "Sequential/0/bias"]
    relu = next(n for name, n in nodes.items() if name.startswith("Sequential/1/"))
    assert relu.op == "Relu" and list(relu.input) == [linear0.name]
    assert nodes["output/output.0"].input[0].startswith("Sequential/2/Linear")
    assert all(p.grad is None for p in model.parameters())
    bn = rb.nn.Sequential(rb.nn.Linear(4, 3), rb.nn.BatchNorm1d(3))
    with SummaryWriter(tmp_path / "bn") as w:
        w.add_graph(bn, rb.randn(8, 4) + 5)
    assert bn.training and bn[1].running_mean.abs().max().item() == 0  # traced in eval mode
    assert "BatchNorm" in {n.op for n in _read(tmp_path / "bn").Graph().node}


def test_closed_writer_refuses(tmp_path: Path) -> None:
    w = SummaryWriter(tmp_path)
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("x", 1.0, 0)


def test_missing_extra_names_it() -> None:
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "from rosenblatt.utils.tensorboard import SummaryWriter")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "rosenblatt[tensorboard]" in out.stderr


def _loader(n: int = 64) -> DataLoader:
    g = rb.Generator().manual_seed(0)
    x = rb.randn(n, 2, generator=g)
    y = (x[:, 0] > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=16)


def test_trainer_logs_epochs_and_steps(tmp_path: Path) -> None:
    rb.manual_seed(0)
    model = rb.nn.Linear(2, 2)
    trainer = Trainer(model, rb.nn.CrossEntropyLoss(), rb.optim.SGD(model.parameters(), lr=0.1),
                      progress=False, verbose=False, tensorboard=tmp_path, config={"a": 1})
    history = trainer.fit(_loader(), _loader(), epochs=3)
    acc = _read(tmp_path)
    train = acc.Scalars("loss/train")
    assert [e.step for e in train] == [1, 2, 3]
    np.testing.assert_allclose([e.value for e in train], [r["train_loss"] for r in history],
                               rtol=1e-6)
    assert [e.step for e in acc.Scalars("accuracy/val")] == [1, 2, 3]
    assert [e.step for e in acc.Scalars("batch/loss")] == [10]  # 12 steps, every 10th
    assert json.loads(acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0]
                      .decode().strip("`\n")) == {"a": 1}


def test_cli_train_tensorboard(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--dataset", "xor", "--epochs", "2", "--no-progress",
                 "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb")])
    assert code == 0
    assert [e.step for e in _read(tmp_path / "tb").Scalars("loss/val")] == [1, 2]
    run = _read(tmp_path / "tb" / "hparams")
    content = run.PluginTagToContent(hp_metadata.PLUGIN_NAME)
    start = hp_metadata.parse_session_start_info_plugin_data(
        content[hp_metadata.SESSION_START_INFO_TAG])
    assert start.hparams["epochs"].number_value == 2
    assert start.hparams["optimizer"].string_value == "adam"
    history = [json.loads(line) for line in
               (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert run.Scalars("hparam/val_acc")[0].value == pytest.approx(history[-1]["val_acc"])


def test_an_unmodified_pytorch_program_logs_through_rosenblatt_run(tmp_path: Path) -> None:
    script = tmp_path / "log.py"
    script.write_text(
        "import sys\nimport torch\nfrom torch.utils.tensorboard import SummaryWriter\n"
        "writer = SummaryWriter(sys.argv[1])\n"
        "for step in range(3):\n"
        "    writer.add_scalar('loss', torch.tensor(1.0 / (step + 1)), step)\n"
        "writer.add_histogram('w', torch.nn.Linear(4, 2).weight, 0)\n"
        "writer.close()\n")
    done = subprocess.run([sys.executable, "-m", "rosenblatt.run", str(script),
                           str(tmp_path / "tb")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    acc = _read(tmp_path / "tb")
    assert [round(e.value, 4) for e in acc.Scalars("loss")] == [1.0, 0.5, 0.3333]
    assert acc.Histograms("w")[0].histogram_value.num == 8
