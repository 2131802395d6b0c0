"""ergo: a workplace ergonomics reminder service."""

__version__ = "0.1.0"
