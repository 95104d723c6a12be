"""rosenblatt.text: tokenizer, windows, TBPTT streams, models, sampling, training, CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.text import (
    GPT,
    CharLSTM,
    CharTokenizer,
    CharWindowDataset,
    TrainConfig,
    generate,
    load_checkpoint,
    sample_next,
    stream,
    stream_batches,
    train_text,
    warmup_cosine,
)

TEXT = "to be or not to be, that is the question. "


def test_tokenizer_round_trip_and_json(tmp_path):
    tok = CharTokenizer.from_text(TEXT)
    assert tok.vocab_size == len(set(TEXT))
    assert tok.chars == sorted(set(TEXT))
    ids = tok.encode(TEXT)
    assert tok.decode(ids) == TEXT
    assert tok.decode(rb.tensor(ids)) == TEXT
    tok.save(tmp_path / "vocab.json")
    assert CharTokenizer.load(tmp_path / "vocab.json") == tok
    with pytest.raises(KeyError, match="'Z'"):
        tok.encode("Zebra")
    assert CharTokenizer(TEXT, unknown=" ").encode("Z") == [tok.stoi[" "]]


def test_window_dataset_targets_shift_by_one():
    ids = list(range(20))
    data = CharWindowDataset(ids, block_size=5, stride=3)
    assert len(data) == (20 - 6) // 3 + 1
    x, y = data[2]
    assert x.tolist() == [6, 7, 8, 9, 10] and y.tolist() == [7, 8, 9, 10, 11]
    xb, yb = data.__getbatch__([0, len(data) - 1])
    assert tuple(xb.shape) == (2, 5) and xb.dtype == rb.int64
    assert yb[1].tolist()[-1] == 3 * (len(data) - 1) + 5
    assert CharWindowDataset(ids, 5)[-1][1].tolist()[-1] == 19  # stride 1 reaches the end
    loader = rb.utils.data.DataLoader(data, batch_size=2)
    first_x, _ = next(iter(loader))
    assert first_x.tolist() == [[0, 1, 2, 3, 4], [3, 4, 5, 6, 7]]
    with pytest.raises(ValueError, match="too short"):
        CharWindowDataset([1, 2], block_size=5)


def test_stream_batches_continue_each_stream():
    ids = list(range(41))
    batches = list(stream_batches(ids, batch_size=2, seq_len=4))
    assert len(batches) == 5  # 20 tokens per stream, 4 per batch
    (x0, y0), (x1, _) = batches[0], batches[1]
    assert x0.tolist() == [[0, 1, 2, 3], [20, 21, 22, 23]]
    assert y0.tolist() == [[1, 2, 3, 4], [21, 22, 23, 24]]
    assert x1.tolist()[0] == [4, 5, 6, 7]


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(10, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100) == pytest.approx(0.1 + 0.9 * 0.5)
    assert warmup_cosine(100, 10, 100) == pytest.approx(0.1)


def test_sample_next_greedy_top_k_top_p():
    logits = np.array([1.0, 3.0, 2.0, -1.0])
    rng = np.random.default_rng(0)
    assert sample_next(logits, top_k=1) == 1
    assert sample_next(logits, temperature=0) == 1
    draws = {sample_next(logits, 1.0, top_k=2, rng=rng) for _ in range(200)}
    assert draws == {1, 2}
    # probabilities ~ [0.087, 0.644, 0.237, 0.032]: top_p=0.7 keeps tokens 1 and 2
    draws = {sample_next(logits, 1.0, top_p=0.7, rng=rng) for _ in range(200)}
    assert draws == {1, 2}
    counts = np.bincount([sample_next(logits, 1.0, rng=rng) for _ in range(2000)], minlength=4)
    probs = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(counts / 2000, probs, atol=0.04)


def tiny_gpt(vocab: int) -> GPT:
    return GPT(vocab, block_size=16, n_layer=2, n_head=2, n_embd=16)


@pytest.mark.parametrize("make", [lambda v: CharLSTM(v, 8, 16, 1), tiny_gpt])
def test_generation_reproducible_streaming_and_greedy(make):
    tok = CharTokenizer.from_text(TEXT)
    model = make(tok.vocab_size)
    a = generate(model, tok, "to be", 30, temperature=1.0, seed=7)
    b = generate(model, tok, "to be", 30, temperature=1.0, seed=7)
    assert a == b and a.startswith("to be") and len(a) == 35
    seen: list[str] = []
    c = generate(model, tok, "to be", 30, seed=7, callback=seen.append)
    assert "".join(seen) == c[5:] == a[5:]
    assert "".join(stream(model, tok, "to be", 30, seed=7)) == a[5:]
    # top_k=1 is greedy: every step takes the argmax of a full forward pass
    greedy = generate(model, tok, "to", 20, top_k=1, seed=1)
    assert greedy == generate(model, tok, "to", 20, top_k=1, seed=2)
    ids = tok.encode("to")
    with rb.no_grad():
        for _ in range(20):
            context = rb.tensor([ids[-16:]])
            out = model(context)
            logits = out[0] if isinstance(out, tuple) else out
            ids.append(int(logits[0, -1].argmax()))
    assert tok.decode(ids) == greedy


def test_gpt_kv_cache_matches_full_forward_and_window_rebuild():
    model = tiny_gpt(10)
    model.eval()
    ids = [1, 2, 3, 4, 5, 6, 7]
    with rb.no_grad():
        full = model(rb.tensor([ids])).numpy()[0]
        cache = model.new_cache()
        parts = [model(rb.tensor([ids[a:b]]), cache).numpy()[0]
                 for a, b in [(0, 3), (3, 5), (5, 6), (6, 7)]]
    np.testing.assert_allclose(np.concatenate(parts), full, rtol=1e-4, atol=1e-5)
    # generating past block_size keeps working (the cache is rebuilt from the last half)
    tok = CharTokenizer("abcdefghij")
    assert len(generate(model, tok, "abc", 40, seed=0)) == 43


def test_gpt_weight_tying_and_causality():
    model = tiny_gpt(12)
    assert model.head.weight is model.tok_emb.weight
    assert sum(1 for _ in model.parameters()) == len(list(model.state_dict())) - 1
    x = rb.randint(0, 12, (2, 8))
    y = x.clone()
    y[:, 5:] = (y[:, 5:] + 1) % 12  # changing later tokens must not change earlier outputs
    with rb.no_grad():
        a, b = model(x).numpy(), model(y).numpy()
    np.testing.assert_allclose(a[:, :5], b[:, :5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 5:], b[:, 5:])


@pytest.mark.parametrize("kind, args", [
    ("lstm", {"embed_dim": 16, "hidden_size": 48, "num_layers": 1}),
    ("gpt", {"n_layer": 1, "n_head": 2, "n_embd": 32}),
])
def test_tiny_model_overfits_a_repeated_string(tmp_path, kind, args):
    text = "hello world! " * 40
    cfg = TrainConfig(model=kind, steps=120, batch_size=8, seq_len=16, lr=1e-2, warmup=10,
                      eval_every=60, eval_batches=2, sample_every=0, model_args=args,
                      checkpoint=str(tmp_path / "m.safetensors"))
    result = train_text(text, cfg, progress=False, log=lambda s: None)
    uniform = math.log(len(set(text)))  # 2.2 nats: chance level
    assert result["history"][0][1] > 1.5
    assert result["best_val"] < 0.3 < uniform
    model, tok, ckpt = load_checkpoint(tmp_path / "m.safetensors")
    assert ckpt["config"]["model"] == kind and tok == result["tokenizer"]
    assert generate(model, tok, "hello", 16, top_k=1) == "hello world! hello wo"


def test_cli_train_generate_attention(tmp_path, capsys):
    from rosenblatt.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab ba abba baab " * 30)
    ckpt = tmp_path / "g.safetensors"
    code = main(["text", "train", "--corpus", str(corpus), "--model", "gpt", "--steps", "6",
                 "--eval-every", "3", "--sample-every", "0", "--layers", "1", "--width", "16",
                 "--heads", "2", "--seq-len", "8", "--batch-size", "4", "--out", str(ckpt),
                 "--no-progress"])
    assert code == 0 and ckpt.exists()
    capsys.readouterr()
    assert main(["text", "generate", str(ckpt), "--prompt", "ab", "-n", "10",
                 "--seed", "1"]) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    assert printed.startswith("ab") and len(printed) == 12
    png = tmp_path / "att.png"
    assert main(["text", "attention", str(ckpt), "--text", "abba", "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_gpt_matches_a_pytorch_twin():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TwinBlock(tnn.Module):
        def __init__(self, c, heads):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = tnn.LayerNorm(c), tnn.LayerNorm(c)
            self.attn = tnn.Module()
            self.attn.qkv, self.attn.proj = tnn.Linear(c, 3 * c), tnn.Linear(c, c)
            self.mlp = tnn.Sequential(tnn.Linear(c, 4 * c), tnn.GELU(approximate="tanh"),
                                      tnn.Linear(4 * c, c), tnn.Dropout(0.0))

        def forward(self, x):
            n, t, c = x.shape
            q, k, v = self.attn.qkv(self.ln1(x)).reshape(n, t, 3, self.heads, -1) \
                .permute(2, 0, 3, 1, 4)
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.attn.proj(y.transpose(1, 2).reshape(n, t, c))
            return x + self.mlp(self.ln2(x))

    class Twin(tnn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb, self.pos_emb = tnn.Embedding(11, 16), tnn.Embedding(8, 16)
            self.drop = tnn.Dropout(0.0)
            self.blocks = tnn.ModuleList([TwinBlock(16, 2) for _ in range(2)])
            self.ln_f = tnn.LayerNorm(16)
            self.head = tnn.Linear(16, 11, bias=False)
            self.head.weight = self.tok_emb.weight

        def forward(self, idx):
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    ours = GPT(11, block_size=8, n_layer=2, n_head=2, n_embd=16).double()
    twin = Twin().double()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    idx = np.random.default_rng(0).integers(0, 11, (3, 8))
    out, t_out = ours(rb.tensor(idx)), twin(torch.tensor(idx))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6,
                               atol=1e-10)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * rb.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    twin_params = dict(twin.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), twin_params[name].grad.numpy(), rtol=1e-6,
                                   atol=1e-10, err_msg=name)


@pytest.mark.parametrize("script", ["shakespeare_lstm.py", "shakespeare_gpt.py"])
def test_examples_smoke(script, data_dir, tmp_path, monkeypatch, capsys):
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / script
    argv = [str(path), "--steps", "2", "--corpus", str(data_dir / "tinyshakespeare/input.txt")]
    if "gpt" in script:
        argv += ["--png", str(tmp_path / "att.png")]
    monkeypatch.setattr("sys.argv", argv)
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "step    1" in out
    if "gpt" in script:
        assert "validation loss" in out and "JULIET:" in out
        assert (tmp_path / "att.png").exists()
    else:
        assert "ROMEO:" in out
