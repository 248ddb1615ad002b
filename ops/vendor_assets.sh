#!/usr/bin/env bash
# Re-vendors the browser assets that GraphiQL (GET /graphql) and the API reference (GET /docs)
# load, from their npm packages, with each package's licence files beside its files.
# qrmint serves them itself, so both pages work with no internet access.
# Usage: ops/vendor_assets.sh   (needs npm; bump a version here and in ops/pages.py together)
set -euo pipefail
cd "$(dirname "$0")/static"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

take() {  # take PACKAGE VERSION FILE...   (paths inside the package)
  local package=$1 version=$2; shift 2
  local target="${package##*/}-$version"
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  mkdir -p "$work/$target" && tar xzf "$work/${package##*/}-$version.tgz" -C "$work/$target"
  rm -rf "$target" && mkdir -p "$target"
  for file in "$@"; do cp "$work/$target/package/$file" "$target/"; done
}

take graphiql 3.8.3 graphiql.min.js graphiql.min.css LICENSE
take react 18.3.1 umd/react.production.min.js LICENSE
take react-dom 18.3.1 umd/react-dom.production.min.js LICENSE
take swagger-ui-dist 5.35.0 swagger-ui-bundle.js swagger-ui.css \
  swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE
