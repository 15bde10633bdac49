"""The aten op families the lowering tells apart, by packet name (`aten.sum.dim_IntList` is
`sum`): the partitioner and the iteration space read them, the op table dispatches on them.
"""

from __future__ import annotations

REDUCTIONS = {"sum", "mean", "amax", "amin", "max", "min", "prod", "argmax", "argmin"}
VIEWS = {"unsqueeze", "squeeze", "expand", "view", "reshape", "_unsafe_view", "permute"}
VIEWS |= {"t", "transpose"}
MATMULS = {"mm", "addmm", "bmm"}
SCANS = {"cumsum": "sum", "cumprod": "prod"}
CASTS = {"_to_copy", "to", "type_as", "convert_element_type"}
CONSTANTS = {"scalar_tensor", "full", "ones_like", "zeros_like", "full_like", "ones", "zeros"}
CONSTANTS |= {"new_full"}
LAZY = {"empty", "empty_like", "repeat"}  # only an error if a kernel value needs them
RANDOM = {"native_dropout", "dropout", "bernoulli", "rand", "rand_like", "randn", "randn_like"}
RANDOM |= {"randint", "randint_like", "normal", "uniform", "multinomial", "randperm"}
RANDOM |= {"exponential", "rrelu_with_noise", "feature_dropout", "alpha_dropout"}
