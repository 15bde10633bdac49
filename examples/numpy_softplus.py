"""Softplus with a slope, written in NumPy: y = log(1 + exp(beta * x)) / beta.

A `framework="numpy"` task: `Model.forward` takes and returns NumPy arrays and
`get_inputs()` returns NumPy arrays. The stable form max(z, 0) + log1p(exp(-|z|)) avoids
overflow for large inputs. Run: `aikg run examples/numpy_softplus.py --framework numpy`.
"""

import numpy as np


class Model:
    def __init__(self, beta: float) -> None:
        self.beta = beta

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = self.beta * x
        return (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))) / self.beta


batch_size, dim = 4096, 4096


def get_inputs():
    return [np.random.standard_normal((batch_size, dim)).astype(np.float32)]


def get_small_inputs():
    return [np.random.standard_normal((16, 256)).astype(np.float32)]


def get_init_inputs():
    return [2.0]
