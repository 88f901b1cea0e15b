"""The lab's ``MultiLayerPerceptron``, finished: any number of hidden layers, a bias on every layer.

The network (batches are rows, as everywhere in lab3)::

    h_0 = x                                   (batch, num_inputs)
    h_i = act_i(h_{i-1} @ W_i + b_i)          (batch, hidden_sizes[i-1]), act_i relu, tanh, ...
    y_hat = h_L @ W_out + b_out               (batch, num_outputs), no activation on the output

Each ``W`` has shape ``(fan_in, fan_out)`` and each ``b`` shape ``(1, fan_out)``, exactly like the
lab's ``w_1`` (2, 3), ``b_1`` (1, 3), ``w_2`` (3, 2), ``b_2`` (1, 2). Initialisation is the lab's
by default (``init="lab"``): weights uniform in ``[0, 0.1)`` (``torch.rand(...) * 0.1``), biases
zero. ``init="he"`` draws zero-mean weights ``N(0, 2 / fan_in)`` (He et al., 2015), which keep the
signal's size through ReLU layers; ``init_scale`` multiplies either. Weights come from a private
``torch.Generator`` seeded with ``seed``, so the same seed always gives the same network.

What the lab's appendix got wrong, and this class fixes: the output layer had no bias, the biases
were random instead of zero, the weights were ``U[0, 1)`` instead of ``U[0, 0.1)``, the forward pass
printed the layer index, and ``len(inputs)`` (the number of *features* in the (d, n) layout) was
used as the number of samples. Training lives in ``lab3.train``.
"""

import torch

from lab3 import validation
from lab3.functional import activation_names, relu, sigmoid, tanh
from lab3.validation import (
    is_count,
    is_finite_number,
    real_array,
    require,
    require_count,
    require_seed,
)

ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "identity": lambda h: h}
INIT_SCALE = 0.1  # the lab's torch.rand(...) * 0.1
INITS = ("lab", "he")  # U[0, 0.1) as in the lab; zero-mean N(0, 2 / fan_in)
MAX_INIT_SCALE = 1e3


def validate_sizes(num_inputs, hidden_sizes, num_outputs):
    """Refuse layer sizes that are not integers from 1 to ``lab3.validation.MAX_WIDTH``, or a
    network with more than ``lab3.validation.MAX_PARAMETERS`` weights and biases (``ValueError``
    naming it).
    """
    require_count("num_inputs", num_inputs, "MAX_WIDTH")
    require_count("num_outputs", num_outputs, "MAX_WIDTH")
    require(
        isinstance(hidden_sizes, (list, tuple)) and all(is_count(h) for h in hidden_sizes),
        "hidden_sizes",
        hidden_sizes,
        "a list of integers >= 1, one per hidden layer, e.g. [3] (or [] for no hidden layer)",
    )
    for h in hidden_sizes:
        require(
            h <= validation.MAX_WIDTH,
            "hidden_sizes",
            hidden_sizes,
            f"widths from 1 to {validation.MAX_WIDTH:,} (raise lab3.validation.MAX_WIDTH for more)",
        )
    sizes = [num_inputs, *hidden_sizes, num_outputs]
    count = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    require(
        count <= validation.MAX_PARAMETERS,
        "hidden_sizes",
        hidden_sizes,
        f"a network of at most {validation.MAX_PARAMETERS:,} weights and biases, not {count:,} "
        "(raise lab3.validation.MAX_PARAMETERS for more)",
    )


def validate_init(init, init_scale):
    """Refuse an ``init`` not in ``INITS``, or an ``init_scale`` outside (0, MAX_INIT_SCALE]."""
    require(isinstance(init, str) and init in INITS, "init", init, f"one of {INITS}")
    require(
        is_finite_number(init_scale) and 0 < init_scale <= MAX_INIT_SCALE,
        "init_scale",
        init_scale,
        f"a number > 0 and <= {MAX_INIT_SCALE:g}",
    )


class MultiLayerPerceptron:
    """A fully connected network ``num_inputs -> *hidden_sizes -> num_outputs``.

    Args:
        num_inputs: width ``d`` of an input row (2 for points of the plane).
        hidden_sizes: list of hidden layer widths, e.g. ``(3,)`` (the lab's) or ``[5, 3]``.
        num_outputs: width of an output row (2).
        activation: ``"relu"`` (default), ``"tanh"``, ``"sigmoid"`` or ``"identity"`` for every
            hidden layer (``lab3.functional.HIDDEN_ACTIVATIONS``), or a list with one name per
            hidden layer. The output layer has no activation (a cross-entropy loss applies the
            softmax itself).
        seed: seed of the private generator that draws the initial weights (an integer in
            ``lab3.validation.SEED_RANGE``).
        init: ``"lab"`` (weights ``U[0, 0.1)``, the default) or ``"he"`` (``N(0, 2 / fan_in)``).
        init_scale: a positive factor on the initial weights (1.0 leaves them as drawn).

    Attributes:
        weights: list of ``(fan_in, fan_out)`` float32 tensors, one per layer, output included.
        biases: list of ``(1, fan_out)`` float32 tensors, one per layer, output included.
        hidden_sizes: tuple of hidden widths; ``activations``: tuple of their activation names.

    Every weight and bias is a leaf tensor with ``requires_grad=True``, as in the lab, so
    ``objective.backward()`` fills their ``.grad``.
    """

    def __init__(
        self,
        num_inputs=2,
        hidden_sizes=(3,),
        num_outputs=2,
        activation="relu",
        seed=0,
        *,
        init="lab",
        init_scale=1.0,
    ):
        validate_sizes(num_inputs, hidden_sizes, num_outputs)
        require_seed(seed)
        validate_init(init, init_scale)
        self.init, self.init_scale = init, float(init_scale)
        self.num_inputs = int(num_inputs)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.num_outputs = int(num_outputs)
        self.activations = activation_names(activation, len(self.hidden_sizes))
        self.seed = int(seed)
        self.weights, self.biases = self._initial_parameters()

    @property
    def layer_sizes(self):
        """All widths in order: ``(num_inputs, *hidden_sizes, num_outputs)``, e.g. ``(2, 3, 2)``."""
        return (self.num_inputs, *self.hidden_sizes, self.num_outputs)

    def _initial_parameters(self):
        """The initial weights (``self.init``, seeded, times ``init_scale``) and zero biases."""
        generator = torch.Generator().manual_seed(self.seed)
        sizes = self.layer_sizes
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            if self.init == "lab":
                w = torch.rand((fan_in, fan_out), generator=generator) * INIT_SCALE
            else:  # He: zero mean, variance 2 / fan_in (a ReLU keeps half of the variance)
                w = torch.randn((fan_in, fan_out), generator=generator) * (2.0 / fan_in) ** 0.5
            w = w * self.init_scale
            weights.append(w.requires_grad_(True))
            biases.append(torch.zeros((1, fan_out), requires_grad=True))
        return weights, biases

    def parameters(self):
        """Every trainable tensor, layer by layer: ``[W_1, b_1, W_2, b_2, ...]``."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def forward(self, x):
        """The network's output for a batch of rows.

        Args:
            x: ``(batch, num_inputs)`` tensor (or array), one sample per row; from the lab's
                ``(d, n)`` data take ``inputs[:, s:s+B].T`` or ``inputs.T``.

        Returns:
            ``(batch, num_outputs)`` float32 tensor (it carries a ``grad_fn`` unless called under
            ``torch.no_grad()``).
        """
        if not isinstance(x, torch.Tensor):
            x = real_array("x", x, finite=False)
        x = torch.as_tensor(x, dtype=torch.float32)
        require(
            x.ndim == 2 and x.shape[1] == self.num_inputs,
            "x",
            tuple(x.shape),
            f"a (batch, num_inputs={self.num_inputs}) batch of rows; "
            "from (d, n) data pass inputs.T",
        )
        h = x
        for w, b, name in zip(self.weights, self.biases, self.activations):
            h = ACTIVATIONS[name](h @ w + b)
        return h @ self.weights[-1] + self.biases[-1]  # identity output

    __call__ = forward

    def effective_affine(self, inputs):
        """Least-squares affine fit ``outputs ~ x @ A + t`` of the network on ``inputs``.

        Args:
            inputs: ``(num_inputs, n)`` finite data in the lab's layout, ``n >= num_inputs + 1``
                (3 samples for the lab's 2-D points: fewer leave the fit undetermined).

        Returns:
            ``(A, t)``: float32 tensors of shapes ``(num_inputs, num_outputs)`` and
            ``(1, num_outputs)``, without grad. The fit is solved in float64 with
            ``torch.linalg.lstsq`` on ``[x, 1] @ [[A], [t]]``.
        """
        inputs = torch.as_tensor(real_array("inputs", inputs), dtype=torch.float32)
        require(
            inputs.ndim == 2
            and inputs.shape[0] == self.num_inputs
            and inputs.shape[1] >= self.num_inputs + 1,
            "inputs",
            tuple(inputs.shape),
            f"a (num_inputs={self.num_inputs}, n) tensor with n >= {self.num_inputs + 1} "
            "samples (one per column)",
        )
        x = inputs.T
        with torch.no_grad():
            outputs = self.forward(x).double()
        design = torch.cat([x.double(), torch.ones((x.shape[0], 1), dtype=torch.float64)], dim=1)
        solution = torch.linalg.lstsq(design, outputs).solution  # (num_inputs + 1, num_outputs)
        return solution[:-1].float(), solution[-1:].float()

    def effective_matrix(self, inputs):
        """The linear map the network computes on ``inputs``: ``A`` of the best fit ``x @ A + t``.

        This is how to read the learned transform of *any* network, whatever its ReLUs do:
        fit the outputs on ``inputs`` (``(num_inputs, n)``, the lab's layout) by least squares and
        keep the matrix. Returns a ``(num_inputs, num_outputs)`` float32 tensor, without grad.
        For the rotation lab it should be close to ``lab3.rotation_matrix(90)``.
        """
        return self.effective_affine(inputs)[0]

    def product_of_weights(self):
        """``W_1 @ W_2 @ ... @ W_out``: the lab's reading ``w_1 @ w_2`` of the learned transform.

        Returns a ``(num_inputs, num_outputs)`` float32 tensor, without grad.

        It equals ``effective_matrix`` only when every hidden ReLU is active (input > 0) on the
        whole data, so that each ReLU passes its input unchanged and the network is the affine map
        ``x @ (W_1 @ ... @ W_out) + (terms from the biases)``. A unit that is off for some samples
        bends the map there and makes the product wrong; large biases shift the outputs but not
        the matrix. Prefer ``effective_matrix``; this one is kept to compare with the lab.
        """
        with torch.no_grad():
            product = self.weights[0]
            for w in self.weights[1:]:
                product = product @ w
            return product.clone()

    def copy(self):
        """An independent copy with the same sizes, activations and current parameter values."""
        twin = MultiLayerPerceptron(
            self.num_inputs,
            self.hidden_sizes,
            self.num_outputs,
            list(self.activations),
            self.seed,
            init=self.init,
            init_scale=self.init_scale,
        )
        with torch.no_grad():
            for mine, theirs in zip(self.parameters(), twin.parameters()):
                theirs.copy_(mine)
        return twin

    def __repr__(self):
        return (
            f"MultiLayerPerceptron(num_inputs={self.num_inputs}, "
            f"hidden_sizes={list(self.hidden_sizes)}, num_outputs={self.num_outputs}, "
            f"activation={list(self.activations)}, seed={self.seed}"
            + (f", init={self.init!r}" if self.init != "lab" else "")
            + (f", init_scale={self.init_scale:g}" if self.init_scale != 1.0 else "")
            + ")"
        )
