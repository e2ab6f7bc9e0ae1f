# %% [markdown]
# # 01 · Build graphs
#
# Before a graph neural network can learn anything, the data has to
# become a graph: nodes with features, edges between them, and labels to
# predict. This notebook builds graphs from every source gnnkit reads --
# by hand, from the TU benchmark files, from CSV tables with text, from
# NetworkX and from molecules written as SMILES -- and then summarises and
# draws them.
#
# Underneath, every graph is a PyG `Data` object (`x` node features,
# `edge_index` edges, `y` labels). gnnkit wraps a list of them in a
# `GraphDataset` that also keeps what PyG drops: the original node and
# graph ids, the label names and the node texts.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# One cell for the imports. The shipped datasets are found with
# `data_dir()`, so no path in this notebook depends on your machine; files
# we write go to a `runs/` folder next to the notebook.

# %%
from pathlib import Path

import networkx as nx
import torch
from torch_geometric.data import Data
from torch_geometric.utils import degree, to_undirected

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.molecules import ATOM_FEATURE_NAMES, smiles_to_graph
from gnnkit.data.networkx_io import from_networkx, to_networkx
from gnnkit.data.shipped import data_dir, load_dataset
from gnnkit.data.summary import summarize, summary_table
from gnnkit.data.tables import read_csv_graph
from gnnkit.data.tu import read_tu
from gnnkit.viz.figures import graph_figure
from gnnkit.viz.exercises import check_answer

OUT = Path("runs") / "01_build_graphs"
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. A toy graph by hand
#
# Four friends: Ann (0), Bob (1), Cat (2) and Dan (3). Ann, Bob and Cat
# know each other; Dan knows only Cat. Each person has two features (hours
# online per day, posts per week) and a label: tea (0) or coffee (1).
#
# PyG lists edges as two rows of node numbers, sources on top and targets
# below. A friendship goes both ways, so `to_undirected` adds each
# reversed row.

# %%
x = torch.tensor([[2.0, 5.0], [1.0, 0.0], [3.0, 9.0], [0.5, 1.0]])
pairs = torch.tensor([[0, 1, 2, 2],
                      [1, 2, 0, 3]])  # Ann-Bob, Bob-Cat, Cat-Ann, Cat-Dan
edge_index = to_undirected(pairs)
y = torch.tensor([0, 1, 1, 0])
toy = Data(x=x, edge_index=edge_index, y=y)
print(toy)
print(edge_index)

# %% [markdown]
# Four undirected friendships became eight directed rows, sorted by
# source: Ann's two rows come first, then Bob's, Cat's three, and Dan's
# one. The number of rows leaving a node is its **degree**, which PyG's
# `degree` counts for us.

# %%
print("degree:", degree(edge_index[0], num_nodes=4).tolist())
print("undirected:", toy.is_undirected(), "| self-loops:",
      toy.has_self_loops())

# %% [markdown]
# ### Exercise 1
#
# Suppose Dan and Bob become friends too. How many rows will
# `edge_index` have then? Work it out, then let the cell build the bigger
# graph and compare.

# %%
answer = 10  # your answer

bigger = to_undirected(torch.cat([pairs, torch.tensor([[3], [1]])], 1))
check_answer("edge rows after Dan-Bob", answer, bigger.size(1),
             hint="every undirected friendship is stored as two rows.")

# %% [markdown]
# PyG's `Data` forgets that node 0 was called Ann and that label 1 meant
# coffee. `GraphDataset` keeps both, so results can be reported in the
# user's own words. `level="node"` says we predict one label per node.

# %%
friends = GraphDataset(
    graphs=[toy], level="node", name="friends", classes=["tea", "coffee"],
    node_ids=[["Ann", "Bob", "Cat", "Dan"]],
)
print(friends)
print(dict(zip(friends.node_ids[0], friends.decode(toy.y))))

# %% [markdown]
# Class ids go into the model, names come back out: `decode` maps
# `[0, 1, 1, 0]` to tea, coffee, coffee, tea.
#
# ## 2. TU benchmark files
#
# The TU Dortmund collection (Morris et al., 2020) stores many graphs in a
# few text files: `A` lists every edge row (node ids numbered across the
# whole dataset, from 1), `graph_indicator` says which graph each node
# belongs to, `graph_labels` gives one label per graph and `node_labels`
# one label per node. Here are the first lines of MUTAG's files.

# %%
raw = data_dir() / "MUTAG" / "raw"
for part in ["A", "graph_indicator", "graph_labels", "node_labels"]:
    lines = (raw / f"MUTAG_{part}.txt").read_text().split("\n")
    print(f"{part:16s}", [line.strip() for line in lines[:4]])

# %% [markdown]
# Graph labels are written as `1` and `-1`; a reader that shifted them by
# their minimum would get classes 0 and 2, a known trap. `read_tu`
# re-indexes labels to `0..C-1`, keeps the originals in `classes`, and
# one-hot encodes the node labels (the atom types) into `x`.

# %%
mutag = read_tu(data_dir() / "MUTAG")
print(mutag)
print("classes (original labels):", mutag.classes)
print("first graph:", mutag[0])

# %% [markdown]
# 188 graphs, 7 node features (one per atom type: C, N, O, F, I, Cl, Br)
# and 4 edge features (the bond types). Class 0 stands for the raw label
# -1 (not mutagenic) and class 1 for +1. The first molecule has 17 atoms
# and 38 edge rows, i.e. 19 bonds.

# %% [markdown]
# ### Exercise 2
#
# Count the atoms of the **second** graph straight from the raw file:
# `graph_indicator` has one line per node, holding its graph id (from 1).

# %%
lines = (raw / "MUTAG_graph_indicator.txt").read_text().split()
answer = lines.count("2")  # your answer

check_answer("atoms in graph 2", answer, mutag[1].num_nodes,
             hint="graph ids in the file start at 1, Python indices at "
                  "0: the second graph is id 2 and mutag[1].")

# %% [markdown]
# ## 3. A summary before any model
#
# `summarize` returns the figures worth knowing before training: sizes,
# class balance, degrees and the quirks that change what a GNN sees
# (isolated nodes, self-loops, duplicate edges). `summary_table` prints
# them.

# %%
print(summary_table(summarize(mutag)))

# %% [markdown]
# Read the class counts: 125 of 188 molecules are mutagenic, so a model
# that always answers "mutagenic" is already right 66.5 % of the time.
# Any accuracy we report on MUTAG has to be read against that number. The
# graphs are small (about 18 atoms) and sparse (mean degree 2.2, as
# expected for molecules), with no self-loops or duplicate edges.

# %% [markdown]
# ### Exercise 3
#
# What accuracy does the "always predict the majority class" baseline
# reach on MUTAG? Give a fraction between 0 and 1.

# %%
counts = torch.bincount(mutag.y)
answer = counts.max().item() / counts.sum().item()  # your answer

check_answer("majority-class accuracy", answer,
             summarize(mutag)["majority_fraction"],
             hint="divide the larger class count by the number of graphs.")

# %% [markdown]
# ## 4. CSV tables with text
#
# Most people's graphs live in tables: one file of edges, one of nodes
# with an id, a label, some numbers and often a text. We write two tiny
# files for five papers; node ids are strings, as they usually are.

# %%
(OUT / "nodes.csv").write_text(
    "paper,topic,citations,abstract\n"
    "p1,graphs,12,Message passing on molecular graphs\n"
    "p2,graphs,3,Graph attention for citation networks\n"
    "p3,language,40,Pretrained transformers for text\n"
    "p4,language,7,Fine-tuning small language models\n"
    "p5,graphs,1,Language model features for node classification\n")
(OUT / "edges.csv").write_text(
    "citing,cited\np2,p1\np5,p1\np5,p2\np5,p4\np4,p3\n")
print((OUT / "nodes.csv").read_text())

# %% [markdown]
# `read_csv_graph` takes the two files and a mapping from our column
# names to its roles. Numeric columns other than the id and label become
# features (`features="auto"`); the text column is kept aside for the
# language models of notebook 04. Citations are undirected here
# (`directed=False`), so each row is stored both ways.

# %%
papers = read_csv_graph(
    OUT / "edges.csv", OUT / "nodes.csv", source="citing",
    target="cited", node_id="paper", label="topic", text="abstract",
    directed=False, name="papers",
)
print(papers, papers[0], sep="\n")
print("node ids:", papers.node_ids[0])
print("classes:", papers.classes, "| texts[0]:", papers.texts[0][0])

# %% [markdown]
# Five nodes with one feature (`citations`), ten edge rows from five
# citations, and the original ids `p1 ... p5` kept in order. Topics became
# classes in sorted order (`graphs` = 0, `language` = 1), and each node's
# abstract travels with the graph.
#
# The shipped `Cora_TAG` is the same kind of data at full size: 2,708
# papers with their title and abstract, in seven topics.

# %%
cora = load_dataset("Cora_TAG")
print(summary_table(summarize(cora)))
print("\nnode 0:", cora.texts[0][0][:120], "...")

# %% [markdown]
# Cora's classes are unbalanced (Neural_Networks is 30 %), every node has
# a text, and there are no numeric features yet: `x` is a column of ones
# until a language model turns the texts into vectors (notebook 04). Its
# maximum degree of 168 against a median of 3 is typical of citation
# graphs: a few papers are cited by many.
#
# ## 5. NetworkX graphs
#
# NetworkX is the Swiss-army knife for graph analysis. `from_networkx`
# turns one `nx.Graph` into a node-level dataset (node attribute `label`
# names the labels) and a list of graphs into a graph-level one;
# `to_networkx` goes back. Zachary's karate club records which of two
# leaders each member followed after the club split.

# %%
karate = nx.karate_club_graph()
club = from_networkx(karate, label="club", weight="weight")
print(club)
print("edge weights (first 5):", club[0].edge_weight[:5].tolist())
back = to_networkx(club)
print("back in NetworkX:", back.number_of_nodes(), "nodes,",
      back.number_of_edges(), "edges; node 0:", back.nodes[0])

# %% [markdown]
# The club's 34 members and their two factions came through, the edge
# attribute `weight` (how often two members met) became `edge_weight`, and
# the round trip gives back a NetworkX graph with the label on each node.

# %% [markdown]
# ### Exercise 4
#
# NetworkX counts 78 friendships in the karate club. How many rows does
# the gnnkit graph's `edge_index` hold?

# %%
answer = 2 * karate.number_of_edges()  # your answer

check_answer("karate edge rows", answer, club[0].edge_index.size(1),
             hint="an undirected edge is two directed rows.")

# %% [markdown]
# ## 6. Molecules from SMILES
#
# A SMILES string writes a molecule as text: `CCO` is ethanol, two carbons
# and an oxygen in a chain. `smiles_to_graph` (RDKit underneath) makes the
# heavy atoms nodes and each bond two edge rows, with atom features
# (element, degree, charge, aromaticity, ...) in `x` and bond features in
# `edge_attr`.

# %%
ethanol = smiles_to_graph("CCO")
print(ethanol)
print("edge_index:", ethanol.edge_index.tolist())
active = [ATOM_FEATURE_NAMES[i] for i in ethanol.x[2].nonzero().view(-1)]
print("features of atom 2:", active)

# %% [markdown]
# Three atoms, two bonds, four edge rows. Atom 2 is an oxygen with one
# heavy neighbour, one hydrogen and sp3 hybridisation, all readable from
# its feature names. Hydrogens are not nodes; they appear as a count.

# %% [markdown]
# ### Exercise 5
#
# Benzene, `c1ccccc1`, is a ring of six aromatic carbons. How many edge
# rows does its graph have?

# %%
answer = 12  # your answer

check_answer("benzene edge rows", answer,
             smiles_to_graph("c1ccccc1").edge_index.size(1),
             hint="count the bonds of a six-membered ring, then remember "
                  "that each bond is two rows.")

# %% [markdown]
# A whole CSV of SMILES loads the same way. The shipped ESOL set has 1,128
# molecules with their measured water solubility -- a **regression**
# target, so there are no classes and the summary gives the target's
# range instead. The one isolated node is a molecule made of a single
# heavy atom, which has no bonds at all.

# %%
esol = load_dataset("ESOL")
print(summary_table(summarize(esol)))

# %% [markdown]
# ## 7. Drawing a graph
#
# `graph_figure` draws any graph with plotly: hover over a node to see its
# id, zoom and pan with the mouse. We label each atom of MUTAG's first
# molecule with its element, read off the one-hot node features.

# %%
elements = ["C", "N", "O", "F", "I", "Cl", "Br"]
molecule = mutag[0]
symbols = [elements[i] for i in molecule.x.argmax(dim=1).tolist()]
graph_figure(molecule, node_ids=symbols,
             title=f"MUTAG graph 0 (class {mutag.classes[int(molecule.y)]})")

# %% [markdown]
# The drawing shows the aromatic rings as cycles of carbons and the nitro
# group (one N bonded to two O) that makes many MUTAG compounds mutagenic.
# The layout is a spring embedding: positions mean nothing chemically,
# only the connections do.
#
# ## Conclusion
#
# - A graph is `x`, `edge_index` and `y`; an undirected edge is two rows.
# - gnnkit reads TU files, CSV tables (with texts and string ids),
#   NetworkX graphs and SMILES into one container, `GraphDataset`, which
#   keeps the original ids, label names and texts.
# - Summarise before modelling: the majority-class rate (66.5 % on MUTAG)
#   is the first baseline any model must beat.
#
# Next: **02 · Train a GNN**.
#
# ## References
#
# - C. Morris et al. *TUDataset: A collection of benchmark datasets for
#   learning with graphs*. ICML 2020 workshop GRL+.
# - M. Fey, J. E. Lenssen. *Fast Graph Representation Learning with
#   PyTorch Geometric*. ICLR 2019 workshop.
# - W. W. Zachary. *An information flow model for conflict and fission in
#   small groups*. Journal of Anthropological Research, 1977.
# - J. S. Delaney. *ESOL: Estimating aqueous solubility directly from
#   molecular structure*. J. Chem. Inf. Comput. Sci., 2004.
# - RDKit: open-source cheminformatics, https://www.rdkit.org
