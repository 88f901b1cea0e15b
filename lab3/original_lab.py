"""The original lab's two training loops, as its author wrote them, kept as a reference.

Tests check that ``lab3.train`` ends at the same weights as these loops, and
``benchmarks/bench_training.py`` times them against ``lab3.train``'s engines. Only three things
differ from the lab: the loops start from a given model's initial weights (the lab drew its own,
unseeded), they return the final parameters, and their prints go to ``log`` (nothing by default).
The rest, the "checking" second forward pass and the repeated update lines included, is the lab's
verbatim: that is the point of a reference. Do not tidy it up.
"""

import torch


class _Null:
    """A file that forgets what is written to it: the lab's prints are formatted, not shown."""

    def write(self, text):
        return len(text)


_NULL = _Null()


def relu(x):
    return torch.max(torch.zeros_like(x), x)


def mse(y_true, y_pred):
    mse = torch.mean((y_true - y_pred)**2)
    return mse


def l2_reg(matrix, lambda_val=0):
    l2_norm = torch.sum(torch.square(matrix))
    l2_loss = lambda_val * l2_norm
    return l2_loss


def lab_parameters(model):
    """The lab's w_1, w_2, b_1, b_2 (leaf tensors with requires_grad) from the model's init."""
    w_1, w_2 = (w.detach().clone().requires_grad_(True) for w in model.weights)
    b_1, b_2 = (b.detach().clone().requires_grad_(True) for b in model.biases)
    return w_1, w_2, b_1, b_2


def lab_single_sample(input_x, target, model, EPOCHS=10, alpha=0.1, log=None):
    w_1, w_2, b_1, b_2 = lab_parameters(model)
    log = log or _NULL
    for i in range(EPOCHS):
        for sample in range(input_x.shape[1]):
            x = input_x[:,sample]
            y = target[:,sample]

            linear_1 = x@w_1 + b_1
            relu_out = relu(linear_1)
            linear_2 = relu_out@w_2 + b_2
            loss = mse(y, linear_2)
            if sample % 500 == 0:
                print(f'Loss after forward pass: {loss}', file=log)
            reg_1 = l2_reg(w_1, 0.001)
            reg_2 = l2_reg(w_2, 0.001)
            sum_1 = reg_1 + reg_2
            objective = loss + sum_1
            objective.backward()

            # update params
            w_1.data -= alpha * w_1.grad
            w_1.grad.zero_()
            w_2.data -= alpha * w_2.grad
            w_2.grad.zero_()
            b_1.data -= alpha * b_1.grad
            b_1.grad.zero_()
            b_2.data -= alpha * b_2.grad
            b_2.grad.zero_()

            # checking to see if it actually learned here
            linear_1 = x@w_1 + b_1
            relu_out = relu(linear_1)
            linear_2 = relu_out@w_2 + b_2
            loss = mse(y, linear_2)
            if sample % 500 == 0:
                print(f'Loss after update: {loss}', file=log)

            reg_1 = l2_reg(w_1, 0.001)
            reg_2 = l2_reg(w_2, 0.001)
            sum_1 = reg_1 + reg_2
            objective = loss + sum_1
    return [w_1, b_1, w_2, b_2]


def lab_batched(input_x, target, model, EPOCHS=100, BATCH_SIZE=100, alpha=0.1, log=None):
    w_1, w_2, b_1, b_2 = lab_parameters(model)
    log = log or _NULL
    counter = 0
    for i in range(EPOCHS):
        for sample in range(0, input_x.shape[1], BATCH_SIZE):
            counter += 1

            x = input_x[:,sample:sample+BATCH_SIZE].T
            y = target[:,sample:sample+BATCH_SIZE].T

            linear_1 = x@w_1 + b_1
            relu_out = relu(linear_1)
            linear_2 = relu_out@w_2 + b_2
            loss = mse(y, linear_2)

            if sample % 1000 == 0:
                print(f'Loss after forward pass: {loss}', file=log)
            reg_1 = l2_reg(w_1, 0.001)
            reg_2 = l2_reg(w_2, 0.001)
            sum_1 = reg_1 + reg_2
            print(type(sum_1), file=log)
            objective = loss + sum_1
            objective.backward()

            # update params
            w_1.data -= alpha * w_1.grad
            w_1.grad.zero_()
            w_2.data -= alpha * w_2.grad
            w_2.grad.zero_()
            b_1.data -= alpha * b_1.grad
            b_1.grad.zero_()
            b_2.data -= alpha * b_2.grad
            b_2.grad.zero_()

            # checking if it actually learned
            linear_1 = x@w_1 + b_1
            relu_out = relu(linear_1)
            linear_2 = relu_out@w_2 + b_2
            loss = mse(y, linear_2)
            if sample % 1000 == 0:
                print(f'Loss after update: {loss}', file=log)

            reg_1 = l2_reg(w_1, 0.001)
            reg_2 = l2_reg(w_2, 0.001)
            sum_1 = reg_1 + reg_2
            objective = loss + sum_1
    return [w_1, b_1, w_2, b_2]
