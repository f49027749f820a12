"""Learned song-structure templates: sample and score song forms.

A variable-order Markov model of section labels with genre/era backoff, a
bar-length model per label and tempo band (fast songs have longer sections,
see tempo.py), and a repeat model, trained on the Harmonix Set
(MIT) and McGill Billboard (CC0) annotations (see data/ATTRIBUTION.md).

    >>> from structure_models import load_model, sample_outline
    >>> model = load_model()
    >>> form = model.sample_form(genre="pop", duration_s=180, bpm=112, beats_per_bar=4, seed=7)
"""

from __future__ import annotations

from functools import lru_cache

from structure_models.form import FormScore, SampledSection, SectionScore
from structure_models.genres import GENRES, check_genre
from structure_models.model import FormModel, load_model
from structure_models.naming import label_of_name, section_names
from structure_models.outline import expand_learned_form, outline_duration_s, sample_outline


@lru_cache(maxsize=1)
def shipped_model() -> FormModel:
    """The packaged model, parsed once per process."""
    return load_model()


__all__ = [
    "GENRES",
    "FormModel",
    "FormScore",
    "SampledSection",
    "SectionScore",
    "check_genre",
    "expand_learned_form",
    "label_of_name",
    "load_model",
    "outline_duration_s",
    "sample_outline",
    "section_names",
    "shipped_model",
]
