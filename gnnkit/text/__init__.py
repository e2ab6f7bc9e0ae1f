"""Pretrained language-model encoders for node and graph texts, with an on-disk cache."""
