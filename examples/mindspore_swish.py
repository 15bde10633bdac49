"""Swish (SiLU with a slope) written in MindSpore: y = x * sigmoid(beta * x).

A `framework="mindspore"` task: `Model` is a MindSpore `nn.Cell`; the reference runs on
MindSpore's CPU build and the candidate Triton kernel gets the same data as torch
tensors. Needs `pip install 'aikg[mindspore]'`. The builtin agent does not lower
MindSpore code, so run it with an LLM:
`aikg run examples/mindspore_swish.py --framework mindspore --llm openai`.
"""

import mindspore as ms
import numpy as np
from mindspore import nn, ops


class Model(nn.Cell):
    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        return x * ops.sigmoid(self.beta * x)


batch_size, dim = 4096, 4096


def get_inputs():
    return [ms.Tensor(np.random.standard_normal((batch_size, dim)).astype(np.float32))]


def get_small_inputs():
    return [ms.Tensor(np.random.standard_normal((16, 256)).astype(np.float32))]


def get_init_inputs():
    return [1.5]
