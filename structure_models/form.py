"""Result types of sampling and scoring a form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampledSection:
    """One section of a sampled form."""

    # normalized label: intro, verse, prechorus, chorus, bridge, solo, ...
    label: str
    # length in whole bars
    bars: int
    # index of the earlier section whose material this one repeats, None if new
    repeat_of: int | None


@dataclass(frozen=True)
class SectionScore:
    """Surprisal of one section under the model."""

    # normalized label
    label: str
    # bars, None when scored without lengths
    bars: int | None
    # -log2 P(label | previous labels, genre)
    label_bits: float
    # -log2 P(bars | label, previous same-label bars, genre), None without lengths
    bars_bits: float | None
    # why this section is surprising ('' when it is not)
    note: str

    @property
    def bits(self) -> float:
        """Label plus length surprisal."""
        return self.label_bits + (self.bars_bits or 0.0)


@dataclass(frozen=True)
class FormScore:
    """Surprisal of a whole form and how it compares with the validation songs."""

    # genre the form was scored under
    genre: str
    # one entry per section, in form order
    sections: tuple[SectionScore, ...]
    # -log2 P(song ends here | last labels)
    end_bits: float
    # sections' bits plus end_bits
    total_bits: float
    # total_bits / number of sections, the number compared with the validation songs
    bits_per_section: float
    # fraction of validation songs of the genre with fewer bits per section
    percentile: float
    # True when above the 95th percentile of validation songs of the genre
    unusual: bool
    # one or two sentences saying why (or that the form is typical)
    explanation: str
