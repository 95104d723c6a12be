"""`SummaryWriter`: PyTorch's TensorBoard logger, writing the event files itself.

    from rosenblatt.utils.tensorboard import SummaryWriter
    writer = SummaryWriter("runs/exp1")
    writer.add_scalar("loss/train", loss, step)
    writer.close()

then `tensorboard --logdir runs`. Without `log_dir` the run goes to
`runs/<date>_<host><comment>` as in PyTorch. `add_scalars` writes each curve to its own
sub-run (`log_dir/<main_tag>_<tag>`), `add_hparams` to a sub-run named by the time.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from . import summary as S
from ._record import EventFileWriter


class SummaryWriter:
    """Writes scalars, histograms, images, figures, text, PR curves, hparams, embeddings and
    graphs for TensorBoard."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = Path("runs") / f"{stamp}_{socket.gethostname()}{comment}"
        self.log_dir = str(log_dir)
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: EventFileWriter | None = EventFileWriter(log_dir, filename_suffix)
        self.all_writers = {self.log_dir: self.file_writer}
        self._pending = 0
        self._last_flush = time.time()
        if purge_step is not None:  # events from a crashed run at or after it are dropped
            from tensorboard.compat.proto.event_pb2 import Event, SessionLog

            self._write(self.file_writer, Event(step=purge_step,
                                                session_log=SessionLog(status=SessionLog.START)))

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    # --------------------------------------------------------------- writing
    def _writer(self) -> EventFileWriter:
        if self.file_writer is None:
            raise RuntimeError("SummaryWriter: this writer was closed")
        return self.file_writer

    def _write(self, writer: EventFileWriter, event: Any) -> None:
        writer.write(event)
        self._pending += 1
        if self._pending >= self.max_queue or time.time() - self._last_flush >= self.flush_secs:
            self.flush()

    def _add_summary(self, summary: Any, global_step: int | None, walltime: float | None,
                     writer: EventFileWriter | None = None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        self._write(writer or self._writer(), event)

    # ------------------------------------------------------------- the API
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One point of the curve `tag` (a number or a one-element tensor)."""
        self._add_summary(S.scalar(tag, scalar_value), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Several curves on one chart: each tag goes to the sub-run `main_tag_tag`."""
        self._writer()
        for tag, value in tag_scalar_dict.items():
            folder = str(Path(self.log_dir) / f"{main_tag.replace('/', '_')}_{tag}")
            if folder not in self.all_writers:
                self.all_writers[folder] = EventFileWriter(folder, self.filename_suffix)
            self._add_summary(S.scalar(main_tag, value), global_step, walltime,
                              self.all_writers[folder])

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """The distribution of `values` (e.g. a layer's weights or gradients) at this step."""
        self._add_summary(S.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """One image (C, H, W) by default; floats in [0, 1], uint8 in [0, 255]."""
        self._add_summary(S.image(tag, S.to_hwc(img_tensor, dataformats)), global_step,
                          walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch of images (N, C, H, W) by default, shown as one grid."""
        self._add_summary(S.image(tag, S.make_grid(img_tensor, dataformats)), global_step,
                          walltime)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """A matplotlib Figure (or a list of them, shown as a grid) rendered as an image."""
        if isinstance(figure, (list, tuple)):
            pixels = S.make_grid(S.np.stack([S.figure_pixels(f, close) for f in figure]),
                                 "NHWC")
        else:
            pixels = S.figure_pixels(figure, close)
        self._add_summary(S.image(tag, pixels), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Markdown text (notes, a config, a classification report)."""
        self._add_summary(S.text(tag, text_string), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any,
                     global_step: int | None = None, num_thresholds: int = 127,
                     weights: Any = None, walltime: float | None = None) -> None:
        """A precision-recall curve: binary labels (N,) against probabilities (N,)."""
        self._add_summary(S.pr_curve(tag, labels, predictions, num_thresholds, weights),
                          global_step, walltime)

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: Any = None) -> None:
        """Points (N, D) for the Projector, with optional labels (N,) and images (N, C, H, W)."""
        from .embedding import write_embedding

        self._projector = write_embedding(self.log_dir, getattr(self, "_projector", None), mat,
                                          metadata, label_img, global_step or 0, tag,
                                          metadata_header)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: Any = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """One run's hyper-parameters and final metrics for the HParams dashboard (a sub-run)."""
        self._writer()
        folder = str(Path(self.log_dir) / (run_name or str(time.time())))
        with SummaryWriter(folder) as run:
            for summary in S.hparams(hparam_dict, metric_dict):
                run._add_summary(summary, global_step, None)
            for name, value in metric_dict.items():
                run.add_scalar(name, value, global_step)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The graph of one forward pass of `model` on `input_to_model` (Graphs dashboard)."""
        from tensorboard.compat.proto.event_pb2 import Event

        from .graph import graph_def

        if input_to_model is None:
            raise ValueError("add_graph: give an example input (input_to_model)")
        graph = graph_def(model, input_to_model)
        if verbose:
            print(graph)
        self._write(self._writer(), Event(graph_def=graph.SerializeToString(),
                                          wall_time=time.time()))

    # ------------------------------------------------------------- closing
    def flush(self) -> None:
        """Write everything pending to disk."""
        for writer in self.all_writers.values():
            writer.flush()
        self._pending = 0
        self._last_flush = time.time()

    def close(self) -> None:
        """Flush and close every event file of this writer."""
        if self.file_writer is None:
            return
        for writer in self.all_writers.values():
            writer.close()
        self.file_writer = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "file_writer", None) is not None:
            self.close()
