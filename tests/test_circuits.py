"""lab3.figures.circuits: graphs whose numbers are right and whose drawings show them."""

import numpy as np
import pytest
import torch

from lab3 import backprop
from lab3.figures import circuits
from lab3.figures.circuits import Edge, Node


def texts(ax):
    return [t.get_text() for t in ax.texts]


def by_name(nodes):
    return {node.name: node for node in nodes}


def edge_grads(edges, src):
    return [edge.grad for edge in edges if edge.src == src]


def test_format_value_writes_numbers_rows_matrices_and_summaries():
    assert circuits.format_value(31.0) == "31"
    assert circuits.format_value(1 / 3) == "0.3333"
    assert circuits.format_value(-0.0) == "0"
    assert circuits.format_value(np.full((1, 3), 280.0)) == "[280 280 280]"
    assert circuits.format_value(np.array([[1.0, -2], [3, 4]])) == "[1 -2]\n[3 4]"
    assert circuits.format_value(np.full((4, 5), 2.0), max_entries=6) == "4x5: all 2"
    assert circuits.format_value(np.arange(20.0).reshape(4, 5), max_entries=6) == "4x5: 0 to 19"
    assert circuits.format_value(np.array([1e-17, -3e-17, 0.5])) == "[0 0 0.5]"  # rounding noise
    assert circuits.format_value("text") == "text" and circuits.format_value(None) == ""


def test_the_warm_up_circuit_has_cs231ns_numbers():
    nodes, edges = circuits.scalar_graph(
        {"x": -2, "y": 5, "z": -4}, [("q", "add", ("x", "y")), ("f", "mul", ("q", "z"))]
    )
    values = {n.name: n.value for n in nodes}
    grads = {n.name: n.grad for n in nodes}
    assert values == {"x": -2, "y": 5, "z": -4, "q": 3, "f": -12}
    assert grads == {"x": -4, "y": -4, "z": 3, "q": -4, "f": 1}
    assert by_name(nodes)["f"].label == "f = q * z"


@pytest.mark.parametrize(
    "op, torch_op", [("add", torch.add), ("mul", torch.mul), ("max", torch.maximum)]
)
@pytest.mark.parametrize("a, b", [(3.0, -1.0), (-0.5, 2.5), (0.0, 0.0), (1.5, 1.5)])
def test_every_gate_agrees_with_autograd_ties_included(op, torch_op, a, b):
    nodes, edges = circuits.scalar_graph({"a": a, "b": b}, [("out", op, ("a", "b"))], upstream=2.0)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = torch_op(ta, tb)
    (2.0 * out).backward()
    got = by_name(nodes)
    assert got["out"].value == pytest.approx(out.item())
    assert got["a"].grad == pytest.approx(ta.grad.item())
    assert got["b"].grad == pytest.approx(tb.grad.item())


def test_a_value_used_twice_gets_the_sum_of_its_edges_gradients():
    # f = (x * y) + x: x branches, so its gradient is y + 1 from two edges.
    nodes, edges = circuits.scalar_graph(
        {"x": 3.0, "y": -2.0}, [("p", "mul", ("x", "y")), ("f", "add", ("p", "x"))]
    )
    assert sorted(edge_grads(edges, "x")) == [-2.0, 1.0]
    assert by_name(nodes)["x"].grad == -1.0


def test_scalar_graph_refuses_unknown_gates_and_operands():
    with pytest.raises(ValueError, match="op='pow' is not allowed"):
        circuits.scalar_graph({"x": 1}, [("f", "pow", ("x", "x"))])
    with pytest.raises(ValueError, match="gates='w' is not allowed: an input or an earlier gate"):
        circuits.scalar_graph({"x": 1}, [("f", "add", ("x", "w"))])


def test_draw_shows_values_forward_and_gradients_backward():
    nodes, edges = circuits.scalar_graph(
        {"x": -2, "y": 5, "z": -4}, [("q", "add", ("x", "y")), ("f", "mul", ("q", "z"))]
    )
    ax = circuits.draw_graph(nodes, edges, show="values", title="f = (x + y) z")
    shown = texts(ax)
    assert "q = x + y\n3" in shown and "f = q * z\n-12" in shown and "x\n-2" in shown
    assert ax.get_title() == "f = (x + y) z" and not ax.axison
    assert not any("-4" == t for t in shown)  # no gradients in the forward picture
    ax = circuits.draw_graph(nodes, edges, show="gradients", of="f")
    shown = texts(ax)
    assert shown.count("-4") == 3 and "3" in shown  # x, y and q carry -4; z carries 3
    assert "f = q * z\ndf/df = 1" in shown and "q = x + y" in shown
    assert "gradient df/d(source)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_draw_refuses_a_bad_graph():
    nodes = [Node("a", 1.0, (0, 0)), Node("b", 2.0, (1, 0))]
    with pytest.raises(ValueError, match="show='up' is not allowed"):
        circuits.draw_graph(nodes, [], show="up")
    with pytest.raises(ValueError, match="edges='a -> c' is not allowed"):
        circuits.draw_graph(nodes, [Edge("a", "c")])
    with pytest.raises(ValueError, match="kind='box' is not allowed"):
        circuits.draw_graph([Node("a", 1.0, (0, 0), kind="box")], [])


@pytest.fixture(scope="module")
def small_net():
    rng = np.random.default_rng(3)
    sizes = [2, 3, 2]
    weights = [rng.uniform(-0.5, 0.5, (m, n)) for m, n in zip(sizes, sizes[1:])]
    biases = [rng.uniform(0.05, 0.1, (1, n)) for n in sizes[1:]]
    return weights, biases, rng.uniform(-1, 1, (1, 2)), rng.uniform(-1, 1, (1, 2))


def test_mlp_graph_gradients_agree_with_lab3_gradients(small_net):
    weights, biases, x, y = small_net
    nodes, edges = circuits.mlp_graph(weights, biases, x, y, reg=0.01)
    dW, db = backprop.gradients(weights, biases, x, y, reg=0.01)
    nodes = by_name(nodes)
    for i in range(2):
        # a weight branches (its layer and the penalty): its edges add up to lab3's dW
        np.testing.assert_allclose(sum(edge_grads(edges, f"W{i + 1}")), dW[i], rtol=1e-12)
        np.testing.assert_allclose(nodes[f"W{i + 1}"].grad, dW[i], rtol=1e-12)
        np.testing.assert_allclose(edge_grads(edges, f"b{i + 1}")[0], db[i], rtol=1e-12)
    assert nodes["J"].value == pytest.approx(backprop.objective(weights, biases, x, y, reg=0.01))


def test_mlp_graph_values_and_gradients_agree_with_autograd(small_net):
    weights, biases, x, y = small_net
    nodes, edges = circuits.mlp_graph(weights, biases, x, y, reg=0.01)
    nodes = by_name(nodes)
    W1, b1, W2, b2, xt = (
        torch.tensor(a, requires_grad=True)
        for a in (*weights[:1], biases[0], weights[1], biases[1], x)
    )
    z1 = xt @ W1 + b1
    a1 = torch.relu(z1)
    y_hat = a1 @ W2 + b2
    for t in (z1, a1, y_hat):
        t.retain_grad()
    J = ((y_hat - torch.tensor(y)) ** 2).mean() + 0.01 * ((W1**2).sum() + (W2**2).sum())
    J.backward()
    for name, t in [("z1", z1), ("a1", a1), ("ŷ", y_hat)]:
        np.testing.assert_allclose(nodes[name].value, t.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(nodes[name].grad, t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(edge_grads(edges, "x")[0], xt.grad.numpy(), rtol=1e-10)
    assert nodes["J"].value == pytest.approx(J.item())


LAB = dict(
    weights=[
        np.repeat([[1.0], [2], [3], [4]], 5, axis=1),
        np.repeat([[1.0], [2], [3], [1], [2]], 3, axis=1),
    ],
    biases=[np.ones((1, 5)), np.ones((1, 3))],
    x=np.array([[1.0, 2, 3, 4]]),
    y=np.array([[1.0, 0, 1]]),
)


def test_the_worked_example_is_drawn_with_the_labs_numbers_and_dJ_dc():
    nodes, edges = circuits.mlp_graph(
        **LAB, reg=1.0, output="softmax", weight_names=["W", "M"], bias_names=["b", "c"]
    )
    ax = circuits.draw_graph(
        nodes, edges, show="values", title="the lab's 4-5-3 example", max_entries=6
    )
    shown = texts(ax)
    for text in [
        "z1 = x W + b\n[31 31 31 31 31]",
        "z2 = a1 M + c\n[280 280 280]",
        "ŷ = softmax(z2)\n[0.3333 0.3333 0.3333]",
        "ℒ = mse(ŷ, y)\n0.3333",
        "R = 1 (‖W‖² + ‖M‖²)\n207",
        "J = ℒ + R\n207.3",
        "W\n4x5: 1 to 4",
    ]:
        assert text in shown
    dc = edge_grads(edges, "c")[0]
    dc_lab3 = backprop.gradients(**LAB, reg=1.0, output="softmax")[1][1]
    np.testing.assert_allclose(dc, dc_lab3, rtol=1e-12)
    ax = circuits.draw_graph(nodes, edges, show="gradients", max_entries=6)
    assert "[-0.07407 0.1481 -0.07407]" in texts(ax)


def test_mlp_graph_without_penalty_has_no_R_and_refuses_wrong_names(small_net):
    weights, biases, x, y = small_net
    nodes, edges = circuits.mlp_graph(weights, biases, x, y)
    assert "R" not in by_name(nodes) and by_name(nodes)["J"].label == "J = ℒ"
    with pytest.raises(ValueError, match="weight_names=\\['W'\\] is not allowed: 2 names"):
        circuits.mlp_graph(weights, biases, x, y, weight_names=["W"])


def test_the_penalty_names_its_weights_and_sums_them(small_net):
    weights, biases, x, y = small_net
    nodes = by_name(circuits.mlp_graph(weights, biases, x, y, reg=0.001)[0])
    assert nodes["R"].label == "R = 0.001 (‖W1‖² + ‖W2‖²)"
    assert nodes["R"].value == pytest.approx(0.001 * sum(np.sum(w**2) for w in weights))
    rng = np.random.default_rng(0)
    sizes = [2, 3, 3, 3, 2]  # four weight matrices: the label sums them
    deep = circuits.mlp_graph(
        [rng.normal(size=(m, n)) for m, n in zip(sizes, sizes[1:])],
        [np.zeros((1, n)) for n in sizes[1:]],
        x,
        y,
        reg=0.1,
    )[0]
    assert by_name(deep)["R"].label == "R = 0.1 Σ‖W‖²"
