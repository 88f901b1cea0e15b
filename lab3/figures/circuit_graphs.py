"""Computational graphs as data: the values forward and the gradients backward, no drawing.

A graph is two lists (``lab3.figures.circuits`` draws them):

* ``Node(name, value, xy, kind="value", label=None, grad=None)``: a value of the computation
  (an input, a parameter, an intermediate, the objective), drawn as a box at ``xy`` showing
  ``label`` (default ``name``) and, in the forward picture, ``value``;
* ``Edge(src, dst, grad=None)``: ``src``'s value flows into the computation of ``dst``. Its
  ``grad`` is ``dJ/d src`` *through this edge*: the part of ``src``'s gradient that comes back
  from ``dst``. Where a value branches (a weight used by its layer and by the penalty), the
  gradients on its outgoing edges add up to its whole gradient.

Two builders compute the numbers:

* ``scalar_graph(inputs, gates)``: a circuit of scalar add / mul / max gates, evaluated forward
  and differentiated backward gate by gate (the warm-up ``f = (x + y) * z``);
* ``mlp_graph(weights, biases, x, y, reg)``: the lab's network, one node per matrix, with the
  values of ``lab3.backprop``'s forward pass and the gradients of its backward pieces.

Shapes follow lab3: samples are rows, ``x`` is ``(batch, n_0)``, ``W_l`` is ``(n_{l-1}, n_l)``.
"""

from dataclasses import dataclass

import numpy as np

from lab3 import backprop
from lab3.validation import require

GATES = ("add", "mul", "max")
_STEP, _TOP = 2.4, 1.5  # mlp_graph: distance between values along the chain; height of parameters


@dataclass(frozen=True)
class Node:
    """One value of the graph. ``value`` and ``grad``: a number, an array, text or ``None``."""

    name: str
    value: object
    xy: tuple
    kind: str = "value"
    label: str = None
    grad: object = None


@dataclass(frozen=True)
class Edge:
    """``src`` feeds ``dst``; ``grad`` is ``dJ/d src`` through this edge (``None``: not drawn).

    ``at`` says where along the edge its gradient is written (0: at ``src``, 1: at ``dst``).
    """

    src: str
    dst: str
    grad: object = None
    at: float = 0.5


# ----------------------------------------------------------------------------------------------
# Scalar circuits
# ----------------------------------------------------------------------------------------------

_SYMBOLS = {"add": "+", "mul": "*", "max": "max"}


def _gate_forward(op, a, b):
    return {"add": a + b, "mul": a * b, "max": max(a, b)}[op]


def _gate_backward(op, a, b, upstream):
    """``(d out/d a, d out/d b)`` times ``upstream``: add distributes, mul swaps, max routes."""
    if op == "add":
        return upstream, upstream
    if op == "mul":
        return upstream * b, upstream * a
    if a == b:  # a tie has no derivative; like torch.maximum, split the gradient in half
        return upstream / 2, upstream / 2
    return (upstream, 0.0) if a > b else (0.0, upstream)


def scalar_graph(inputs, gates, *, upstream=1.0, positions=None):
    """A circuit of scalar gates with every value and gradient computed.

    Args:
        inputs: ``{name: number}``, e.g. ``{"x": -2, "y": 5, "z": -4}``.
        gates: ``[(name, op, (a, b)), ...]`` in the order to compute them; ``op`` is ``"add"``,
            ``"mul"`` or ``"max"`` and ``a``, ``b`` name inputs or earlier gates. The last gate
            is the output. E.g. ``[("q", "add", ("x", "y")), ("f", "mul", ("q", "z"))]``.
        upstream: the gradient arriving at the output (1: differentiate the output itself).
        positions: optional ``{name: (x, y)}``; by default inputs stack in column 0 and each
            gate sits one column right of its latest operand, level with their middle.

    Returns:
        ``(nodes, edges)``: each node's ``grad`` is ``d output / d node`` (times ``upstream``);
        each edge's ``grad`` is the part of it coming back through that edge.
    """
    require(
        isinstance(inputs, dict) and inputs, "inputs", inputs, "a non-empty {name: number} dict"
    )
    require(
        isinstance(gates, (list, tuple)) and gates,
        "gates",
        gates,
        "a non-empty list of (name, op, (a, b)) triples",
    )
    values = {name: float(v) for name, v in inputs.items()}
    for name, op, operands in gates:
        require(op in GATES, "op", op, f"one of {GATES} (gate {name!r})")
        require(name not in values, "gates", name, "a name not used by an input or earlier gate")
        for operand in operands:
            require(
                operand in values,
                "gates",
                operand,
                f"an input or an earlier gate as operand of {name!r}",
            )
        values[name] = _gate_forward(op, *(values[o] for o in operands))
    grads = dict.fromkeys(values, 0.0)
    grads[gates[-1][0]] = float(upstream)
    edges = []
    for name, op, operands in reversed(gates):  # reverse order: a gate's gradient is complete
        local = _gate_backward(op, *(values[o] for o in operands), grads[name])
        for operand, g in zip(operands, local):
            grads[operand] += g
            edges.append(Edge(operand, name, g))
    xy = dict(positions or _scalar_layout(inputs, gates))
    labels = {
        name: f"{name} = {a} {_SYMBOLS[op]} {b}" if op != "max" else f"{name} = max({a}, {b})"
        for name, op, (a, b) in gates
    }
    nodes = [
        Node(
            name,
            values[name],
            tuple(xy[name]),
            "input" if name in inputs else "value",
            labels.get(name),
            grads[name],
        )
        for name in values
    ]
    return nodes, edges[::-1]


def _scalar_layout(inputs, gates, step=1.6, spacing=1.2):
    xy = {name: (0.0, spacing * (len(inputs) - 1 - i)) for i, name in enumerate(inputs)}
    for name, _, operands in gates:
        xy[name] = (
            max(xy[o][0] for o in operands) + step,
            sum(xy[o][1] for o in operands) / len(operands),
        )
    return xy


# ----------------------------------------------------------------------------------------------
# The lab's network
# ----------------------------------------------------------------------------------------------


def mlp_graph(
    weights,
    biases,
    x,
    y,
    reg=0.0,
    output="identity",
    activation="relu",
    *,
    weight_names=None,
    bias_names=None,
):
    """The network's computational graph on a batch, one node per matrix, values and gradients.

    Args:
        weights, biases, x, y, reg, output, activation: as for ``lab3.backprop.gradients``
            (ReLU hidden layers by default; ``output="softmax"`` adds the lab's softmax). One
            sample keeps the picture small: ``x`` of shape ``(1, n_0)``.
        weight_names, bias_names: names of the parameters (default ``W1, W2, ...`` and
            ``b1, b2, ...``; the lab's worked example calls them ``W, M`` and ``b, c``).

    Returns:
        ``(nodes, edges)``. The nodes: ``x``, ``y``, every parameter, ``z1``, ``a1``, ...,
        ``ŷ`` (the last ``z``, or its softmax), ``ℒ`` (the mse), ``R`` (the penalty
        ``reg * sum ||W||^2``, only if ``reg > 0``; its label names the weights, e.g.
        ``R = 1 (‖W‖² + ‖M‖²)``, up to three of them) and ``J``. Edge gradients come from
        ``lab3.backprop``'s backward pieces; the gradients on a weight's two edges (into its layer
        and into ``R``) add up to ``lab3.gradients``'s ``dW``.
    """
    weights = [backprop.as_float64(w) for w in weights]
    biases = [backprop.as_float64(b) for b in biases]
    x, y = backprop.as_float64(x), backprop.as_float64(y)
    depth = len(weights)
    w_names = list(weight_names or [f"W{i}" for i in range(1, depth + 1)])
    b_names = list(bias_names or [f"b{i}" for i in range(1, depth + 1)])
    require(len(w_names) == depth, "weight_names", weight_names, f"{depth} names, one per layer")
    require(len(b_names) == depth, "bias_names", bias_names, f"{depth} names, one per layer")
    y_hat, caches = backprop.forward(weights, biases, x, output, activation)  # checks the shapes
    loss, loss_cache = backprop.mse_forward(y_hat, y)
    d_y_hat = backprop.mse_backward(loss_cache)
    pieces = _backward_pieces(caches, d_y_hat)

    nodes = [Node("x", x, (0.0, 0.0), "input", grad=pieces[0][2])]
    edges = []
    previous, column = "x", 0.0
    for i, (cache, piece) in enumerate(zip(caches, pieces)):
        params = (w_names[i], weights[i], b_names[i], biases[i])
        last = i == depth - 1
        z_name = "ŷ" if last and output != "softmax" else f"z{i + 1}"
        column += _STEP
        z = _add_linear(nodes, edges, cache, piece, params, (i, z_name, previous, column), reg)
        previous = z_name
        if not last or output == "softmax":
            column += _STEP
            value = y_hat if last else z
            previous = _add_activation(
                nodes, edges, cache[0], piece, (i, z_name, value), last, column
            )
    _add_objective(nodes, edges, column + _STEP, (y, loss, d_y_hat), weights, w_names, reg)
    return nodes, edges


def _backward_pieces(caches, d_y_hat):
    """Per layer ``(d_out, dz, d_in, dW, db)``: the backward pass, keeping what the edges show."""
    d_out, pieces = d_y_hat, []
    for kind, linear_cache, activation_cache in reversed(caches):
        dz = backprop._ACTIVATIONS[kind][1](d_out, activation_cache)  # as gradients does
        d_in, dw, db = backprop.linear_backward(dz, linear_cache)
        pieces.append((d_out, dz, d_in, dw, db))
        d_out = d_in
    return pieces[::-1]


def _add_linear(nodes, edges, cache, piece, params, where, reg):
    """Add one layer's nodes ``W``, ``b``, ``z = previous W + b`` and their edges; return ``z``."""
    (_, (a_in, w), _), (_, dz, d_in, dw, db) = cache, piece
    w_name, weight, b_name, bias = params
    index, z_name, previous, column = where
    z = a_in @ w + bias
    z_label = f"{'ŷ = ' if z_name == 'ŷ' else ''}z{index + 1} = {previous} {w_name} + {b_name}"
    nodes += [
        Node(w_name, weight, (column - 0.9, _TOP), "param", grad=dw + backprop.l2_backward(w, reg)),
        Node(b_name, bias, (column + 0.9, _TOP), "param", grad=db),
        Node(z_name, z, (column, 0.0), label=z_label, grad=dz),
    ]
    edges += [Edge(previous, z_name, d_in), Edge(w_name, z_name, dw), Edge(b_name, z_name, db)]
    return z


def _add_activation(nodes, edges, kind, piece, layer, last, column):
    """The node after ``z``: ``a = relu(z)`` (or ``a = z``), or the softmax's ``ŷ``; its name.

    ``layer`` is ``(index, z's name, value)``: the value is ``z`` itself, or the softmax's ``ŷ``.
    """
    index, z_name, value = layer
    relu = kind == "relu"
    name = "ŷ" if last else f"a{index + 1}"
    if last:
        label = f"ŷ = softmax({z_name})"
    else:
        label = f"{name} = relu({z_name})" if relu else f"{name} = {z_name}"
        value = np.maximum(value, 0) if relu else value
    d_out, dz = piece[0], piece[1]
    nodes.append(Node(name, value, (column, 0.0), label=label, grad=d_out))
    edges.append(Edge(z_name, name, dz))
    return name


def _add_objective(nodes, edges, column, loss_parts, weights, w_names, reg):
    """The targets ``y``, the mse ``ℒ``, the penalty ``R`` (if ``reg > 0``) and ``J``."""
    y, loss, d_y_hat = loss_parts
    penalty = float(reg * sum(np.sum(w**2) for w in weights))
    nodes += [
        Node("y", y, (column - 1.0, -1.4), "input", grad=-d_y_hat),
        Node("ℒ", float(loss), (column, 0.0), label="ℒ = mse(ŷ, y)", grad=1.0),
    ]
    edges += [Edge("ŷ", "ℒ", d_y_hat), Edge("y", "ℒ", -d_y_hat), Edge("ℒ", "J", 1.0)]
    terms = "ℒ"
    if reg > 0:
        # name the weights while the label stays short
        norms = "(" + " + ".join(f"‖{n}‖²" for n in w_names) + ")" if len(w_names) <= 3 else "Σ‖W‖²"
        nodes.append(Node("R", penalty, (column, 2 * _TOP), label=f"R = {reg:g} {norms}", grad=1.0))
        edges += [
            Edge(name, "R", backprop.l2_backward(w, reg), at=0.4)
            for name, w in zip(w_names, weights)
        ]
        edges.append(Edge("R", "J", 1.0))
        terms = "ℒ + R"
    where = (column + 0.8 * _STEP, 0.0)
    nodes.append(Node("J", float(loss) + penalty, where, "output", f"J = {terms}", grad=1.0))
