"""The verifier: static checks, correctness trials and timing of a candidate Triton kernel,
run in an isolated worker process.

```python
from verifier import Verifier, VerifyJob
v = Verifier(mode="warm", secret_env_names=("OPENAI_API_KEY",))
result = await v.verify(job)   # never raises for a bad candidate
await v.close()
```

``verify_in_process(job)`` runs a job in the calling process, without isolation.
"""

from __future__ import annotations

from verifier.result import STAGES, VerifyJob, VerifyResult
from verifier.service import Verifier, verify_in_process

__all__ = ["STAGES", "Verifier", "VerifyJob", "VerifyResult", "verify_in_process"]
