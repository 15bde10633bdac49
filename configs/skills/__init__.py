"""Hand-written Triton idioms (skills) the LLM prompts draw on (package data; docs/llm.md)."""
