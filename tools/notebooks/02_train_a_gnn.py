# %% [markdown]
# # 02 · Train a GNN
#
# A graph neural network updates every node from its neighbours, layer
# after layer, and a loss tells the optimiser which way to move the
# weights. This notebook opens each of those boxes once, by hand, on
# numbers small enough to check with pencil and paper, and then lets
# gnnkit do the same thing on real molecules.
#
# **You will:** compute one round of message passing by hand and match
# PyG's `GCNConv`; meet GCN, GAT, GraphSAGE and GIN; derive the binary
# cross-entropy loss and its gradient and match autograd; take one AdamW
# step by hand and match `torch.optim.AdamW`; and train on MUTAG with
# early stopping on a validation split, after a baseline that ignores the
# edges.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# One cell for imports and the seed. Everything runs on the CPU in well
# under a minute.

# %%
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv
from torch_geometric.utils import degree

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.metrics import classification_metrics
from gnnkit.evaluate.splits import random_split
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask
from gnnkit.viz.dashboard import TrainingDashboard
from gnnkit.viz.figures import training_curves
from gnnkit.viz.exercises import check_answer

torch.manual_seed(0)
torch.set_printoptions(precision=4, sci_mode=False)

# %% [markdown]
# ## 1. Message passing by hand
#
# Take a path of four nodes, `0 - 1 - 2 - 3`, each with two features. PyG
# stores an undirected edge as two directed rows of `edge_index`: row 0
# holds the sources $j$, row 1 the targets $i$, and messages flow from
# $j$ to $i$.

# %%
x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
edge_index = torch.tensor([[0, 1, 1, 2, 2, 3],
                           [1, 0, 2, 1, 3, 2]])
print("x =", x)
print("edge_index =", edge_index)

# %% [markdown]
# A GCN layer (Kipf and Welling, 2017) adds a self-loop to every node and
# sums the neighbours' transformed features, each scaled by the degrees
# at both ends:
#
# $$h_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}}
#   \frac{1}{\sqrt{\hat d_i \hat d_j}}\, W x_j + b,$$
#
# where $\hat d$ counts the self-loop. Below we build PyG's layer, then
# write the three steps -- **message**, **aggregate**, **update** -- as a
# plain loop over the edges, using the layer's own weight $W$.

# %%
conv = GCNConv(2, 2)
W, b = conv.lin.weight.detach(), conv.bias.detach()
loops = torch.arange(4).repeat(2, 1)              # self-loops i -> i
src, dst = torch.cat([edge_index, loops], dim=1)
deg_hat = degree(dst, num_nodes=4)                # [1+1, 2+1, 2+1, 1+1]

h = torch.zeros(4, 2)
for j, i in zip(src.tolist(), dst.tolist()):
    message = (W @ x[j]) / (deg_hat[i] * deg_hat[j]).sqrt()  # message
    h[i] += message                                          # aggregate
h = h + b                                                    # update
print("by hand:", h, sep="\n")
print("GCNConv:", conv(x, edge_index).detach(), sep="\n")

# %% [markdown]
# The two lines agree. The layer is nothing more than this loop, written
# as one sparse matrix product so it runs fast on large graphs. The check
# below makes the agreement exact rather than "looks the same".

# %%
assert torch.allclose(h, conv(x, edge_index), atol=1e-6)
print("hand-written message passing matches GCNConv")

# %% [markdown]
# ### Exercise 1
#
# Set $W$ to the identity and $b$ to zero, so that $h_i$ is just the
# degree-weighted sum of the features around node $i$. What is $h_3$?
# Node 3 has one neighbour (node 2) and its self-loop; write the sum
# yourself before looking at the numbers.

# %%
answer = [1 / 6**0.5, 1 / 6**0.5]  # your answer: h_3 as [a, b]

identity = GCNConv(2, 2)
identity.lin.weight.data = torch.eye(2)
identity.bias.data.zero_()
check_answer("h_3 with W = I", answer, identity(x, edge_index)[3],
             hint="x_3 = 0 adds nothing; x_2 = [1, 1] is scaled by "
                  "1/sqrt(d_3 * d_2) with d_3 = 2 and d_2 = 3.")

# %% [markdown]
# ## 2. Four ways to aggregate: GCN, GAT, GraphSAGE, GIN
#
# The four classic layers differ in how they weigh the neighbours:
#
# | layer | how a node combines its neighbours | paper |
# | --- | --- | --- |
# | GCN | degree-normalised sum, as above | Kipf, Welling 2017 |
# | GAT | sum weighted by learned attention | Veličković et al. 2018 |
# | GraphSAGE | own features and the *mean* of the rest | Hamilton 2017 |
# | GIN | MLP of own features plus the *sum* | Xu et al. 2019 |
#
# `build_model` wraps each in the same stack -- layers, a readout that
# pools nodes into one vector per graph, and a small head -- so they can be
# swapped by name. Here they are on the toy graph, treated as one graph
# with 2 classes.

# %%
for name in ["gcn", "gat", "sage", "gin", "mlp"]:
    model = build_model(name, in_channels=2, out_channels=2,
                        hidden_channels=8, num_layers=2)
    size = sum(p.numel() for p in model.parameters())
    out = model.eval()(x, edge_index)
    print(f"{name:5s} {size:5d} parameters, logits {list(out.shape)}")

# %% [markdown]
# Each model turns the whole toy graph into one row of two logits, one per
# class. GIN has the most parameters: the two-layer MLP inside each of
# its layers, which makes it as discriminative as the Weisfeiler-Lehman
# test; GAT adds attention vectors per head to GCN's weights, GraphSAGE a
# second weight matrix for the node itself. The `mlp` row is the
# **baseline**: the same stack with plain linear layers, blind to the
# edges. If a GNN cannot beat it, the edges are not helping.

# %% [markdown]
# ### Exercise 2
#
# GraphSAGE's mean aggregation is easy to check too. For node 1 the mean
# of its neighbours' features (nodes 0 and 2) is what `SAGEConv` feeds to
# its neighbour weight. Compute that mean.

# %%
answer = [1.0, 0.5]  # your answer: mean of x_0 and x_2

neighbours = edge_index[0, edge_index[1] == 1]
check_answer("mean over node 1's neighbours", answer,
             x[neighbours].mean(dim=0),
             hint="node 1's neighbours are 0 and 2: average [1, 0] and "
                  "[1, 1] feature by feature.")

# %% [markdown]
# ## 3. The loss and its gradient by hand
#
# For a binary label $y \in \{0, 1\}$ and a logit $z$, the model says
# "class 1" with probability $p = \sigma(z) = 1 / (1 + e^{-z})$. Binary
# cross-entropy averages the surprise over $n$ examples:
#
# $$L = -\frac{1}{n}\sum_k \big[y_k \log p_k + (1 - y_k)\log(1 - p_k)\big].$$
#
# Differentiating through the sigmoid leaves a strikingly simple gradient:
#
# $$\frac{\partial L}{\partial z_k} = \frac{p_k - y_k}{n}.$$

# %%
z = torch.tensor([2.0, -1.0, 0.5, -3.0], requires_grad=True)
y = torch.tensor([1.0, 0.0, 0.0, 1.0])
p = torch.sigmoid(z)
loss_by_hand = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
grad_by_hand = (p - y) / len(y)

loss = F.binary_cross_entropy_with_logits(z, y)
loss.backward()
print(f"loss  by hand {loss_by_hand.item():.6f}   PyTorch {loss.item():.6f}")
print("grad  by hand", grad_by_hand.detach())
print("grad autograd", z.grad)

# %% [markdown]
# Both agree. Read the gradient: the fourth example is labelled 1 but has
# logit $-3$, so $p \approx 0.05$ and its gradient is the largest in size
# and negative -- gradient descent will push that logit up hard. The first
# example is already confidently right and barely moves.
#
# gnnkit's classifiers output one logit per class and use cross-entropy.
# For two classes that is the same loss as BCE on the difference of the
# two logits; the next cell checks it.

# %%
logits = torch.stack([torch.zeros(4), z.detach()], dim=1)  # [4, 2]
ce = F.cross_entropy(logits, y.long())
assert torch.allclose(ce, loss.detach())
print(f"cross-entropy on [0, z] = {ce.item():.6f} = BCE on z")

# %% [markdown]
# ### Exercise 3
#
# A single example has label $y = 0$ and logit $z = 0$. What is
# $\partial L / \partial z$?

# %%
answer = 0.5  # your answer

z1 = torch.zeros(1, requires_grad=True)
F.binary_cross_entropy_with_logits(z1, torch.zeros(1)).backward()
check_answer("dL/dz at z = 0, y = 0", answer, z1.grad.item(),
             hint="use (p - y) / n with p = sigmoid(0) and n = 1.")

# %% [markdown]
# ## 4. One AdamW step by hand
#
# AdamW (Loshchilov and Hutter, 2019) keeps running means of the gradient
# $g$ and of its square, corrects their start-up bias, and takes a step
# scaled per parameter. Weight decay is *decoupled*: the weights shrink by
# a factor $1 - \eta\lambda$ directly, instead of adding $\lambda w$ to the
# gradient as L2 regularisation would. For the first step ($t = 1$):
#
# $$w \leftarrow w(1 - \eta\lambda),\quad
#   m = (1-\beta_1) g,\quad v = (1-\beta_2) g^2,$$
# $$\hat m = m / (1 - \beta_1),\quad \hat v = v / (1 - \beta_2),\quad
#   w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon).$$

# %%
lr, wd, (beta1, beta2), eps = 0.1, 0.01, (0.9, 0.999), 1e-8
w0 = torch.tensor([1.0, -2.0, 0.5])
g = torch.tensor([0.3, -0.02, 0.0])

w = w0 * (1 - lr * wd)                       # decoupled weight decay
m_hat = (1 - beta1) * g / (1 - beta1)        # bias-corrected mean
v_hat = (1 - beta2) * g**2 / (1 - beta2)     # bias-corrected square
w_by_hand = w - lr * m_hat / (v_hat.sqrt() + eps)

param = torch.nn.Parameter(w0.clone())
optimizer = torch.optim.AdamW([param], lr=lr, weight_decay=wd)
param.grad = g.clone()
optimizer.step()
print("by hand:", w_by_hand)
print("AdamW  :", param.detach())
assert torch.allclose(w_by_hand, param.detach())

# %% [markdown]
# They match. Notice what the first step does: after bias correction
# $\hat m / \sqrt{\hat v} = g / |g|$, so **every parameter with a non-zero
# gradient moves by the full learning rate**, whether its gradient is 0.3
# or 0.02. That is why Adam's learning rate is a step size in weight
# units, and why a pretrained language model (notebook 05) needs a rate
# one or two orders of magnitude smaller than a fresh GNN. The third
# weight had no gradient and only shrank by the decay.

# %% [markdown]
# ### Exercise 4
#
# Without weight decay, how far does the first AdamW step move the second
# weight (gradient $-0.02$, learning rate $0.1$)? Give the signed change
# $w_{new} - w_{old}$.

# %%
answer = 0.1  # your answer

p2 = torch.nn.Parameter(w0.clone())
step = torch.optim.AdamW([p2], lr=lr, weight_decay=0.0)
p2.grad = g.clone()
step.step()
check_answer("first-step change of w[1]", answer, (p2 - w0)[1].item(),
             hint="the first step is -lr * g / |g|: its size is the "
                  "learning rate, its sign opposite to the gradient's.")

# %% [markdown]
# ## 5. Real data: MUTAG
#
# MUTAG holds 188 molecules (nodes are atoms, one-hot by element; edges
# are bonds), labelled by whether the compound is mutagenic. We split it
# once into training, validation and test parts, stratified by class. The
# validation part picks the best epoch; the test part is looked at
# **once**, at the end.

# %%
mutag = load_dataset("MUTAG")
train_idx, val_idx, test_idx = random_split(
    len(mutag), (0.7, 0.15, 0.15), seed=0, stratify=mutag.y)
train, val, test = (mutag.subset(i) for i in (train_idx, val_idx, test_idx))
print(mutag)
print(f"train {len(train)}, validation {len(val)}, test {len(test)}")

# %% [markdown]
# `GraphTask` packs the training graphs once and serves shuffled
# mini-batches; `TrainConfig` holds the settings, kept small here
# (raise `EPOCHS` for a longer run); `fit` is gnnkit's one training loop.
# Early stopping watches validation accuracy: after `patience` epochs
# without improvement it stops, and either way the model ends up holding
# the weights of its best validation epoch.
#
# First the **baseline**: the MLP that never looks at a bond.

# %%
EPOCHS, PATIENCE = 60, 20
task = GraphTask(train, val, batch_size=32)
config = TrainConfig(epochs=EPOCHS, patience=PATIENCE, lr=0.01, seed=0,
                     progress_bar=False)

def train_model(name):
    model = build_model(name, mutag.num_features, mutag.num_classes,
                        hidden_channels=32, num_layers=3, pooling="sum")
    return model, fit(model, task, config)

mlp, mlp_result = train_model("mlp")
print(f"MLP: best epoch {mlp_result.best_epoch}, "
      f"val accuracy {mlp_result.best_score:.3f}")

# %% [markdown]
# Now GIN, with the same task, settings and seed. Sum pooling lets the
# readout count atoms, which GIN's authors show matters for molecules.

# %%
gin, gin_result = train_model("gin")
print(f"GIN: best epoch {gin_result.best_epoch}, "
      f"val accuracy {gin_result.best_score:.3f}, "
      f"stopped early: {gin_result.stopped_early}")
training_curves([mlp_result.history, gin_result.history],
                labels=["MLP baseline", "GIN"])

# %% [markdown]
# Read the curves: the training loss falls for both, the GIN's faster.
# The validation accuracy (right) is jumpy -- with 28 validation graphs one
# graph is 3.6 points -- which is why early stopping uses `patience`
# instead of stopping at the first dip. The model keeps the weights of the
# best validation epoch printed above, not of the last one.
#
# ## 6. One look at the test part
#
# Only now do we score the test graphs, once per model.

# %%
for name, model in [("MLP", mlp), ("GIN", gin)]:
    scores = predict(model, test)
    m = classification_metrics(test.y, scores)
    print(f"{name}: test accuracy {m['accuracy']:.3f}, "
          f"ROC-AUC {m['roc_auc']:.3f}")

# %% [markdown]
# On 28 test graphs a single wrong prediction moves accuracy by 3.6
# points, so differences of a few points between the two rows are within
# noise. Notebook 03 replaces this single split by cross-validation to get
# a number with an error bar.

# %% [markdown]
# ### Exercise 5
#
# Which epoch's weights does `gin` hold now? Read it from the history:
# the epoch with the highest `val_accuracy` (on ties, the one with the
# lower `val_loss`).

# %%
history = gin_result.history
best = max(history, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
answer = best["epoch"]  # yours

check_answer("epoch of the kept weights", answer, gin_result.best_epoch,
             hint="look for the largest r['val_accuracy'] in "
                  "gin_result.history; ties go to the lower val_loss.")

# %% [markdown]
# ## 7. All four GNNs on the same split
#
# Swapping the architecture is one string. The loop below trains the
# other three layers with the same settings.

# %%
for name in ["gcn", "gat", "sage"]:
    model, result = train_model(name)
    acc = classification_metrics(test.y, predict(model, test))["accuracy"]
    print(f"{name:5s} best epoch {result.best_epoch:3d}, val "
          f"{result.best_score:.3f}, test {acc:.3f}")

# %% [markdown]
# The four layers land within a few points of each other on this small
# split, and the ranking changes with the seed (try `seed=1` in
# `TrainConfig`). That is not a failure of any layer; it is the size of
# the data. Choosing between them fairly needs notebook 03.
#
# ## 8. The training dashboard
#
# Everything above fits in one widget: pick a dataset, a model, the
# learning rate and the number of epochs, press **Run**, and the loss and
# validation curves grow epoch by epoch; **Stop** ends training cleanly
# and keeps the best weights. The next cell shows it and runs it once at
# its small default settings; then press Run yourself with other values.

# %%
dash = TrainingDashboard("MUTAG", model="gin", epochs=10)
dash.run()
dash

# %% [markdown]
# The status line reports the best validation accuracy and its epoch,
# exactly what `fit` returned in section 5; `dash.result` holds the same
# `FitResult` and `dash.prepared.model` the trained model, for use in
# later cells. (With Voila, `voila 02_train_a_gnn.ipynb` serves this
# notebook as an app for a class.)
#
# ## Conclusion
#
# - A GNN layer is a loop over edges: a message from each neighbour,
#   scaled (GCN), weighted by attention (GAT), averaged (GraphSAGE) or
#   summed into an MLP (GIN), then an update. PyG's layers compute exactly
#   what we wrote by hand.
# - The cross-entropy gradient is $(p - y)/n$: confident mistakes pull
#   hardest.
# - AdamW's first step moves every parameter by about the learning rate,
#   and its weight decay shrinks weights directly.
# - `fit` trains with early stopping on a validation split and restores
#   the best weights; a baseline without edges comes first.
#
# Next: **03 · Evaluate honestly**.
#
# ## References
#
# - T. Kipf, M. Welling. *Semi-Supervised Classification with Graph
#   Convolutional Networks*. ICLR 2017.
# - P. Veličković et al. *Graph Attention Networks*. ICLR 2018.
# - W. Hamilton, R. Ying, J. Leskovec. *Inductive Representation Learning
#   on Large Graphs*. NeurIPS 2017.
# - K. Xu, W. Hu, J. Leskovec, S. Jegelka. *How Powerful are Graph Neural
#   Networks?* ICLR 2019.
# - I. Loshchilov, F. Hutter. *Decoupled Weight Decay Regularization*.
#   ICLR 2019.
# - PyG documentation, *Creating Message Passing Networks*.
