"""Readers that build graphs, the shipped datasets and summaries."""
