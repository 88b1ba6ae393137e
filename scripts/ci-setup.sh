#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine (idempotent).
set -euo pipefail
need=()   # the build cannot run without these
want=()   # tests skip without these, except under CI=true
command -v mvn >/dev/null 2>&1 || need+=(maven)
# Vulkan tests run on Mesa's lavapipe (software Vulkan) when no Vulkan driver is present, under the
# Khronos validation layer.
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || want+=(libvulkan1)
if ! compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null && ! compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null; then
  want+=(mesa-vulkan-drivers)
fi
[ -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ] || want+=(vulkan-validationlayers)
all=("${need[@]}" "${want[@]}")
if [ ${#all[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${all[@]}"
  elif [ ${#need[@]} -gt 0 ]; then
    echo "ci-setup: missing packages: ${all[*]} (install them with your package manager)" >&2
    exit 1
  else
    echo "ci-setup: Vulkan tests will be skipped; install ${want[*]} to run them on lavapipe" >&2
  fi
fi

# CUDA kernel checks (ptxas for every target, fatbin freshness) need nvcc 13.0 and ptxas; with CI set the
# tests fail rather than skip when they are missing. Best effort: NVIDIA's pip wheels of the 13.0 toolkit
# (the same release the committed fatbins were built with), laid out as /usr/local/cuda.
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  if [ "$(id -u)" = 0 ] && command -v pip3 >/dev/null 2>&1; then
    echo "ci-setup: installing nvcc 13.0 (pip wheels) into /opt/trestle-cuda" >&2
    if pip3 install -q --no-deps --target /opt/trestle-cuda "nvidia-cuda-nvcc==13.0.88" "nvidia-cuda-crt==13.0.88" \
        "nvidia-nvvm==13.0.88" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cccl==13.0.85"; then
      ln -sfn /opt/trestle-cuda/nvidia/cu13 /usr/local/cuda
    else
      echo "ci-setup: could not install nvcc; the CUDA kernel tests will fail under CI (install CUDA 13.0's nvcc)" >&2
    fi
  else
    echo "ci-setup: nvcc not found; the CUDA kernel tests need CUDA 13.0's nvcc and ptxas on PATH or in /usr/local/cuda" >&2
  fi
fi
