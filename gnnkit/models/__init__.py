"""GNN backbones, heads, LM+GNN fusion, link decoders, persistence."""
