#!/usr/bin/env bash
# Compile (not link) the CUDA ops with nvcc and g++ against the installed torch headers: a check
# for machines with the CUDA toolkit but no GPU (linking needs a CUDA build of torch).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
inc=$($py -c "from torch.utils.cpp_extension import include_paths; print(' '.join('-I'+p for p in include_paths()))")
pyinc=$($py -c "import sysconfig; print(sysconfig.get_paths()['include'])")
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# A CPU build of torch ships c10/cuda headers but not this CMake-generated one; its real
# content is this one define.
mkdir -p "$out/shim/c10/cuda/impl"
echo '#define C10_CUDA_BUILD_SHARED_LIBS' > "$out/shim/c10/cuda/impl/cuda_cmake_macros.h"
flags="-I$out/shim $inc -I$pyinc -DTORCH_EXTENSION_NAME=check -DTORCH_API_INCLUDE_EXTENSION_H -std=c++20 -O3"
for f in stylegan2/ops/cuda/*.cu; do
  echo "nvcc $f"
  nvcc -c "$f" -o "$out/$(basename "$f").o" $flags -Xcompiler -fPIC \
    -gencode=arch=compute_90,code=sm_90
done
for f in stylegan2/ops/cuda/*.cpp; do
  echo "g++  $f"
  g++ -c "$f" -o "$out/$(basename "$f").o" $flags -fPIC
done
echo "all CUDA op sources compiled"
