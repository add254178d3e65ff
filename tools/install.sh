#!/usr/bin/env bash
# Installs a release build under PREFIX (default /usr/local):
#   PREFIX/bin/lic, PREFIX/lib/liblicembed.so, PREFIX/lib/lic/plugins/*.so,
#   PREFIX/include/lic/*.h, PREFIX/lib/pkgconfig/lic.pc,
#   PREFIX/share/lic/models/default (the learned default model, where the checkout has one)
# Usage: tools/install.sh [PREFIX] [BUILD_DIR]   (BUILD_DIR default .build/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-/usr/local}
build=${2:-$root/.build/release}
for f in lic liblicembed.so liblic-plugin-classical.so; do
    [ -e "$build/$f" ] || { echo "install.sh: $build/$f is missing; run 'swift build -c release' first" >&2; exit 1; }
done
mkdir -p "$prefix/bin" "$prefix/lib/lic/plugins" "$prefix/include/lic" "$prefix/lib/pkgconfig"
install -m 755 "$build/lic" "$prefix/bin/lic"
install -m 755 "$build/liblicembed.so" "$prefix/lib/liblicembed.so"
install -m 755 "$build"/liblic-plugin-*.so "$prefix/lib/lic/plugins/"
install -m 644 "$root"/SDK/include/lic/*.h "$prefix/include/lic/"
sed -e "s|@PREFIX@|$prefix|g" "$root/SDK/lic.pc.in" > "$prefix/lib/pkgconfig/lic.pc"
if [ -f "$root/models/default/model.toml" ]; then
    mkdir -p "$prefix/share/lic/models/default"
    install -m 644 "$root"/models/default/model.toml "$root"/models/default/weights.safetensors "$prefix/share/lic/models/default/"
    [ -f "$root/models/default/coding-tables.bin" ] && install -m 644 "$root/models/default/coding-tables.bin" "$prefix/share/lic/models/default/"
fi
echo "installed into $prefix"
