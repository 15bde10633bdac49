"""KL divergence between two row-wise softmax distributions given as logits (batchmean)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FAMILY = "loss"


class Model(nn.Module):
    def forward(self, logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits, dim=-1)
        log_q = F.log_softmax(target_logits, dim=-1)
        return F.kl_div(log_p, log_q, reduction="batchmean", log_target=True)


def get_inputs() -> list[torch.Tensor]:
    return [torch.randn(4096, 8192), torch.randn(4096, 8192)]


def get_small_inputs() -> list[torch.Tensor]:
    return [torch.randn(16, 128), torch.randn(16, 128)]


def get_init_inputs() -> list[object]:
    return []
