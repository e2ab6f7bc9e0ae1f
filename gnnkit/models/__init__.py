"""GNN backbones, task heads, LM+GNN fusion, link decoders, saving and loading."""
