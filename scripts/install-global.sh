#!/usr/bin/env bash
# Installs the `orrery` command globally from this checkout: packs the three
# packages (with the dashboard and aip.proto inside) and installs the tarballs
# together, so npm resolves @orrery/* locally and the rest from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
out=$(mktemp -d)
for pkg in protocol device-agent orchestrator; do
  (cd "$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
done
npm install -g "$out"/orrery-protocol-*.tgz "$out"/orrery-device-agent-*.tgz "$out"/orrery-orchestrator-*.tgz "$@"
echo "installed: $(command -v orrery || echo 'orrery (add npm prefix bin to PATH)')"
