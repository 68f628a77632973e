#!/usr/bin/env bash
# Install the front-end packages exactly as locked in package-lock.json and copy only the files
# the pages load into minsheng/static/vendor/. Government intranets have no internet: every asset
# is served by us, never from a CDN.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

npm ci --no-audit --no-fund

src="$root/node_modules"
dest="$root/minsheng/static/vendor"
rm -rf "$dest"
mkdir -p "$dest/leaflet/images"

cp "$src/htmx.org/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$src/@tabler/core/dist/css/tabler.min.css" "$dest/tabler.min.css"
cp "$src/@tabler/core/dist/js/tabler.min.js" "$dest/tabler.min.js"
cp "$src/echarts/dist/echarts.min.js" "$dest/echarts.min.js"
cp "$src/leaflet/dist/leaflet.js" "$dest/leaflet/leaflet.js"
cp "$src/leaflet/dist/leaflet.css" "$dest/leaflet/leaflet.css"
cp "$src/leaflet/dist/images/"*.png "$dest/leaflet/images/"
cp "$src/axe-core/axe.min.js" "$dest/axe.min.js"

# The source maps are not shipped; drop the comments pointing at them so the manifest storage
# (collectstatic in production) does not look for files that are not there.
for f in "$dest"/*.js "$dest"/*.css "$dest"/leaflet/*.js "$dest"/leaflet/*.css; do
    sed -i -E 's@/[*/]# sourceMappingURL=[^ *]*( \*/)?@@' "$f"
done

# Refuse a stylesheet that would fetch fonts or anything else from the internet.
if grep -Eq '@import[^;]*(https?:)?//|url\(["'"'"']?(https?:)?//' "$dest"/*.css "$dest"/leaflet/*.css; then
    echo "vendor_assets: a stylesheet references a remote URL; refusing." >&2
    exit 1
fi

# The minified files keep their licence headers; record which versions were copied.
node -e '
const lock = require("./package-lock.json").packages;
for (const name of ["htmx.org", "@tabler/core", "echarts", "leaflet", "axe-core"]) {
  console.log(name + " " + lock["node_modules/" + name].version);
}' > "$dest/VERSIONS.txt"

echo "vendor_assets: copied into $dest"
cat "$dest/VERSIONS.txt"
