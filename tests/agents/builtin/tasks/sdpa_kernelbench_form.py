import torch
import torch.nn as nn


class Model(nn.Module):
    """KernelBench level 1 task 97's form (typed forward, torch.rand inputs), small sizes."""

    def __init__(self):
        super(Model, self).__init__()  # noqa: UP008  (as KernelBench writes it)

    def forward(self, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        out = torch.nn.functional.scaled_dot_product_attention(Q, K, V)
        return out


batch_size = 2
num_heads = 2
sequence_length = 24
embedding_dimension = 40


def get_inputs():
    Q = torch.rand(batch_size, num_heads, sequence_length, embedding_dimension)
    K = torch.rand(batch_size, num_heads, sequence_length, embedding_dimension)
    V = torch.rand(batch_size, num_heads, sequence_length, embedding_dimension)
    return [Q, K, V]


def get_init_inputs():
    return []
