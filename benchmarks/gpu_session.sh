#!/usr/bin/env bash
# Everything issue 6 needs from a lent GPU, in one device call per stage; each stage
# writes its log and JSON under $OUT. Usage (through the device tool, carry [".whl"]):
#   benchmarks/gpu_session.sh all        # tests + 3-minute bench + scaling + DPM-Solver++ + compile (may pass 600 s)
#   benchmarks/gpu_session.sh tests|bench|scaling|dpm|compile
# A CPU dry run of the same flow (tiny random model): DEVICE=cpu MODEL=tiny benchmarks/gpu_session.sh all
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/composer-gpu-out}
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-sd15-random}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
export COLUMNS=160 PYTHONUNBUFFERED=1 COMPOSER_CACHE_DIR=${COMPOSER_CACHE_DIR:-/tmp/composer-cache}

# the wheels are for the GPU image's Python; a dry run under another Python (this machine's) uses its venv
tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
if [ -d .whl ] && [ ! -d /tmp/site ] && compgen -G ".whl/*-$tag-*.whl" > /dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
composer() { "$PYTHON" -m composer "$@"; }

if [ "$MODEL" = tiny ]; then  # CPU dry run: the tiny random model, few steps, no long songs
  backend=(--backend tiny-random); batch=4; three=0.25; lengths=0.25,0.5
else
  backend=(--backend riffusion --model "$MODEL"); batch=64; three=3; lengths=1,3,6,10
fi

versions() {
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  "$PYTHON" - <<'PY'
import importlib.metadata as m, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
for name in ("diffusers", "transformers", "tokenizers", "librosa", "numpy", "pydantic"):
    print(name, m.version(name))
PY
}

stage_tests() {
  "$PYTHON" -m pytest -q -m gpu -p no:cacheprovider --continue-on-collection-errors tests --junitxml="$OUT/gpu_tests.xml"
}
stage_bench() {  # the issue's command: fp16, SDPA + channels_last, 50 PNDM steps, batch 64
  composer bench "${backend[@]}" --device "$DEVICE" --batch-size $batch --minutes $three --repeats 3 \
    --baseline-clips 6 --json "$OUT/bench_3min.json"
}
stage_scaling() {
  composer bench "${backend[@]}" --device "$DEVICE" --batch-size $batch --minutes $lengths --repeats 1 \
    --baseline-clips 3 --json "$OUT/bench_scaling.json"
}
stage_dpm() {
  composer bench "${backend[@]}" --device "$DEVICE" --batch-size $batch --minutes $three --repeats 3 \
    --scheduler dpm++ --baseline-clips 6 --json "$OUT/bench_3min_dpm.json"
}
stage_compile() {  # repeats 3: the first run pays the compile, the median is the steady state
  composer bench "${backend[@]}" --device "$DEVICE" --batch-size $batch --minutes $three --repeats 3 \
    --compile --no-baseline --json "$OUT/bench_3min_compile.json"
}

status=0
versions
stages=("$@")
[ "${stages[*]:-all}" = all ] && stages=(tests bench scaling dpm compile)
for stage in "${stages[@]}"; do
  echo "=== $stage $(date -u +%T)"
  start=$SECONDS
  "stage_$stage" || { echo "=== $stage FAILED"; status=1; }
  echo "=== $stage took $((SECONDS - start)) s"
done
exit $status
