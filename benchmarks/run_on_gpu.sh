#!/usr/bin/env bash
# The CUDA checks and measurements, in one pass, for a machine with an NVIDIA GPU.
#
#   bash benchmarks/run_on_gpu.sh [LOG_FOLDER] [FASHION_FOLDER]
#
# Runs skaae from this checkout (no install), so the machine needs PyTorch with
# CUDA, scikit-learn and pytest(-xdist). Each step has its own time limit and its
# own log in LOG_FOLDER (default ./gpu-logs), so one slow step cannot hide the rest.
# STEPS picks steps by name (default: all of them, in order).
set -u
LOGS=${1:-gpu-logs}
FASHION=${2:-}
mkdir -p "$LOGS"
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
fashion_args=()
[ -n "$FASHION" ] && fashion_args=(--fashion-directory "$FASHION")

STEPS=${STEPS:-tests throughput semi_length clustering_length}

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2; shift 2
    [[ " $STEPS " == *" $name "* ]] || return 0
    echo "== $name (limit ${limit}s)"
    local start=$SECONDS
    timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1
    local status=$?
    tail -n 40 "$LOGS/$name.log"
    echo "== $name: exit $status after $((SECONDS - start))s"
}

python3 -c "import torch, sklearn, numpy; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
'| sklearn', sklearn.__version__, '| numpy', numpy.__version__);
print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA GPU')"

# The whole suite with CUDA visible: device="auto" picks the GPU, and the
# GPU-only tests run instead of skipping.
step tests 150 python3 -m pytest -q -n 8 -p no:cacheprovider -rs tests
step throughput 150 python3 benchmarks/bench_throughput.py --device cuda --skip-quality \
    --repeats 2 "${fashion_args[@]}"
step semi_length 200 python3 benchmarks/bench_training_length.py --model semi \
    --dataset fashion --n-train 10000 --checkpoints 20 50 100 200 \
    --aae-param device=cuda "${fashion_args[@]}"
step clustering_length 170 python3 benchmarks/bench_training_length.py --model clustering \
    --dataset fashion --n-train 10000 --checkpoints 20 50 100 \
    --aae-param device=cuda "${fashion_args[@]}"
