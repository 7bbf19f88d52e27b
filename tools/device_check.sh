#!/usr/bin/env bash
# On the lent GPU machine: `make gpu-check` there. Its image has torch, nvcc and ninja but not all
# the pipeline imports, and nothing can be downloaded there: .device/ (made here beforehand by
# tools/device_pack.sh, sent with the call's carry) holds the rest. The table and the log go to
# $OUT (the device call's result folder), else outputs/. Arguments go on to tools/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.device
if [ ! -d "$pack/site" ]; then
  echo "no $pack/site here: run tools/device_pack.sh where pip works, and send $pack along"; exit 2
fi
py=${PYTHON:-python3}
export PYTHONPATH="$PWD/$pack/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
ffmpeg=/tmp/micromotion-ffmpeg  # python's lzma: no xz program needed there
[ -x $ffmpeg ] || $py -c "import lzma, os, shutil, sys
with lzma.open(sys.argv[1]) as src, open(sys.argv[2], 'wb') as dst: shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2], 0o755)" "$pack/ffmpeg.xz" $ffmpeg
export IMAGEIO_FFMPEG_EXE=$ffmpeg
out=${OUT:-outputs}
mkdir -p "$out"
$py tools/gpu_check.py --landmarks "$pack/landmarks.json" --out "$out/gpu-check.md" "$@" \
  2>&1 | tee "$out/gpu-check.log"
