#!/usr/bin/env bash
# Run HERE (a machine with pip access), from the repo root, before a GPU session:
# downloads the Python 3.12 wheels that the device machine's image lacks into .whl/
# (git-ignored). The image already has torch (CUDA), transformers, tokenizers,
# huggingface-hub, accelerate, numba, scipy, scikit-learn, typer, rich and pyyaml; librosa's lazy_loader and
# msgpack, pretty_midi's six, Pillow and pytest are fetched too, in case it lacks them (they only shadow).
# Then: one device run per stage, with carry [".whl"]: "benchmarks/gpu_session.sh tests", then bench, scaling,
# dpm, compile (a device call stops at 600 s, and all five together may take longer).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d .whl \
  diffusers==0.42.1 importlib_metadata librosa==0.11.0 audioread==3.1.0 decorator soundfile==0.14.0 \
  cffi pycparser soxr==1.1.0 pooch platformdirs pretty_midi==0.2.11.post0 mido==1.3.3 importlib_resources \
  mir_eval==0.8.2 pyloudnorm==0.2.0 pydantic==2.14.3 pydantic-core==2.50.4 annotated-types \
  typing-inspection typing-extensions lazy_loader msgpack six pillow pytest iniconfig pluggy packaging
du -sh .whl
