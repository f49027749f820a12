"""Procedural training corpus for the built-in model: compose, render, caption.

Build it with ``python -m composer.builtin_model.corpus.build --out data/corpus``.
"""
