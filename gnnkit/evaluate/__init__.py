"""Metrics, splits, cross-validation, comparisons and the main experiment."""
