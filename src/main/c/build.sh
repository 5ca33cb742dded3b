#!/bin/sh
# Builds the fused LSTM cell kernels (l2l_lstm.c) into OUT_DIR/libl2l_lstm.so; run by Maven on
# Linux x86-64. Without a C compiler it says so and succeeds: the LSTM then uses stock ops.
set -eu
out="$1"
src="$(dirname "$0")/l2l_lstm.c"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "l2l: no C compiler ($cc) found: the fused LSTM kernels are not built; the LSTM will use TensorFlow's stock ops (slower)" >&2
  exit 0
fi
mkdir -p "$out"
# -fno-trapping-math lets the loops with branches vectorise; -ffp-contract=fast lets a * b + c
# be one fused multiply-add where the CPU has them (ISO C mode would keep them apart: the cell's
# polynomials then cost twice the instructions). No -ffast-math: no reordering, NaNs kept, and a
# given build on a given CPU gives the same bits on every run.
"$cc" -std=c11 -O3 -fPIC -shared -Wall -Wextra -Werror -fno-math-errno -fno-trapping-math \
  -ffp-contract=fast \
  -o "$out/libl2l_lstm.so.tmp" "$src" -pthread -ldl -lm
mv "$out/libl2l_lstm.so.tmp" "$out/libl2l_lstm.so"
