# A plain PyTorch L2L meta-step, written as a user of PyTorch would, for timing only: the
# reference that docs/performance.md compares this project's speed with. Not part of the build
# or the tests. The same settings as `./l2l bench`: a coordinatewise 2-layer LSTM of 20 units,
# log-and-sign-paper preprocessing (p = 10), output scale 0.1, unroll 20, first-order (the
# optimizee gradient detached), meta-Adam with rate 0.001; a meta-step is one unroll plus the
# meta-update.
#
#   python3 torch_l2l.py quadratic_1|quadratic_128|mnist THREADS MNIST_DIR RUNS
#   python3 docs/reference/torch_l2l.py mnist 2 data/mnist 20
#
# prints the median, min and max milliseconds over RUNS meta-steps after 5 untimed ones.
import math
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
torch.manual_seed(1)
P = 10.0


def preprocess(g):
    a = g.abs()
    large = a >= math.exp(-P)
    first = torch.where(large, torch.log(a.clamp_min(math.exp(-P))) / P,
                        torch.full_like(g, -1.0))
    second = torch.where(large, torch.sign(g), g * math.exp(P))
    return torch.stack([first, second], dim=1)


class Lstm(nn.Module):
    def __init__(self, hidden=20):
        super().__init__()
        self.c1 = nn.LSTMCell(2, hidden)
        self.c2 = nn.LSTMCell(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.hidden = hidden

    def init_state(self, n):
        z = lambda: torch.zeros(n, self.hidden)
        return [(z(), z()), (z(), z())]

    def forward(self, g, state):
        x = preprocess(g)
        h1, c1 = self.c1(x, state[0])
        h2, c2 = self.c2(h1, state[1])
        return self.out(h2).squeeze(1) * 0.1, [(h1, c1), (h2, c2)]


def quadratics(batch, dims, dist):
    if dist == "gaussian":
        W = torch.randn(batch, dims, dims)
        y = torch.randn(batch, dims)
    else:
        W = torch.rand(batch, dims, dims)
        y = torch.rand(batch, dims)
    def f(theta):
        t = theta.view(batch, dims)
        r = torch.einsum("bij,bj->bi", W, t) - y
        return (r * r).sum(1).mean()
    return f, torch.randn(batch * dims)


def idx(path):
    with open(path, "rb") as fh:
        data = fh.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist_problem(root, batch=128):
    pixels = idx(root + "/train-images-idx3-ubyte").reshape(-1, 784)
    images = torch.from_numpy(pixels.astype(np.float32) / 255.0)
    labels = torch.from_numpy(idx(root + "/train-labels-idx1-ubyte").astype(np.int64))
    sizes = [(784, 20), (20,), (20, 10), (10,)]
    n = sum(math.prod(s) for s in sizes)

    def f(theta):
        i = torch.randint(0, images.shape[0], (batch,))
        x, y = images[i], labels[i]
        parts, o = [], 0
        for s in sizes:
            k = math.prod(s)
            parts.append(theta[o:o + k].view(*s))
            o += k
        h = torch.sigmoid(x @ parts[0] + parts[1])
        logits = h @ parts[2] + parts[3]
        return nn.functional.cross_entropy(logits, y)
    return f, torch.randn(n) * 0.01


def main():
    which = sys.argv[1]
    if which == "quadratic_1":
        f, theta0 = quadratics(1, 10, "gaussian")
    elif which == "quadratic_128":
        f, theta0 = quadratics(128, 10, "uniform")
    else:
        f, theta0 = mnist_problem(sys.argv[3] if len(sys.argv) > 3 else "data/mnist")
    lstm = Lstm()
    meta = torch.optim.Adam(lstm.parameters(), lr=0.001)
    n = theta0.numel()
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    warm = 5
    theta = theta0.clone().requires_grad_(True)
    state = lstm.init_state(n)
    times = []
    for r in range(warm + runs):
        t0 = time.perf_counter()
        meta_loss = 0.0
        for t in range(20):
            loss = f(theta)
            if t > 0:
                meta_loss = meta_loss + loss  # f(theta_t), t = 1..19
            g, = torch.autograd.grad(loss, theta, retain_graph=True)
            update, state = lstm(g.detach(), state)
            theta = theta + update
        meta_loss = meta_loss + f(theta)  # f(theta_20)
        meta.zero_grad()
        meta_loss.backward()
        meta.step()
        theta = theta.detach().requires_grad_(True)
        state = [(h.detach(), c.detach()) for h, c in state]
        if r % 5 == 4:  # back to theta_0 every 5 unrolls, as ./l2l bench starts anew
            theta = theta0.clone().requires_grad_(True)
            state = lstm.init_state(n)
        if r >= warm:
            times.append((time.perf_counter() - t0) * 1000)
    print(f"{which}: median {statistics.median(times):.3f} ms, min {min(times):.3f}, "
          f"max {max(times):.3f} over {runs}")


main()
