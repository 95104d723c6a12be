import math

import torch

# 1. tensors and autograd by hand
torch.manual_seed(0)
dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a, b, c, d = (torch.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
learning_rate = 1e-6
for _ in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
manual_loss = loss.item()

# 2. a custom autograd Function
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 1)

a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
for _ in range(2000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        a -= 5e-6 * a.grad
        b -= 5e-6 * b.grad
        c -= 5e-6 * c.grad
        d -= 5e-6 * d.grad
        for p in (a, b, c, d):
            p.grad.zero_()
function_loss = loss.item()

# 3. nn.Sequential and an optimizer
xf = x.float()
p = torch.tensor([1, 2, 3])
xx = xf.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for _ in range(2000):
    loss = loss_fn(model(xx), y.float())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_layer = model[0]

sequential_loss = loss.item()
cubic = linear_layer.weight[:, 2].item()

# 4. a module of its own, with dynamic control flow
class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x, power):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, power):
            y = y + self.d * x ** exp
        return y

dyn = DynamicNet()
opt = torch.optim.SGD(dyn.parameters(), lr=1e-8, momentum=0.9)
for t in range(1500):
    loss = torch.nn.functional.mse_loss(dyn(xf, 4 + t % 2), y.float(), reduction="sum")
    if t == 0:
        dynamic_start = loss.item()
    opt.zero_grad()
    loss.backward()
    opt.step()
dynamic_loss = loss.item()
names = [n for n, _ in dyn.named_parameters()]
