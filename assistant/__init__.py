"""Reverie: a private desktop assistant that thinks while you are away."""

__version__ = "0.1.0"
