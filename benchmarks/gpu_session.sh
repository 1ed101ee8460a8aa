#!/usr/bin/env bash
# The GPU checks of benchmarks/README.md ("GPU") in one call, for a short loan of a CUDA machine:
# training throughput and peak memory of drum_diffusion (batch 1 and 32, fp32 and bf16), a timed
# drum_diffusion run on a folder of real one-shots scored against it, then torch.compile's rate.
#   bash benchmarks/gpu_session.sh <folder of one-shots> <results folder> [training minutes]
# Packages the machine lacks can travel as wheels in .whl/ (installed into /tmp/site first). On the
# device tool's H200 image (Python 3.12, torch 2.11) that was hydra-core, omegaconf, antlr4 (built here
# with pip wheel), python-dotenv, audio-diffusion-pytorch, a-unet, data-science-types, diffusers,
# importlib_metadata, soundfile, cffi and pycparser; the one-shots went in an ignored folder, carried.
# With 4 training minutes the three steps ran past a 560-second call there, in the compile step,
# which alone took 3 minutes: give the call 12 minutes, or train for fewer.
set -uo pipefail
data=$(realpath "$1"); out=$(realpath -m "$2"); minutes=${3:-4}
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1 WANDB_MODE=disabled
cd benchmarks || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/log.txt"
python3 gpu.py 'exps=[drum_diffusion]' 'batches=[1,32]' 'precisions=[fp32,bf16]' 'compile=[false]' steps=20 \
    out="$out/gpu_rates.md" 2>&1 | tee -a "$out/log.txt"
# drum_diffusion's recipe sums 32 clips of batch 1 per optimizer step; on a folder of fewer than 32
# training files one batch of all of them is the same optimizer step (each epoch ends it), at the
# rate of batch 32. Validation every 200 epochs (= steps) instead of every one.
python3 timed_training.py data="$data" minutes="$minutes" every=300 clips=30 steps=50 out=/tmp/drums \
    'overrides=[datamodule.batch_size=32,trainer.accumulate_grad_batches=1,trainer.check_val_every_n_epoch=200,datamodule.pin_memory=true]' \
    2>&1 | tee -a "$out/log.txt"
cp /tmp/drums/results.md "$out/drums_results.md"; cp /tmp/drums/folder_vs_generated.png "$out/"
tail -c 20000 /tmp/drums/run/train_stdout.log > "$out/drums_train_tail.log"
python3 gpu.py 'exps=[drum_diffusion]' 'batches=[32]' 'precisions=[bf16]' 'compile=[false,true]' steps=10 \
    out="$out/gpu_compiled.md" 2>&1 | tee -a "$out/log.txt"
