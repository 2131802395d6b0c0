"""The config, in three steps, so that pydantic never loads into the long-running daemon.

- `model`: the one pydantic-settings model, its sections and validators (the schema);
- `load`: reading it from its sources (defaults < system TOML < user TOML < ERGO_* < flags), the
  system layer's locks, and one-line errors. Only config commands and the check child import these two.
- `check`: `python -m ergo.config.check`, the short child process that validates the config
  with the model and prints the result as JSON.
- `frozen`: runs that child and keeps its answer as plain frozen dataclasses: what the
  daemon holds for as long as it runs.
"""
