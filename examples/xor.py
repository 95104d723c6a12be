"""Learn XOR with a 2-8-1 network written directly on rosenblatt tensors and autograd."""

import rosenblatt as rb

rb.manual_seed(0)
x = rb.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = rb.tensor([[0.0], [1.0], [1.0], [0.0]])

w1 = (rb.randn(2, 8) * 1.0).requires_grad_()
b1 = rb.zeros(8, requires_grad=True)
w2 = (rb.randn(8, 1) * 0.5).requires_grad_()
b2 = rb.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]

for step in range(1, 1001):
    hidden = (x @ w1 + b1).tanh()
    prob = (hidden @ w2 + b2).sigmoid()
    loss = -(y * prob.log() + (1 - y) * (1 - prob).log()).mean()  # binary cross-entropy
    for p in params:
        p.grad = None
    loss.backward()
    with rb.no_grad():
        for p in params:
            p -= 0.5 * p.grad
    if step % 200 == 0 or step == 1:
        print(f"step {step:4d}  loss {loss.item():.4f}")

print("predictions:")
for inputs, p in zip(x.tolist(), prob.detach().flatten().tolist()):
    print(f"  {inputs[0]:.0f} xor {inputs[1]:.0f} -> {p:.3f} ({round(p)})")
