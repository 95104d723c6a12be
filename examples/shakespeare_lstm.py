"""Character-level LSTM on tiny-shakespeare with truncated backpropagation through time.

The text is cut into 32 parallel streams; each step trains on the next 64 characters of every
stream and carries the LSTM's state over (detached) to the following step.

    python examples/shakespeare_lstm.py [--steps 300] [--corpus PATH]
"""

import argparse
import sys
import time
from pathlib import Path

import rosenblatt as rb
import rosenblatt.nn.functional as F
from rosenblatt.text import CharLSTM, CharTokenizer, generate, split_text, stream_batches
from rosenblatt.text.data import default_corpus

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--corpus", default=default_corpus())
args = parser.parse_args()

text = Path(args.corpus).read_text(encoding="utf-8")
tokenizer = CharTokenizer.from_text(text)
train_text, val_text = split_text(text)
rb.manual_seed(0)
model = CharLSTM(tokenizer.vocab_size, embed_dim=64, hidden_size=256, num_layers=2)
optimizer = rb.optim.Adam(model.parameters(), lr=3e-3)

step, state, start = 0, None, time.perf_counter()
while step < args.steps:
    for x, y in stream_batches(tokenizer.encode(train_text), batch_size=32, seq_len=64):
        if state is not None:
            state = tuple(s.detach() for s in state)  # truncate the graph, keep the values
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, tokenizer.vocab_size), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        rb.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 50 == 0 or step == 1:
            speed = step * x.numel() / (time.perf_counter() - start)
            print(f"step {step:4d}  loss {loss.item():.3f}  {speed:,.0f} chars/s")
        if step == args.steps:
            break
    state = None  # a new pass over the streams starts from a zero state

print("\nsample (streamed as it is generated):")
sys.stdout.write("ROMEO:")
generate(model, tokenizer, "ROMEO:", 300, temperature=0.8, seed=0,
         callback=lambda ch: (sys.stdout.write(ch), sys.stdout.flush()))
print()
