"""A small multi-task clip classifier (style, lead family, ...) on standardised summary features.

One hidden layer shared by every task: its activations are the embedding the Frechet distance
is measured in, so one space serves all tasks. Full-batch AdamW on a CPU takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

#: width of the shared hidden layer (the embedding); small so ~500 clips estimate its covariance well
EMBEDDING_DIM = 64


@dataclass(frozen=True)
class ClipClassifier:
    """A trained classifier plus what it needs to read new features."""

    # per-feature mean of the training features (standardisation)
    feature_mean: np.ndarray
    # per-feature standard deviation of the training features, floored
    feature_std: np.ndarray
    # task name -> class names, in output order
    classes: Mapping[str, tuple[str, ...]]
    # shared layer: features -> embedding
    trunk: torch.nn.Module
    # task name -> linear head on the embedding
    heads: Mapping[str, torch.nn.Module]

    def embed(self, features: np.ndarray) -> np.ndarray:
        """[n, features] -> [n, EMBEDDING_DIM] hidden activations."""
        with torch.no_grad():
            return self.trunk(self._input(features)).numpy().astype(np.float64)

    def predict(self, features: np.ndarray) -> dict[str, list[str]]:
        """Task name -> predicted class name per row."""
        with torch.no_grad():
            hidden = self.trunk(self._input(features))
            return {task: [self.classes[task][i] for i in head(hidden).argmax(dim=1).tolist()]
                    for task, head in self.heads.items()}

    def _input(self, features: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((np.asarray(features, dtype=np.float64) - self.feature_mean)
                                 / self.feature_std).astype(np.float32))


def train_classifier(features: np.ndarray, labels: Mapping[str, Sequence[str]], *, seed: int,
                     epochs: int = 400, learning_rate: float = 3e-3, weight_decay: float = 1e-2,
                     dropout: float = 0.3) -> ClipClassifier:
    """Fit the shared trunk and one head per task on [n, features] with ``labels[task][i]`` per row.

    Deterministic for a given ``seed``: initialisation and dropout draw from a forked, seeded
    torch RNG, so the caller's global RNG is left untouched.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need features of shape [n >= 2, dim], got {features.shape}")
    if any(len(v) != len(features) for v in labels.values()) or not labels:
        raise ValueError("every task needs one label per feature row")
    mean, std = features.mean(axis=0), np.maximum(features.std(axis=0), 1e-6)
    classes = {task: tuple(sorted(set(values))) for task, values in labels.items()}
    targets = {task: torch.tensor([classes[task].index(v) for v in values]) for task, values in labels.items()}
    inputs = torch.from_numpy(((features - mean) / std).astype(np.float32))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        trunk = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(features.shape[1], EMBEDDING_DIM),
                                    torch.nn.Tanh())
        heads = {task: torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(EMBEDDING_DIM, len(names)))
                 for task, names in classes.items()}
        parameters = list(trunk.parameters()) + [p for head in heads.values() for p in head.parameters()]
        optimiser = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
        for module in (trunk, *heads.values()):
            module.train()
        for _ in range(epochs):
            optimiser.zero_grad()
            hidden = trunk(inputs)
            loss = sum(torch.nn.functional.cross_entropy(head(hidden), targets[task]) for task, head in heads.items())
            loss.backward()
            optimiser.step()
    for module in (trunk, *heads.values()):
        module.eval()
    return ClipClassifier(feature_mean=mean, feature_std=std, classes=classes, trunk=trunk, heads=heads)
