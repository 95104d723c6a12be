"""A small GPT (4 layers, 4 heads, width 128, context 64) on tiny-shakespeare.

AdamW with a warm-up + cosine learning-rate schedule, gradient clipping, validation loss,
then generation with a key/value cache and an attention-map PNG of the trained heads.

    python examples/shakespeare_gpt.py [--steps 300] [--corpus PATH]
"""

import argparse
from pathlib import Path

import rosenblatt as rb
import rosenblatt.nn.functional as F
from rosenblatt.text import GPT, CharTokenizer, CharWindowDataset, generate, warmup_cosine
from rosenblatt.text.data import default_corpus
from rosenblatt.text.plots import plot_attention
from rosenblatt.text.train import TrainConfig, evaluate

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--corpus", default=default_corpus())
parser.add_argument("--png", default="runs/shakespeare_gpt_attention.png")
args = parser.parse_args()

text = Path(args.corpus).read_text(encoding="utf-8")
tokenizer = CharTokenizer.from_text(text)
ids = tokenizer.encode(text)
cut = int(0.9 * len(ids))
train_data = CharWindowDataset(ids[:cut], block_size=64)

rb.manual_seed(0)
model = GPT(tokenizer.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128)
optimizer = rb.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
schedule = rb.optim.lr_scheduler.LambdaLR(
    optimizer, lambda s: warmup_cosine(s, warmup=min(100, args.steps // 10 + 1), total=args.steps))
loader = rb.utils.data.DataLoader(train_data, batch_size=32, shuffle=True)

step = 0
while step < args.steps:
    for x, y in loader:
        loss = F.cross_entropy(model(x).reshape(-1, tokenizer.vocab_size), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        rb.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        if step % 50 == 0 or step == 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  lr {schedule.get_last_lr()[0]:.2e}")
        if step == args.steps:
            break

val = evaluate(model, ids[cut:], TrainConfig(model="gpt", seq_len=64, eval_batches=10))
print(f"validation loss {val:.3f}")
print(generate(model, tokenizer, "JULIET:", 300, temperature=0.8, top_k=20, seed=0))
print("attention maps:", plot_attention(model, tokenizer, "ROMEO: But soft, what light", args.png))
