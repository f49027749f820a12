"""composer: a hierarchical song composer above spectrogram diffusion models."""

__version__ = "0.6.0"
