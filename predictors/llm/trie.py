"""The token trie of a scoring job and its plan: which nodes run in which forward pass.

Every sequence whose next-token distribution must be read becomes a path in one
trie; identical prefixes are one node.  Nodes are numbered in pre-order (the order
in which sorted sequences add them), so the subtree of node ``j`` is the interval
``[j, end[j])`` and

    j is an ancestor of i (or i itself)  iff  j <= i < end[j].

That interval test is the whole attention mask: dense (a broadcast comparison, no
N x N loop) or sparse (a FlexAttention ``mask_mod``), see ``tree_attention``.

The plan runs every node exactly once.  A node whose subtree is larger than one
pass (``max_nodes``) is *trunk*: the rules, the system turn, the early rounds most
people played alike.  Trunk nodes run first, in pre-order pieces, and keep their
keys and values; every other node belongs to a subtree small enough for one pass,
and those subtrees are packed, in pre-order, into chunks that attend to the trunk
nodes above them through the stored keys and values.  Nothing is recomputed, so
the tokens executed equal the trie's distinct nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class Trie:
    """Distinct sequences merged token by token; arrays indexed by pre-order node id."""

    tokens: np.ndarray
    parent: np.ndarray
    depth: np.ndarray
    end: np.ndarray  # one past the last node of each node's subtree
    reads: dict[tuple[int, ...], int]  # sequence -> the node that ends it

    @property
    def size(self) -> int:
        return len(self.tokens)

    def ancestors(self, nodes: Sequence[int]) -> np.ndarray:
        """Boolean len(nodes) x size matrix: row r marks nodes[r] and every ancestor of it."""
        ids = np.arange(self.size)
        q = np.asarray(nodes)[:, None]
        return (ids[None, :] <= q) & (q < self.end[None, :])


def build_trie(sequences: Sequence[tuple[int, ...]]) -> Trie:
    """Merge sequences into a pre-order trie.

    In lexicographic order, the nodes a sequence adds are exactly those past its
    longest common prefix with its predecessor, so the nodes come out in pre-order.
    """
    tokens: list[int] = []
    parent: list[int] = []
    depth: list[int] = []
    reads: dict[tuple[int, ...], int] = {}
    path: list[int] = []
    prev: tuple[int, ...] = ()
    for seq in sorted(set(sequences)):
        if not seq:
            raise ValueError("cannot score an empty sequence")
        shared = 0
        limit = min(len(prev), len(seq))
        while shared < limit and prev[shared] == seq[shared]:
            shared += 1
        del path[shared:]
        for t in seq[shared:]:
            parent.append(path[-1] if path else -1)
            depth.append(len(path))
            tokens.append(t)
            path.append(len(tokens) - 1)
        reads[seq] = path[-1]
        prev = seq
    par = np.array(parent, dtype=np.int64)
    end = np.arange(1, len(tokens) + 1, dtype=np.int64)
    for i in range(len(tokens) - 1, -1, -1):  # children come after their parent in pre-order
        p = par[i]
        if p >= 0 and end[i] > end[p]:
            end[p] = end[i]
    return Trie(np.array(tokens, dtype=np.int64), par, np.array(depth, dtype=np.int64), end, reads)


@dataclass
class Unit:
    """One packed fragment run in one forward pass.

    ``nodes``: the pre-order ids it computes (increasing); ``prefix``: already
    computed trunk nodes its nodes attend to (increasing), read from the key/value
    store; ``store``: whether its own keys and values must be kept (trunk pieces).
    """

    nodes: np.ndarray
    prefix: np.ndarray
    store: bool = False
    reads: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)  # (node, sequence)

    @property
    def size(self) -> int:
        return len(self.nodes)


def _ancestor_closure(trie: Trie, starts: Sequence[int]) -> np.ndarray:
    """Every ancestor of the given nodes (the nodes themselves included), sorted."""
    seen: set[int] = set()
    for s in starts:
        j = int(s)
        while j >= 0 and j not in seen:
            seen.add(j)
            j = int(trie.parent[j])
    return np.array(sorted(seen), dtype=np.int64)


@dataclass
class Plan:
    trie: Trie
    trunk: np.ndarray  # pre-order ids of the trunk nodes (their keys and values are stored)
    units: list[Unit]  # trunk pieces first (in dependency order), then chunks


def plan(trie: Trie, max_nodes: int) -> Plan:
    """Assign every node to exactly one unit of at most ``max_nodes`` nodes."""
    if max_nodes < 1:
        raise ValueError("max_nodes must be at least 1")
    n = trie.size
    ids = np.arange(n)
    is_trunk = (trie.end - ids) > max_nodes  # ancestor-closed: a parent's subtree contains its child's
    trunk = ids[is_trunk]
    units: list[Unit] = []
    for a in range(0, len(trunk), max_nodes):  # pre-order pieces: every outside ancestor is earlier
        nodes = trunk[a: a + max_nodes]
        parents = trie.parent[nodes]
        outside = parents[(parents >= 0) & (parents < nodes[0])]
        prefix = _ancestor_closure(trie, np.unique(outside))
        units.append(Unit(nodes, prefix, store=True))
    # subtrees hanging off the trunk (or roots), each small enough for one pass, packed in pre-order
    roots = ids[~is_trunk & ((trie.parent < 0) | is_trunk[np.maximum(trie.parent, 0)])]
    group: list[int] = []
    count = 0

    def flush() -> None:
        if not group:
            return
        nodes = np.concatenate([ids[r: trie.end[r]] for r in group])
        attach = trie.parent[np.array(group)]
        prefix = _ancestor_closure(trie, np.unique(attach[attach >= 0]))
        units.append(Unit(nodes, prefix))
        group.clear()

    for r in roots:
        s = int(trie.end[r] - r)
        if count + s > max_nodes:
            flush()
            count = 0
        group.append(int(r))
        count += s
    flush()
    node_unit = np.empty(n, dtype=np.int64)
    for k, u in enumerate(units):
        node_unit[u.nodes] = k
    for seq, node in trie.reads.items():
        units[node_unit[node]].reads.append((node, seq))
    return Plan(trie, trunk, units)
