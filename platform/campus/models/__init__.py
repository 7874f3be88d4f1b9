"""Shared model base; each feature keeps its own models in its package."""
