"""A task as a search over candidates: the tree folded from the log, the strategies that
plan each round, and the driver that runs them (docs/search.md)."""
