"""Computational graphs drawn as circuits (CS231n style): values forward, gradients backward.

``draw_graph(nodes, edges, show="values" | "gradients" | "both")`` draws a graph of
``lab3.figures.circuit_graphs`` (``Node`` and ``Edge`` lists, made by its ``scalar_graph`` or
``mlp_graph``, which are importable from here too) with matplotlib: no graphviz, no system
package. Each box shows a value and, going backward, each arrow carries ``dJ/d(its source)``.

This module imports matplotlib only when ``draw_graph`` is called.
"""

import numpy as np

from lab3.figures.circuit_graphs import GATES, Edge, Node, mlp_graph, scalar_graph
from lab3.validation import require

__all__ = ["GATES", "Edge", "Node", "draw_graph", "format_value", "mlp_graph", "scalar_graph"]

SHOWS = ("values", "gradients", "both")
KINDS = {  # kind -> (box colour, legend text)
    "input": ("#dbe9f6", "input or target"),
    "param": ("#fdf0c8", "parameter"),
    "value": ("#ffffff", "computed value"),
    "output": ("#f6d5d5", "objective"),
}
GRADIENT_COLOUR = "tab:red"


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
