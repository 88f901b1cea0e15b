"""Computational graphs drawn as circuits (CS231n style): values forward, gradients backward.

A graph is two lists:

* ``Node(name, value, xy, kind="value", label=None, grad=None)``: a value of the computation
  (an input, a parameter, an intermediate, the objective), drawn as a box at ``xy`` showing
  ``label`` (default ``name``) and, in the forward picture, ``value``;
* ``Edge(src, dst, grad=None)``: ``src``'s value flows into the computation of ``dst``. Its
  ``grad`` is ``dJ/d src`` *through this edge*: the part of ``src``'s gradient that comes back
  from ``dst``. Where a value branches (a weight used by its layer and by the penalty), the
  gradients on its outgoing edges add up to its whole gradient.

``draw_graph(nodes, edges, show="values" | "gradients" | "both")`` draws either picture with
matplotlib (no graphviz, no system package). Two builders compute the numbers:

* ``scalar_graph(inputs, gates)``: a circuit of scalar add / mul / max gates, evaluated forward
  and differentiated backward gate by gate (the warm-up ``f = (x + y) * z``);
* ``mlp_graph(weights, biases, x, y, reg)``: the lab's network, one node per matrix, with the
  values of ``lab3.backprop``'s forward pass and the gradients of its backward pieces.

Shapes follow lab3: samples are rows, ``x`` is ``(batch, n_0)``, ``W_l`` is ``(n_{l-1}, n_l)``.
This module imports matplotlib only when ``draw_graph`` is called.
"""

from dataclasses import dataclass

import numpy as np

from lab3 import backprop
from lab3.validation import require

SHOWS = ("values", "gradients", "both")
KINDS = {  # kind -> (box colour, legend text)
    "input": ("#dbe9f6", "input or target"),
    "param": ("#fdf0c8", "parameter"),
    "value": ("#ffffff", "computed value"),
    "output": ("#f6d5d5", "objective"),
}
GATES = ("add", "mul", "max")
GRADIENT_COLOUR = "tab:red"
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


def format_value(value, digits=4, max_entries=16, zero=1e-12):
    """``value`` as short text: a number ``"31"``, a row ``"[31 31 31]"``, a matrix row by row.

    Arrays with more than ``max_entries`` entries are summarised by their shape and range
    (``"4x5: 1 to 4"``), or by their one value if all entries are equal (``"4x5: all 2"``).
    Entries smaller than ``zero`` in size (rounding noise of a gradient that is 0) are written 0.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    array = np.asarray(value, dtype=np.float64)
    array = np.where(np.abs(array) < zero, 0.0, array)
    number = lambda v: f"{float(v) + 0.0:.{digits}g}"  # + 0.0: no "-0"
    if array.ndim == 0:
        return number(array)
    array = array.reshape(1, -1) if array.ndim == 1 else array.reshape(-1, array.shape[-1])
    if array.size > max_entries:
        shape = "x".join(str(n) for n in array.shape)
        if np.all(array == array.flat[0]):
            return f"{shape}: all {number(array.flat[0])}"
        return f"{shape}: {number(array.min())} to {number(array.max())}"
    return "\n".join("[" + " ".join(number(v) for v in row) + "]" for row in array)


# ----------------------------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------------------------


def _validate_graph(nodes, edges, show):
    require(show in SHOWS, "show", show, f"one of {SHOWS}")
    names = [node.name for node in nodes]
    require(len(names) == len(set(names)), "nodes", names, "nodes with distinct names")
    for node in nodes:
        require(
            node.kind in KINDS, "kind", node.kind, f"one of {tuple(KINDS)} (node {node.name!r})"
        )
    for edge in edges:
        for end in (edge.src, edge.dst):
            require(
                end in names,
                "edges",
                f"{edge.src} -> {edge.dst}",
                f"edges between the nodes' names ({', '.join(names)})",
            )


def _node_text(node, show, fan_out, of, style):
    """The box's text: its label, its value (forward) and, backward, its whole gradient.

    A node shows its gradient only where no single edge already does: the output (no outgoing
    edge; its gradient is where the backward pass starts) and a value used twice, whose gradient
    is the sum of its edges'.
    """
    lines = [node.label or node.name]
    if show in ("values", "both") and node.value is not None:
        lines.append(format_value(node.value, **style))
    if show != "values" and node.grad is not None and fan_out != 1:
        lines.append(f"d{of}/d{node.name} = {format_value(node.grad, **style)}")
    return "\n".join(lines)


def _exit_point(centre, towards, box):
    """Where the ray from ``centre`` to ``towards`` leaves ``box`` (half width, half height)."""
    direction = np.asarray(towards, dtype=float) - centre
    scales = [half / abs(d) for half, d in zip(box, direction) if abs(d) > 1e-12]
    return centre + direction * min([1.0, *scales])


def _label_placement(src, dst):
    """Write an edge's label beside it, clear of the line and of its neighbours' labels.

    A horizontal edge gets its label above it (clear of the boxes at its ends); a slanted one
    to the side it slants away from, so the labels of two edges meeting at a box do not collide.
    """
    dx, dy = dst[0] - src[0], dst[1] - src[1]
    if abs(dy) < 1e-9:
        return dict(ha="center", va="bottom", xytext=(0, 9))
    if dx > 1e-9:
        return dict(ha="right", va="center", xytext=(-3, 0))
    return dict(ha="left", va="center", xytext=(3, 0))


def draw_graph(
    nodes,
    edges,
    *,
    show="values",
    title=None,
    ax=None,
    digits=4,
    max_entries=16,
    fontsize=8,
    legend=True,
    scale=1.2,
    of="J",
):
    """Draw a graph: boxes at the nodes' ``xy``, arrows along the edges.

    Args:
        nodes, edges: lists of ``Node`` and ``Edge`` (see the module's docstring).
        show: ``"values"`` (each box shows its value; arrows point forward), ``"gradients"``
            (each edge is labelled in red with its gradient and points backward, from ``dst``
            to ``src``; boxes show their name, and their whole gradient where a value branches)
            or ``"both"`` (values in the boxes, gradients on the edges, arrows forward).
        title: the figure's title (a diagram has no axes, so the title says what it shows).
        ax: matplotlib Axes to draw on (default: a new figure, ``scale`` inches per unit of xy).
        digits, max_entries: how numbers are written (``format_value``).
        fontsize: of the boxes; edge labels are one point smaller.
        legend: add a legend of the node kinds present.
        scale: inches per unit of the nodes' coordinates, for a new figure.
        of: the name of the output the gradients are of (``"J"``: they are ``dJ/d...``).

    Returns:
        The Axes (axis off). Every label is one of its text artists (``ax.texts``).
    """
    _validate_graph(nodes, edges, show)
    style = dict(digits=digits, max_entries=max_entries)
    ax = _diagram_axes(nodes, ax, scale)
    boxes = _draw_boxes(ax, nodes, edges, show, of, style, fontsize)
    half = _half_sizes(ax, boxes)  # known once the boxes are drawn
    by_name = {node.name: node for node in nodes}
    for edge in edges:
        src, dst = (np.asarray(by_name[n].xy, dtype=float) for n in (edge.src, edge.dst))
        _draw_arrow(ax, src, dst, half[edge.src], half[edge.dst], backward=show == "gradients")
        if show != "values" and edge.grad is not None:
            _draw_edge_gradient(ax, edge, src, dst, style, fontsize)
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    if legend:
        _draw_legend(ax, nodes, show, of, fontsize)
    return ax


def _diagram_axes(nodes, ax, scale):
    """``ax`` (or a new figure's, ``scale`` inches per unit of xy) framing the nodes, axis off."""
    import matplotlib.pyplot as plt

    xs = [node.xy[0] for node in nodes]
    ys = [node.xy[1] for node in nodes]
    if ax is None:
        span_x, span_y = max(xs) - min(xs) + 1.6, max(ys) - min(ys) + 1.4
        _, ax = plt.subplots(figsize=(scale * span_x, scale * span_y + 0.6))
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    return ax


def _draw_boxes(ax, nodes, edges, show, of, style, fontsize):
    """One text box per node, coloured by its kind: ``{name: text artist}``."""
    fan_out = {node.name: sum(edge.src == node.name for edge in edges) for node in nodes}
    return {
        node.name: ax.text(
            *node.xy,
            _node_text(node, show, fan_out[node.name], of, style),
            ha="center",
            va="center",
            fontsize=fontsize,
            zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", fc=KINDS[node.kind][0], ec="0.3", lw=0.8),
        )
        for node in nodes
    }


def _half_sizes(ax, boxes):
    """``{name: (half width, half height)}`` of each drawn box, in data units."""
    ax.figure.canvas.draw()  # the boxes' sizes are known once drawn
    to_data = ax.transData.inverted()
    half = {}
    for name, text in boxes.items():
        corners = text.get_bbox_patch().get_window_extent().get_points()
        (x0, y0), (x1, y1) = to_data.transform(corners)
        half[name] = (abs(x1 - x0) / 2, abs(y1 - y0) / 2)
    return half


def _draw_arrow(ax, src, dst, src_half, dst_half, backward):
    """An arrow from box edge to box edge: forward, or (gradients) backward in red."""
    start, end = _exit_point(src, dst, src_half), _exit_point(dst, src, dst_half)
    if backward:
        start, end = end, start
    colour = GRADIENT_COLOUR if backward else "0.4"
    arrow = dict(arrowstyle="-|>", color=colour, lw=1.0, shrinkA=1, shrinkB=1)
    ax.annotate("", xy=end, xytext=start, zorder=1, arrowprops=arrow)


def _draw_edge_gradient(ax, edge, src, dst, style, fontsize):
    """The edge's gradient, in red, beside the edge at ``edge.at`` of the way."""
    ax.annotate(
        format_value(edge.grad, **style),
        xy=src + edge.at * (dst - src),
        textcoords="offset points",
        fontsize=fontsize - 1,
        color=GRADIENT_COLOUR,
        zorder=2,
        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85),
        **_label_placement(src, dst),
    )


def _draw_legend(ax, nodes, show, of, fontsize):
    """A legend of the node kinds present (and the gradients' colour), under the diagram."""
    import matplotlib.patches as mpatches

    kinds = [kind for kind in KINDS if any(node.kind == kind for node in nodes)]
    handles = [mpatches.Patch(fc=KINDS[k][0], ec="0.3", label=KINDS[k][1]) for k in kinds]
    if show != "values":
        handles.append(mpatches.Patch(color=GRADIENT_COLOUR, label=f"gradient d{of}/d(source)"))
    ax.legend(
        handles=handles,
        loc="upper left",
        fontsize=fontsize - 1,
        frameon=False,
        bbox_to_anchor=(0, 0),
        ncol=len(handles),
    )


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
