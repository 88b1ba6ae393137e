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
