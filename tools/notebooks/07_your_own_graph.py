# %% [markdown]
# # 07 · Your own graph
#
# This notebook is the on-ramp for your own data: two CSV files -- one row
# per node (with a label and a text), one row per edge -- become a trained
# GNN, an honest test score, an explained prediction, a saved model, and
# predictions for new rows that arrive later.
#
# Out of the box it runs on a small pair of files cut from the shipped
# Cora citation graph, so every cell works before you bring anything. To
# use your own files, upload them (or type their paths) in section 2 and
# pick your columns; every later cell follows the widgets. A table of
# numbers without any text works too.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# Imports and one output folder, `runs/07_your_own_graph`, for the files
# this notebook writes.

# %%
from pathlib import Path

import ipywidgets as widgets
from IPython.display import display
import pandas as pd
import torch
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from gnnkit.cli.predict import prediction_rows
from gnnkit.data.shipped import data_dir, load_dataset
from gnnkit.data.align import align_features
from gnnkit.data.summary import summarize, summary_table
from gnnkit.data.tables import read_csv_graph, read_table
from gnnkit.evaluate.metrics import classification_metrics
from gnnkit.evaluate.splits import random_split
from gnnkit.explain.attributions import explain_node
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import load_model, save_model
from gnnkit.text.encoder import TextEncoder, encode_dataset
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import NodeTask
from gnnkit.viz.columns import column_menus, numeric_columns
from gnnkit.viz.exercises import check_answer
from gnnkit.viz.figures import confusion_matrix_figure, graph_figure
from gnnkit.viz.own_files import (ROLES, join_new_rows, labels_of,
                                  save_uploads)

OUT = Path("runs") / "07_your_own_graph"
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. What the files look like
#
# gnnkit needs two tables (CSV, TSV or JSON Lines, optionally gzipped):
#
# - **nodes**: an id column, a label column, and a text column and/or
#   numeric feature columns;
# - **edges**: a source and a target column holding node ids.
#
# No files of your own yet? The next cell writes an example pair: the
# papers within three citations of two Cora papers, each with its topic
# and title. Twelve papers are held back in `new_nodes.csv` and
# `new_edges.csv`, to play the part of rows that arrive after training.
# They keep their topic so that we can score the predictions at the end;
# the model never sees it.

# %%
src = data_dir() / "Cora_TAG"
cora = load_dataset("Cora_TAG")
keep, _, _, _ = k_hop_subgraph(torch.tensor([0, 1000]), 3, cora[0].edge_index)
raw = pd.read_json(src / "nodes.jsonl.gz", lines=True)
raw = raw[raw.node_id.isin(keep.tolist())]
titles = raw.text.str.split(":").str[0].str.strip(" .").str[:100]
nodes = pd.DataFrame({"paper": "p" + raw.node_id.astype(str),
                      "topic": raw.label_name, "title": titles})
cites = pd.read_csv(src / "edges.csv").map(lambda i: f"p{i}")
cites = cites[cites.src.isin(nodes.paper) & cites.dst.isin(nodes.paper)]
edges = cites.rename(columns={"src": "citing", "dst": "cited"})
new = nodes.sample(12, random_state=0)
later = edges.citing.isin(new.paper) | edges.cited.isin(new.paper)
nodes.drop(new.index).to_csv(OUT / "nodes.csv", index=False)
edges[~later].to_csv(OUT / "edges.csv", index=False)
new.to_csv(OUT / "new_nodes.csv", index=False)
edges[later].to_csv(OUT / "new_edges.csv", index=False)

# %% [markdown]
# The example files now sit in `runs/07_your_own_graph/`: a node table
# with the columns `paper`, `topic` and `title`, and an edge table with
# `citing` and `cited`.
#
# ## 2. Point the widgets at your files
#
# Four boxes hold the paths of the node table, the edge table and the
# (optional) new rows to predict on later; they start at the example
# files, so the notebook runs as it is. Type your own paths, or upload
# your files with the button: they are saved to
# `runs/07_your_own_graph/uploads/` and each goes to its box by name --
# a name with `edge` (or `link`, `cite`) is the edge table, any other the
# node table, and `new` in a name marks new rows.

# %%
upload = widgets.FileUpload(accept=".csv,.tsv,.jsonl,.gz", multiple=True)
boxes = {role: widgets.Text(str(OUT / f"{role}.csv"),
                            description=role.replace("_", " "))
         for role in ROLES}

def on_upload(change):
    for role, path in save_uploads(upload.value, OUT / "uploads").items():
        boxes[role].value = path

upload.observe(on_upload, "value")
widgets.VBox([upload, *boxes.values()])

# %% [markdown]
# Uploading a node or edge table without new rows empties the two
# new-rows boxes: the example's new rows do not belong to your graph.
# Correct any box by hand if needed. Next, tell gnnkit which column plays
# which role. The menus list the columns found in your files and start at
# a guess (`gnnkit.viz.columns` guesses by name, such as `src`, `dst`,
# `id`, `label` or `abstract`, then by the cells: unique values make an
# id, few distinct values a label, long words a text), never giving one
# column two roles.

# %%
node_table = read_table(boxes["nodes"].value).frame
edge_table = read_table(boxes["edges"].value).frame
mapping = column_menus(node_table, edge_table)
widgets.VBox(list(mapping.values()))

# %% [markdown]
# If you change a path, rerun this cell so the menus list the new
# columns. Set `text` to `(none)` when your nodes carry no text: the
# numeric columns of the node table (all but the id and label) are then
# the features. With the menus set, everything below reads them through
# `columns`.
#
# ## 3. Read the graph and look at it

# %%
columns = {role: menu.value for role, menu in mapping.items()}
feature_columns = ([] if columns["text"]
                   else numeric_columns(node_table, columns))
dataset = read_csv_graph(boxes["edges"].value, boxes["nodes"].value,
                         **columns, features=feature_columns or None,
                         name="my_graph")
print(columns, "numeric features:", feature_columns)
print(summary_table(summarize(dataset)))

# %% [markdown]
# Read the summary before training. The example has about 200 papers in
# seven topics, two of which (Rule_Learning and Theory) hold most nodes
# while Reinforcement_Learning has only a couple: any score must be read
# against the majority share. A few isolated nodes lost all their
# citations when the new rows were held back; a GNN can only use their
# own text. Every node has a text.

# %% [markdown]
# ### Exercise 1
#
# Each undirected citation is stored as two edge rows, one per
# direction; a self-loop is one row, and a pair written twice (in either
# direction) is kept once. How many rows should `edge_index` have, given
# the rows of the edge file? (The example has no repeats or self-loops:
# twice the number of rows. Your own file may have both.)

# %%
ends = edge_table[[columns["source"], columns["target"]]]
pairs = {tuple(sorted(row)) for row in ends.itertuples(index=False)}
loops = sum(a == b for a, b in pairs)
answer = 2 * len(pairs) - loops  # your answer

check_answer("edge rows", answer, dataset[0].edge_index.size(1),
             hint="count the distinct pairs of the edge file, double "
                  "them, and count each self-loop once.")

# %% [markdown]
# ## 4. Turn the texts into features
#
# A GNN needs numbers. The shipped sentence encoder (all-MiniLM-L6-v2, a
# small language model, see notebook 04) turns each title into a
# 384-dimensional vector. Titles are short, so 32 tokens are enough;
# `cache=True` stores the vectors on disk so a second run encodes nothing.
# A table without text keeps its numeric columns as they are.

# %%
encoder = TextEncoder(max_length=32)
if columns["text"]:
    dataset = encode_dataset(dataset, encoder, cache=True,
                             progress_bar=False)
data = dataset[0]
print(data)

# %% [markdown]
# `x` now has one 384-wide row per paper. Papers on similar subjects get
# similar vectors, before any training, which is why language-model
# features are a strong start for text-attributed graphs.
#
# ## 5. Train: a baseline, then a GNN
#
# A stratified 60/20/20 split of the nodes: the model trains on 60 %,
# early-stops on 20 % and is tested once on the last 20 %. The baseline
# is an MLP on the title vectors alone, the GNN a two-layer GCN that also
# reads the citations.

# %%
train, val, test = random_split(data.num_nodes, (0.6, 0.2, 0.2), seed=0,
                                stratify=data.y)
task = NodeTask(data, train, val)
config = TrainConfig(epochs=100, patience=20, lr=0.01, progress_bar=False)

def train_model(name):
    torch.manual_seed(0)
    model = build_model(name, dataset.num_features, dataset.num_classes,
                        level="node", hidden_channels=64, num_layers=2)
    fit(model, task, config)
    return model, classification_metrics(data.y[test],
                                         predict(model, data)[test])

mlp, mlp_test = train_model("mlp")
print(f"MLP test accuracy {mlp_test['accuracy']:.3f}, "
      f"macro-F1 {mlp_test['macro_f1']:.3f}")

# %% [markdown]
# Now the GCN, with the same split and settings.

# %%
gcn, gcn_test = train_model("gcn")
print(f"GCN test accuracy {gcn_test['accuracy']:.3f}, "
      f"macro-F1 {gcn_test['macro_f1']:.3f}")

# %% [markdown]
# On the example the citations help: neighbouring papers tend to share a
# topic, and the GCN averages their title vectors with the paper's own.
# With about 40 test nodes one node is 2.4 points, so treat small
# differences as noise (notebook 03 shows how to do better). Macro-F1 is
# lower than accuracy because the rare topics are hard.

# %% [markdown]
# ### Exercise 2
#
# What accuracy would "always predict the most common training topic"
# reach on the test nodes? Compute it.

# %%
majority = torch.bincount(data.y[train]).argmax()
answer = (data.y[test] == majority).float().mean().item()  # your answer

always = torch.zeros(len(test), dataset.num_classes)
always[:, majority] = 1.0  # a "model" that always says the majority
expected = classification_metrics(data.y[test], always)["accuracy"]
check_answer("majority baseline on test", answer, expected,
             hint="find the most frequent class in data.y[train], then "
                  "the share of test nodes with that class.")

# %% [markdown]
# ## 6. Where does the GNN go wrong?
#
# The confusion matrix over the test nodes, with the topic names.

# %%
confusion_matrix_figure(gcn_test["confusion_matrix"], dataset.classes)

# %% [markdown]
# Most mass sits on the diagonal for the big topics; the errors are
# mostly rare topics predicted as one of the two common ones, the usual
# pattern when classes are unbalanced.
#
# ## 7. Explain one prediction
#
# Why did the GCN give a test paper its topic? `explain_node` computes
# Integrated Gradients attributions over the paper's two-hop
# neighbourhood and reports them by **your** ids: which papers and which
# citations pushed the prediction.

# %%
paper = dataset.node_ids[0][int(test[0])]
why = explain_node(gcn, dataset, paper)
print(why)
for row in why.top_edges(3):
    print(f"  {row['source']} -> {row['target']}: {row['importance']:+.3f}")
sub = Data(edge_index=why.edge_index, num_nodes=len(why.node_ids))
graph_figure(sub, node_ids=why.node_ids, node_color=why.node_importance,
             title=f"Why {paper} is predicted as "
                   f"{dataset.classes[why.target]}")

# %% [markdown]
# The figure colours each paper of the neighbourhood by its attribution;
# hover to read the ids. The paper's own title usually matters most, and
# the strongest citations come next; a negative attribution means that
# neighbour argued *against* the predicted topic. Notebook 06 shows how to
# check whether such an explanation can be trusted.

# %% [markdown]
# ### Exercise 3
#
# Which *other* paper (not the explained one) has the largest attribution
# in absolute value? Give its id.

# %%
others = [t for t in why.top_nodes(len(why.node_ids)) if t["node"] != paper]
answer = others[0]["node"]  # your answer

scores = dict(zip(why.node_ids, why.node_importance.abs().tolist()))
scores.pop(paper)
check_answer("most important neighbour", answer, max(scores, key=scores.get),
             hint="sort why.node_importance by absolute value and skip "
                  "the explained paper itself.")

# %% [markdown]
# ## 8. Save the model
#
# `save_model` writes the weights as safetensors and the configuration,
# topic names and our feature settings as JSON -- everything needed to
# predict later in a fresh session.

# %%
saved = save_model(OUT / "model", gcn, classes=dataset.classes,
                   extra={"text_column": columns["text"],
                          "feature_columns": feature_columns,
                          "encoder_max_length": encoder.max_length})
print(sorted(p.name for p in saved.iterdir()))

# %% [markdown]
# Two files: `model.safetensors` (weights only, safe to load) and
# `config.json` (readable; open it to see the settings).

# %% [markdown]
# ### Exercise 4
#
# Load the model back and check that it predicts exactly what the model
# in memory predicts. Should the two agree? Answer `True` or `False`.

# %%
answer = True  # your answer

reloaded, info = load_model(OUT / "model")
check_answer("reloaded model agrees", answer,
             torch.equal(predict(reloaded, data), predict(gcn, data)),
             hint="save_model keeps every weight; the reloaded model "
                  "should be the same function.")

# %% [markdown]
# ## 9. Predict on new rows
#
# New papers arrive with their titles and citations but no topic for the
# model; the `new nodes` and `new edges` boxes of section 2 point at them
# (leave `new edges` empty if the new nodes come without edges).
# `join_new_rows` writes old and new rows together (new papers cite old
# ones), keeping only the columns prediction needs -- the label is left
# out -- and checks that the new ids really are new. When there are no
# new rows, or they do not match your columns, it says so and the cells
# below skip.

# %%
joined = join_new_rows(*(boxes[role].value for role in ROLES), columns,
                       OUT, features=feature_columns)
print(joined.note)

# %% [markdown]
# We read the joined tables with `label=None`, encode the texts with the
# same encoder -- the cache makes the old ones free -- (or put numeric
# columns on the training data's scale with `align_features`) and let the
# reloaded model label every node.

# %%
if joined.ready:
    everything = read_csv_graph(joined.edges, joined.nodes,
                                **{**columns, "label": None},
                                features=feature_columns or None)
    if columns["text"]:
        everything = encode_dataset(everything, encoder, cache=True,
                                    progress_bar=False)
    else:  # the training columns, on the training data's scale
        everything = align_features(everything, dataset.feature_names,
                                    dataset.meta.get("feature_scaling"))
    rows = prediction_rows(everything, predict(reloaded, everything[0]),
                           info)
    fresh = pd.DataFrame(rows).astype({"id": str}).set_index("id")
    display(fresh.loc[joined.new_ids, ["prediction"]])

# %% [markdown]
# One predicted topic per new paper, by its id, with the class
# probabilities available in `rows` (the same rows `gnnkit predict`
# writes to a CSV from the command line).

# %% [markdown]
# ### Exercise 5
#
# The example's new rows still carry their true topic (the model never
# saw it); `labels_of` reads it by id. What share of the new papers did
# the model label correctly? New rows without a label column have
# nothing to score, and the cell says so.

# %%
truth = labels_of(boxes["new_nodes"].value, columns) if joined.ready else None
if truth:
    truth = pd.Series(truth)
    right = fresh.prediction.astype(str)[truth.index] == truth
    answer = right.mean()  # your answer
    display(check_answer(
        "accuracy on the new rows", answer,
        sum(str(fresh.prediction[i]) == t for i, t in truth.items())
        / len(truth),
        hint="compare fresh.prediction with truth paper by paper."))
else:
    print("No labelled new rows to score.")

# %% [markdown]
# ## Conclusion
#
# From two CSV files to predictions on new rows: map the columns, read
# with `read_csv_graph`, summarise, turn texts into features with a
# cached language model, train a baseline and a GNN on a stratified split,
# look at the confusion matrix, explain a prediction by your own ids, save
# with `save_model`, and predict on new rows with the reloaded model.
#
# For a graph-level task (one label per graph, e.g. molecules), give
# `read_csv_graph` a `graph_id=` column and a graph table, and use
# `cross_validate` as in notebook 03.
#
# ## References
#
# - M. Fey, J. E. Lenssen. *Fast Graph Representation Learning with
#   PyTorch Geometric*. ICLR 2019 workshop.
# - N. Reimers, I. Gurevych. *Sentence-BERT: Sentence Embeddings using
#   Siamese BERT-Networks*. EMNLP 2019 (the all-MiniLM-L6-v2 family).
# - M. Sundararajan, A. Taly, Q. Yan. *Axiomatic Attribution for Deep
#   Networks*. ICML 2017 (Integrated Gradients).
# - A. McCallum et al. *Automating the construction of internet portals
#   with machine learning*. Information Retrieval, 2000 (Cora).
