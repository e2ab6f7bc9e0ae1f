# %% [markdown]
# # 06 · Explain
#
# A prediction you cannot explain is hard to trust and harder to debug.
# This notebook asks "why?" four ways: **attributions** (how much each
# node, edge and feature pushed the output), **attention** (what a GAT or
# a language model looked at), **words inside neighbours** (which words
# in which neighbour's text mattered, traced back through the language
# model), and **checks** that tell a faithful explanation from a pretty
# picture.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# A GIN on MUTAG and a GCN on a small Cora graph are trained in a few
# seconds each; `EPOCHS` raises both.

# %%
import torch
from captum.attr import IntegratedGradients
from torch_geometric.data import Data

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.splits import random_split
from gnnkit.explain.attention import gat_attention, text_attention
from gnnkit.explain.attributions import explain_graph
from gnnkit.explain.checks import randomisation_check, stability
from gnnkit.explain.words import explain_words
from gnnkit.models.backbones import build_model
from gnnkit.text.encoder import TextEncoder, encode_dataset
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask, NodeTask
from gnnkit.viz.explain_figures import (
    attribution_figure,
    text_attention_heatmap,
    token_heatmap,
)
from gnnkit.viz.explorer import ExplanationExplorer
from gnnkit.viz.exercises import check_answer, node_subgraph

EPOCHS = 40
torch.manual_seed(0)
torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown]
# ## 1. Attributions by hand
#
# Take the smallest "graph model" there is: node 0 sums its own and its
# neighbours' features and scores them with a weight vector $w$,
# $f(X) = w \cdot \sum_{j \in \{0\} \cup \mathcal{N}(0)} x_j$. On the
# path `0 - 1 - 2 - 3`, nodes 2 and 3 are out of reach.
#
# Three attribution methods, all available through Captum:
#
# - **Saliency**: $|\partial f / \partial x_j|$, how sensitive the output
#   is to each input;
# - **Input × Gradient**: $x_j \odot \partial f / \partial x_j$;
# - **Integrated Gradients** (Sundararajan et al., 2017): the gradient
#   averaged along a straight path from a baseline $X'$ (here all zeros)
#   to $X$, times $X - X'$. Its attributions add up to
#   $f(X) - f(X')$ (*completeness*).
#
# For a linear $f$ all three are easy to write down: the gradient is $w$
# for nodes 0 and 1 and zero for nodes 2 and 3.

# %%
x = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0], [1.0, 1.0]])
w = torch.tensor([2.0, -1.0])
reach = torch.tensor([1.0, 1.0, 0.0, 0.0])  # node 0 and its neighbour 1

def f(x):
    return ((reach[:, None] * x).sum(dim=-2) * w).sum(dim=-1, keepdim=True)

by_hand = reach[:, None] * x * w  # x_j * w inside the reach, else 0
ig = IntegratedGradients(f).attribute(x[None], n_steps=20)[0]
print("by hand:", by_hand, "Captum IG:", ig, sep="\n")
print("sum of attributions", ig.sum().item(), "= f(X) - f(0) =",
      (f(x[None]) - f(torch.zeros(1, 4, 2))).item())

# %% [markdown]
# IG equals the hand-written $x_j \odot w$, nodes 2 and 3 get exactly
# zero (they cannot influence node 0), and the attributions add up to the
# output, as completeness promises. Node 1's second feature has a
# *negative* attribution: it pushed the score down.

# %% [markdown]
# ### Exercise 1
#
# What is the total attribution of node 0 (the sum over its two
# features)?

# %%
answer = 1.0 * 2.0 + 2.0 * (-1.0)  # your answer

check_answer("total attribution of node 0", answer, ig[0].sum().item(),
             hint="x_0 = [1, 2] times w = [2, -1], summed.")

# %% [markdown]
# ## 2. Attributions on real molecules
#
# Now a GIN trained on MUTAG. `explain_graph` runs Integrated Gradients
# through PyG's explainer, on the graph alone, and reports one score per
# atom (summed over its features) and per bond, keyed by the original ids.

# %%
mutag = load_dataset("MUTAG")
train, val = random_split(len(mutag), (0.8, 0.2), seed=0,
                          stratify=mutag.y)
gin = build_model("gin", 7, 2, hidden_channels=32, pooling="sum")
fit(gin, GraphTask(mutag.subset(train), mutag.subset(val)),
    TrainConfig(epochs=EPOCHS, patience=15, progress_bar=False))
probs = predict(gin, mutag).softmax(-1)
index = int(probs[:, 1].argmax())  # the most confidently mutagenic
result = explain_graph(gin, mutag, index)
print(result)

# %% [markdown]
# The figure colours each atom by its attribution (red pushed towards
# the explained class, blue against it) and widens the bonds that
# mattered. We label the atoms with their elements.

# %%
elements = ["C", "N", "O", "F", "I", "Cl", "Br"]
symbols = [elements[i] for i in mutag[index].x.argmax(dim=1).tolist()]
result.node_ids = [f"{s}{i}" for i, s in enumerate(symbols)]
print(result.top_nodes(5))
attribution_figure(result)

# %% [markdown]
# Compare the list with the chemistry: a nitro group ($\text{NO}_2$, an
# N bonded to two O) on an aromatic ring is the substructure chemists
# associate with mutagenicity. When the model has learnt it, the N and
# the ring carbons around it rank high; ring carbons in general score
# well because GIN sums messages around the rings they close. The
# explanation knows no chemistry: it reports what *this* model uses,
# which may differ from what a chemist would.

# %% [markdown]
# ### Exercise 2
#
# Which element is the single most important atom? Give its symbol.

# %%
top = result.top_nodes(1)[0]["node"]
answer = top.rstrip("0123456789")  # your answer

position = int(result.node_importance.abs().argmax())
check_answer("element of the top atom", answer, symbols[position],
             hint="take the atom with the largest |importance| and strip "
                  "its index from the label.")

# %% [markdown]
# ## 3. Attention
#
# A GAT learns, for every edge, how much a node listens to each
# neighbour. PyG's `GATConv` quietly removes the user's self-loops and
# adds its own, so its raw output has more weights than the graph has
# edges. `gat_attention` lines the weights up with **your** edge list and
# reports the added self-loops separately. On a toy graph we check the one
# rule attention obeys: per target node and head, incoming weights sum
# to 1.

# %%
toy = Data(x=torch.randn(4, 3),
           edge_index=torch.tensor([[0, 1, 1, 2, 2, 3],
                                    [1, 0, 2, 1, 3, 2]]))
gat = build_model("gat", 3, 2, level="node", hidden_channels=4, heads=2,
                  num_layers=1)
layer = gat_attention(gat, toy)[0]
print(layer)
for row in layer.rows()[:4]:
    print(row)
print("incoming sums:", layer.incoming_sums())

# %% [markdown]
# Six rows for our six edges in input order, four added self-loops
# reported apart, two heads, and every target's incoming attention sums
# to 1 in both heads. Node 0 hears from node 1 and from itself only.

# %% [markdown]
# ### Exercise 3
#
# Node 3 listens to node 2 and to itself. If its self-attention in head 0
# is $a$, what is its attention to node 2 in head 0? Give the number.

# %%
a = layer.self_attention(3)[0].item()
answer = 1 - a  # your answer

to_3 = [r for r in layer.rows() if r["target"] == 3 and r["source"] == 2]
check_answer("attention 2 -> 3, head 0", answer, to_3[0]["head_0"],
             hint="incoming attention of a node sums to 1 per head.")

# %% [markdown]
# A language model attends too: every token to every other, in every
# layer and head. `text_attention` reads it for one text. The heatmap
# shows the last layer, averaged over heads.

# %%
encoder = TextEncoder(max_length=32)
title = "Learning the structure of Bayesian networks from data"
text_attention_heatmap(text_attention(encoder, title))

# %% [markdown]
# Much attention goes to the `[CLS]` and `[SEP]` markers and to
# neighbouring tokens -- patterns that are well documented and say little
# about *why* a prediction was made. Attention is where information
# *could* flow, not what the output depended on (Jain and Wallace, 2019);
# check any story told from attention against a gradient method, as in
# section 5.
#
# ## 4. Words inside neighbours
#
# With language-model features, PyG's feature attributions land on 384
# anonymous embedding dimensions. gnnkit goes one step further back: it
# recomputes a node's features *from its text* along the integration path,
# so the GNN's prediction is attributed to the **words** of the node's own
# title and of its neighbours' titles. First a cascade GCN on a small Cora
# graph.

# %%
cora = load_dataset("Cora_TAG")
small = node_subgraph(cora, [0, 1000], hops=3)
texts = [t.split(":")[0].strip(" .") for t in small.texts[0]]
small.texts = [texts]
encoded = encode_dataset(small, encoder, cache=True, progress_bar=False)
data = encoded[0]
train, val = random_split(data.num_nodes, (0.7, 0.3), seed=0,
                          stratify=data.y)
gcn = build_model("gcn", 384, small.num_classes, level="node",
                  hidden_channels=64, num_layers=2)
fit(gcn, NodeTask(data, train, val),
    TrainConfig(epochs=EPOCHS, patience=15, progress_bar=False))
print(small)

# %% [markdown]
# Now the words. `explain_words` ranks the texts in the node's two-hop
# neighbourhood by how much they matter, explains the top `max_texts` of
# them token by token, and returns them with the node's own text first.

# %%
node = small.node_ids[0][0]
words = explain_words(encoder, gcn, data, texts, node,
                      node_ids=small.node_ids[0], max_texts=4, n_steps=20)
print(words, "topic:", small.meta["label_names"][words.target])
for row in words.neighbours():
    print(row)
token_heatmap(words)

# %% [markdown]
# Each row of the heatmap is one paper's title, red words supporting the
# predicted topic and blue ones against it. The ranking above says which
# titles mattered most in total -- the node's own, or neighbours whose
# titles share its subject and can outweigh it. The `completeness_gap` shows
# how well the 20 integration steps satisfy completeness; raise `n_steps`
# if it is large compared with the importance.

# %% [markdown]
# ### Exercise 4
#
# Which word of the node's own title has the largest attribution (in
# absolute value)? Give the token as printed.

# %%
own = words.texts[0]
answer = own.top_words(1)[0]["token"]  # your answer

real = [(abs(a), t) for t, a, s in
        zip(own.tokens, own.attributions.tolist(), own.special) if not s]
check_answer("strongest word of the own title", answer, max(real)[1],
             hint="skip [CLS]/[SEP]; compare |attribution| of the other "
                  "tokens.")

# %% [markdown]
# ## 5. Checking explanations
#
# An explanation is a claim about the model. Three checks test it:
#
# - **stability**: explain the same prediction with different seeds; a
#   deterministic method (IG) must agree with itself, a stochastic one
#   (GNNExplainer) often does not (PyG issue #2034);
# - **fidelity**: remove the top 25 % of nodes and edges and the
#   prediction should change (fidelity+ high), keep only them and it
#   should not (fidelity- low);
# - **model randomisation** (Adebayo et al., 2018): re-initialise the
#   model's weights; an explanation that barely changes explains the
#   input, not the model.

# %%
ig_runs = stability(gin, mutag, index, method="integrated_gradients",
                    seeds=[0, 1, 2])
gnnx_runs = stability(gin, mutag, index, method="gnnexplainer",
                      seeds=[0, 1, 2], epochs=50)
print("IG          ", ig_runs)
print("GNNExplainer", gnnx_runs)
print(f"fidelity+ {result.fidelity_plus}, fidelity- {result.fidelity_minus}")
print(randomisation_check(gin, mutag, index))

# %% [markdown]
# IG agrees with itself perfectly (rank agreement 1, up to rounding),
# while GNNExplainer's runs from different random starts rank the edges
# differently: report the agreement, or average several runs, before
# trusting one mask. Read the fidelity pair together: a high fidelity+
# says the top quarter is *necessary*; a high fidelity- says it is not
# *sufficient* on its own -- common for molecules, where a quarter of the
# atoms cut out of their rings is a very different input. The
# randomisation check passes when the rankings of the trained and of a
# re-initialised model correlate weakly (Spearman below 0.5).

# %% [markdown]
# ### Exercise 5
#
# Is Integrated Gradients' rank agreement across the three seeds exactly
# 1? Answer `True` or `False`.

# %%
answer = True  # your answer

check_answer("IG is deterministic", answer,
             abs(ig_runs.rank_agreement - 1.0) < 1e-9,
             hint="IG has no random start: the same model, input and "
                  "baseline always give the same attributions.")

# %% [markdown]
# ## 6. The explanation explorer
#
# All of the above for any node, in one widget: pick a node from the
# validation part and an attribution method; the neighbourhood view, the
# token heatmap of the words that mattered (and, for a GAT, the attention
# heatmap per layer and head) redraw. The explorer starts on the first
# validation node.

# %%
explorer = ExplanationExplorer(gcn, encoded, items=val.tolist()[:20],
                               encoder=encoder, n_steps=16, max_texts=2)
explorer

# %% [markdown]
# The status line names the explained class and the fidelity of the top
# quarter of nodes and edges. `explorer.attribution` and
# `explorer.words` hold the numbers behind the views, for use in later
# cells. The same explorer for a GAT on MUTAG, as a standalone app, is
# `notebooks/dashboards/explanation_explorer.ipynb`
# (`voila notebooks/dashboards/explanation_explorer.ipynb`).
#
# ## Conclusion
#
# - Attributions split an output over nodes, edges and features;
#   Integrated Gradients adds up to the output's change from a baseline,
#   and nodes outside the receptive field get exactly zero.
# - Attention weights sum to one per node and head and show where
#   information can flow; added self-loops are reported apart. Attention
#   is not an explanation until a gradient method agrees.
# - With LM features, attributions can be carried back to the words of
#   each neighbour's text.
# - Check explanations: stability over seeds, fidelity, and model
#   randomisation.
#
# Next: **07 · Your own graph** puts the whole pipeline on your CSV files.
#
# ## References
#
# - M. Sundararajan, A. Taly, Q. Yan. *Axiomatic Attribution for Deep
#   Networks*. ICML 2017.
# - R. Ying et al. *GNNExplainer: Generating Explanations for Graph
#   Neural Networks*. NeurIPS 2019.
# - J. Adebayo et al. *Sanity Checks for Saliency Maps*. NeurIPS 2018.
# - S. Jain, B. C. Wallace. *Attention is not Explanation*. NAACL 2019.
# - P. Veličković et al. *Graph Attention Networks*. ICLR 2018.
# - N. Kokhlikyan et al. *Captum: A unified and generic model
#   interpretability library for PyTorch*. 2020.
# - PyG documentation, *Explaining Graph Neural Networks* (fidelity).
