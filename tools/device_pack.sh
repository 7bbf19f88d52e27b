#!/usr/bin/env bash
# Here, before a GPU check: put in .device/ what the lent GPU machine lacks and cannot download
# (nothing outside it can be reached from it; its image has torch, nvcc, ninja, numpy, scipy,
# scikit-learn, pillow, imageio and pytest):
#   site/          the pure-Python packages the pipeline imports beyond those (openai-clip, ftfy,
#                  wcwidth, imageio-ffmpeg without its binary), at requirements.txt's versions
#   ffmpeg.xz      imageio-ffmpeg's ffmpeg (libx264), compressed: its wheel is over the 64 MiB
#                  that a device call can send
#   landmarks.json the example photo's 68 landmarks, found here with dlib: dlib's model is 100 MB
# Then, on the device: `bash tools/device_check.sh` with carry [".device"] (the README says how).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
pack=.device
pins=$(grep -E '^(openai-clip|ftfy|imageio-ffmpeg)==' requirements.txt)
wcwidth=$($py -m pip freeze | grep -i '^wcwidth==')  # ftfy's one requirement, as installed here
rm -rf "$pack/site" && mkdir -p "$pack/site"
$py -m pip install --quiet --no-deps --no-compile --target "$pack/site" $pins "$wcwidth"
binary=$(ls "$pack"/site/imageio_ffmpeg/binaries/ffmpeg-*)
if [ ! -f "$pack/ffmpeg.xz" ] || [ "$(cat "$pack/ffmpeg.name" 2>/dev/null)" != "$(basename "$binary")" ]; then
  echo "compressing $(basename "$binary") (a minute or two)"
  xz -9 -T0 -c "$binary" > "$pack/ffmpeg.xz.part" && mv "$pack/ffmpeg.xz.part" "$pack/ffmpeg.xz"
  basename "$binary" > "$pack/ffmpeg.name"
fi
rm -rf "$pack"/site/imageio_ffmpeg/binaries/ffmpeg-* "$pack"/site/bin
$py tools/gpu_check.py --save-landmarks "$pack/landmarks.json"
du -sh "$pack"
