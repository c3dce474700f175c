#!/usr/bin/env bash
# Builds the CUDA back end (Release, in build-gpu/) on a machine with an NVIDIA GPU, runs its
# tests and its benchmark. YARDSTICK_REQUIRE_CUDA=1 makes the tests fail, and the benchmark exit
# with 1, where they would otherwise skip for want of a usable device. Takes a few minutes on 16
# cores: about two to build, well under one for the tests, one to two for the benchmark (most of
# it drawing the Mixtral-sized weights on the host). Extra arguments go to cmake's configure,
# e.g. -DCMAKE_CUDA_ARCHITECTURES=80 for an A100.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 4)
export YARDSTICK_REQUIRE_CUDA=1

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DYARDSTICK_CUDA=ON "$@" >/dev/null
cmake --build build-gpu -j "$jobs" --target yardstick_tests bench_ffn_cuda

echo "== CUDA tests"
timeout 120 ./build-gpu/yardstick_tests --gtest_filter='CudaFfn.*'

echo "== CUDA benchmark"
timeout 270 ./build-gpu/bench_ffn_cuda --benchmark_min_time=0.2
