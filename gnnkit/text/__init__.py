"""Language-model encoders for node and graph texts, with a cache."""
