"""Command line of the built-in model's training.

    python -m composer.builtin_model.train --corpus data/corpus --stage vae --out runs/builtin --steps 3000
    python -m composer.builtin_model.train --corpus data/corpus --stage unet --out runs/builtin --steps 20000
    python -m composer.builtin_model.train --corpus data/corpus --stage decoder --out runs/builtin --steps 2000
    python -m composer.builtin_model.train --stage export --out runs/builtin --weights composer/builtin_model/weights

Add ``--resume`` to continue a stage from its checkpoint (``runs/builtin/<stage>/checkpoint.pt``);
the loss goes to ``runs/builtin/<stage>/log.jsonl`` and stdout. The optional ``decoder`` stage
fine-tunes the VAE decoder with the encoder frozen (the UNet's latents stay valid); export ships it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from composer.builtin_model.training import (
    TrainSettings,
    export_model,
    load_run_config,
    train_decoder,
    train_unet,
    train_vae,
)
from composer.errors import ComposerError

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m composer.builtin_model.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("vae", "unet", "decoder", "export"), required=True)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="corpus folder (metadata.jsonl)")
    parser.add_argument("--out", type=Path, default=Path("runs/builtin"), help="run folder: caches, checkpoints, logs")
    parser.add_argument("--steps", type=int, default=0, help="train until this many steps in all")
    parser.add_argument("--resume", action="store_true", help="continue from the stage's checkpoint")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--decay-steps", type=int, default=0,
                        help="cool the learning rate linearly over the last this many steps (0: constant)")
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS_DIR, help="export: folder to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        if args.stage == "export":
            export_model(args.out, args.weights)
            return 0
        if args.steps < 1:
            raise ComposerError("--steps must be at least 1")
        if not 0 <= args.decay_steps <= args.steps:
            raise ComposerError(f"--decay-steps must be between 0 and --steps ({args.steps}), got {args.decay_steps}")
        settings = TrainSettings(steps=args.steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
                                 warmup_steps=args.warmup_steps, decay_steps=args.decay_steps,
                                 checkpoint_every=args.checkpoint_every,
                                 eval_every=args.eval_every, seed=args.seed, device=args.device)
        config = load_run_config(args.out)
        train = {"vae": train_vae, "unet": train_unet, "decoder": train_decoder}[args.stage]
        step = train(args.corpus, args.out, config=config, settings=settings, resume=args.resume,
                     log=lambda line: print(line, flush=True))
        print(f"{args.stage}: {step} steps done; checkpoint {args.out / args.stage / 'checkpoint.pt'}", flush=True)
        return 0
    except ComposerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
