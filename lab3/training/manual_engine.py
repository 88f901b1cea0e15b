"""``engine="manual"``: the hand-derived backprop of ``lab3.backprop``, fused for speed.

``lab3.backprop.gradients`` is the readable version: one forward/backward pair per layer, every
argument converted and checked on every call. For one sample of the lab's 2-3-2 network most of
its time goes to checking and allocating, so single-sample SGD built on it would be barely faster
than the lab's autograd loop. ``ManualNet`` computes the same formulas (tests pin it to
``gradients`` for ReLU and identity hidden layers, and to torch autograd) with every buffer
allocated once and about a dozen numpy calls per step. ``benchmarks/bench_training.py`` (``make
bench``) times it against the lab's loop; ``benchmarks/README.md`` keeps the measurements.
"""

import numpy as np
import torch

from lab3.functional import cross_entropy


def _tanh_forward(z, h):
    np.tanh(z, out=h)


def _sigmoid_forward(z, h):
    """``h = (1 + tanh(z / 2)) / 2``: the sigmoid, without ``exp(-z)``'s overflow."""
    np.multiply(z, 0.5, out=h)
    np.tanh(h, out=h)
    np.multiply(h, 0.5, out=h)
    np.add(h, 0.5, out=h)


def _tanh_slope(h, out):
    """``out = 1 - h**2``: tanh's derivative, read from its output ``h``."""
    np.multiply(h, h, out=out)
    np.subtract(1.0, out, out=out)


def _sigmoid_slope(h, out):
    """``out = h * (1 - h)``: the sigmoid's derivative, read from its output ``h``."""
    np.subtract(1.0, h, out=out)
    np.multiply(out, h, out=out)


# hidden activation -> (forward into a buffer, slope from the output into a buffer); ReLU and
# identity are written out in the hot loop (ReLU's slope is sign(h), identity's is 1)
_SMOOTH = {"tanh": (_tanh_forward, _tanh_slope), "sigmoid": (_sigmoid_forward, _sigmoid_slope)}


def augmented(x):
    """``[x, 1]``: ``(rows, cols)`` -> C-contiguous ``(rows, cols + 1)`` with a last column of ones.

    With it a layer ``x @ W + b`` is one product ``[x, 1] @ [[W], [b]]``, and its gradient
    ``[x, 1].T @ dz`` is ``[[dW], [db]]`` at once (``db`` is the column sum of ``dz``, the ones
    row does exactly that).
    """
    out = np.ones((x.shape[0], x.shape[1] + 1))
    out[:, :-1] = x
    return out


class ManualNet:
    """The model's parameters as float64 numpy arrays, with every buffer a step needs.

    Layer ``i`` keeps ``A_i = [[W_i], [b_i]]`` ``(fan_in + 1, fan_out)``. All the ``A_i`` are views
    of one flat vector ``theta`` and their gradients views of one flat ``grad``, so one update
    ``theta -= grad`` moves every weight and bias at once. Per layer there are buffers for the
    pre-activation ``z`` ``(B, fan_out)``, its gradient ``dz``, the ReLU mask and the next layer's
    augmented input ``[h, 1]``; the last, shorter batch has buffers of its own. A step allocates
    nothing and checks nothing (``train`` checked the shapes once).

    The math is ``lab3.backprop.gradients`` followed by ``p -= learning_rate * grad``, regrouped
    (tests check that it agrees with both ``gradients`` and torch autograd):

    * ``dz_out = 2 * (y_hat - y) / y.size`` (``mse_backward``) or, with ``loss="cross_entropy"``,
      ``(softmax(y_hat) - y) / B`` (``cross_entropy_backward``), multiplied here by the learning
      rate once, so that every gradient below comes out already scaled by it;
    * ``[[dW], [db]] = [h, 1].T @ dz`` (``linear_backward``: the ones column sums ``dz`` over the
      batch, which is ``db``), ``dh = dz @ W.T`` and, below a ReLU layer, ``dz = dh * (z > 0)``
      (``relu_backward``; ``z > 0`` exactly where ``h = relu(z) > 0``, i.e. ``sign(h) == 1``),
      ``dz = dh * (1 - h**2)`` below tanh and ``dz = dh * h * (1 - h)`` below a sigmoid (both
      slopes read from the stored output ``h``, as ``tanh_backward`` and ``sigmoid_backward``);
    * ``W -= lr * (dW + 2 * reg * W)`` (``l2_backward``) is done as ``theta *= decay`` with
      ``decay = 1 - 2 * lr * reg`` on the weights' entries and 1 on the biases', then
      ``theta -= lr * grad``, after every gradient has been computed with the old parameters.
    """

    def __init__(self, model, batch_size, short_batch, loss="mse"):
        shapes = [(w.shape[0] + 1, w.shape[1]) for w in model.weights]
        self.theta, self.params = _flat_views(shapes)
        self.grad, self.grads = _flat_views(shapes)
        for a, w, b in zip(self.params, model.weights, model.biases):
            a[:-1], a[-1:] = w.detach().double().numpy(), b.detach().double().numpy()
        self.is_weight, views = _flat_views(shapes)  # 1.0 on the weights' entries, 0.0 on biases'
        for v in views:
            v[:-1], v[-1:] = 1.0, 0.0
        self.relu = [name == "relu" for name in model.activations]  # hidden layers only
        # (forward, slope) for tanh and sigmoid, None for relu and identity
        self.smooth = [_SMOOTH.get(name) for name in model.activations]
        self.cross_entropy = loss == "cross_entropy"
        self.batch_size = batch_size
        self.full = self._plan(self._buffers(batch_size))
        self.short = self._plan(self._buffers(short_batch)) if short_batch else None
        self.steps_done = 0

    def _buffers(self, rows):
        """Per layer ``(z, dz, mask, next_input)`` for batches of ``rows`` rows.

        ``z``, ``dz`` and ``mask`` are ``(rows, fan_out)``; ``next_input`` is the next layer's
        ``[h, 1]`` ``(rows, fan_out + 1)``, its last column ones for good (``None`` at the output).
        """
        layers = []
        for i, a in enumerate(self.params):
            fan_out = a.shape[1]
            last = i == len(self.params) - 1
            next_input = None if last else np.ones((rows, fan_out + 1))
            layers.append(
                (
                    np.empty((rows, fan_out)),
                    np.empty((rows, fan_out)),
                    np.empty((rows, fan_out)),
                    next_input,
                )
            )
        return layers

    def _plan(self, layers):
        """Everything a step touches, as tuples of ready-made views (no slicing in the loop).

        ``hidden``: per hidden layer ``(A, z, [h, 1], h, relu, smooth)`` (``h`` the view left of
        the ones; ``smooth`` the ``(forward, slope)`` pair of tanh or sigmoid, else ``None``);
        ``output``: ``(A_out, y_hat, residual, residual as a flat vector)``;
        ``backward``: per layer ``i >= 1``, last first,
        ``(grad_A, [h_in, 1].T, dz, W.T, dz_below, h_below, mask_below, relu_below,
        smooth_below)``;
        ``first``: layer 0's ``(grad_A, dz)`` (its input is the batch itself).
        """
        p, g, relu, smooth = self.params, self.grads, self.relu, self.smooth
        hidden = [
            (p[i], z, nxt, nxt[:, :-1], relu[i], smooth[i])
            for i, (z, _, _, nxt) in enumerate(layers[:-1])
        ]
        y_hat, residual = layers[-1][0], layers[-1][1]
        backward = [
            (
                g[i],
                layers[i - 1][3].T,
                layers[i][1],
                p[i][:-1].T,
                layers[i - 1][1],
                layers[i - 1][3][:, :-1],
                layers[i - 1][2],
                relu[i - 1],
                smooth[i - 1],
            )
            for i in range(len(p) - 1, 0, -1)
        ]
        output = (p[-1], y_hat, residual, residual.reshape(-1))
        return hidden, output, backward, (g[0], layers[0][1])

    def epoch(self, x, y, learning_rate, reg, divergence_bound, first_step=0, step_count=None):
        """One pass of SGD over ``x`` ``(n, d + 1)`` (augmented) and ``y`` ``(n, k)``, in order,
        or the ``step_count`` steps of it from step ``first_step`` on (counted from 0).

        Returns the float64 array of the steps' losses (before each update). Stops early at
        the first loss that is not finite or above ``divergence_bound``: ``steps_done`` then
        says how many steps were completed, and that loss is the next entry.

        This is the hot loop, written out in one piece: no allocation, no checks, no calls but
        numpy's (each costs about a microsecond on a (1, 3) array, far more than its arithmetic).
        """
        dot, maximum, subtract, multiply, sign = (
            np.dot,
            np.maximum,
            np.subtract,
            np.multiply,
            np.sign,
        )
        theta, grad, classify = self.theta, self.grad, self.cross_entropy
        decay = 1.0 - 2.0 * learning_rate * reg * self.is_weight  # 1 on the biases
        n, B = x.shape[0], self.batch_size
        last = -(-n // B) if step_count is None else min(-(-n // B), first_step + step_count)
        losses = np.empty(last - first_step)
        self.steps_done = 0
        for step, s in enumerate(range(first_step * B, min(n, last * B), B)):
            hidden, output, backward, (grad_first, dz_first) = (
                self.full if s + B <= n else self.short
            )
            xb = x[s : s + B]
            # forward: h = act([h, 1] @ [[W], [b]]), layer by layer
            h = xb
            for a, z, h_next, h_left, relu, smooth in hidden:
                dot(h, a, out=z)
                if relu:
                    maximum(z, 0.0, out=h_left)
                elif smooth is None:
                    h_left[...] = z
                else:
                    smooth[0](z, h_left)
                h = h_next
            a, y_hat, residual, flat = output
            dot(h, a, out=y_hat)
            if classify:
                losses[step] = loss = _softmax_residual(y_hat, y[s : s + B], residual)
                scale = learning_rate / y_hat.shape[0]  # lr * d loss/d logits = lr * residual / B
            else:
                subtract(y_hat, y[s : s + B], out=residual)
                losses[step] = loss = dot(flat, flat) / flat.size
                scale = 2.0 * learning_rate / flat.size  # lr * d mse / d y_hat
            if not loss <= divergence_bound:  # NaN too
                return losses
            multiply(residual, scale, out=residual)
            # backward: every layer's gradient, with the old parameters
            for g, h_in_t, dz, w_t, dz_below, h_below, mask, relu, smooth in backward:
                dot(h_in_t, dz, out=g)  # lr * [[dW], [db]]
                dot(dz, w_t, out=dz_below)  # lr * d loss / d h_below
                if relu:
                    sign(h_below, out=mask)  # 1.0 where z > 0, else 0.0
                    multiply(dz_below, mask, out=dz_below)
                elif smooth is not None:
                    smooth[1](h_below, mask)  # the slope, from the stored output
                    multiply(dz_below, mask, out=dz_below)
            dot(xb.T, dz_first, out=grad_first)
            # update every weight and bias at once
            if reg:
                multiply(theta, decay, out=theta)
            subtract(theta, grad, out=theta)
            self.steps_done = step + 1
        return losses

    def outputs(self, x):
        """The network's ``(n, k)`` outputs (before any softmax) on ``x`` ``(n, d + 1)``
        (augmented)."""
        h = x
        for a, relu, smooth in zip(self.params[:-1], self.relu, self.smooth):
            z = h @ a
            if relu:
                z = np.maximum(z, 0.0)
            elif smooth is not None:
                smooth[0](z, z)
            h = augmented(z)
        return h @ self.params[-1]

    def loss_and_objective(self, x, y, reg):
        """``(loss, objective, outputs)`` over all of ``x`` (augmented) and ``y``: the loss (mse
        or cross-entropy) and objective as floats, the ``(n, k)`` outputs as an array."""
        outputs = self.outputs(x)
        if self.cross_entropy:
            loss = float(cross_entropy(y, outputs))
        else:
            loss = float(np.mean((outputs - y) ** 2))
        return loss, loss + reg * sum(float(np.sum(a[:-1] ** 2)) for a in self.params), outputs

    def copy_into(self, model):
        """Write the float64 parameters back into the model's float32 tensors."""
        with torch.no_grad():
            for a, w, b in zip(self.params, model.weights, model.biases):
                w.copy_(torch.from_numpy(a[:-1]))
                b.copy_(torch.from_numpy(a[-1:]))


def _softmax_residual(logits, y, out):
    """``out = softmax(logits) - y`` for ``(B, k)`` rows; returns the batch's mean cross-entropy.

    The row maximum is subtracted before ``exp`` (softmax does not change), so logits of any size
    give finite numbers: ``log softmax = shifted - log(sum(exp(shifted)))``.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=out)
    total = out.sum(axis=1, keepdims=True)
    loss = -float(np.sum(y * (shifted - np.log(total)))) / logits.shape[0]
    np.divide(out, total, out=out)
    np.subtract(out, y, out=out)
    return loss


def _flat_views(shapes):
    """One flat float64 vector and C-contiguous 2-D views of consecutive pieces of it."""
    flat = np.zeros(sum(rows * cols for rows, cols in shapes))
    views, offset = [], 0
    for rows, cols in shapes:
        views.append(flat[offset : offset + rows * cols].reshape(rows, cols))
        offset += rows * cols
    return flat, views
