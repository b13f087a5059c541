"""Prometheus metrics: the SDK's own worker metrics and the case engine's."""
