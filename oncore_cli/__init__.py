"""oncore: administration and advancing for concert touring."""

__version__ = "0.1.0"
