"""Built-in Jinja2 prompt templates (package data); see docs/llm.md."""
