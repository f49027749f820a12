"""A tiny built-in model configuration shared by the tests that build random-weight model folders."""

from __future__ import annotations

from composer.builtin_model.config import BuiltinModelConfig, TextConditioning, UnetArchitecture, VaeArchitecture
from composer.codec.params import SpectrogramParams

#: 8 kHz, 32 mels, 2 VAE levels and a 2-level UNet: builds and samples in well under a second
TINY_BUILTIN = BuiltinModelConfig(
    model_id="tiny-test",
    codec=SpectrogramParams(sample_rate_hz=8000, hop_ms=16.0, window_ms=64.0, n_fft_ms=64.0, n_mels=32,
                            max_frequency_hz=4000.0, mel_inverse_iters=2, griffin_lim_iters=4),
    vae=VaeArchitecture(block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4),
    unet=UnetArchitecture(block_out_channels=(16, 32), layers_per_block=1, attention_heads=(1, 2), norm_num_groups=8),
    text=TextConditioning(max_tokens=16),
    train_frames=32,
    default_steps=4,
)
