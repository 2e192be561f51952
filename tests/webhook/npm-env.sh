# Sourced by the webhook and chart tests: finds the npm test packages, installing them
# into the build tree on first use (CI installs them beforehand with npm-install.sh),
# and exports COCOON_NPM_MODULES. Returns 77 (skip) with a message when they cannot be had.
npm_dir=${COCOON_WEBHOOK_NPM_DIR:-${COCOON_WEBHOOK_NPM_DEFAULT:-}}
if [ -z "$npm_dir" ]; then
  echo "SKIP: set COCOON_WEBHOOK_NPM_DIR (run through ctest, or tests/webhook/npm-install.sh DIR first)"
  return 77
fi
if [ ! -f "$npm_dir/node_modules/fast-json-patch/package.json" ]; then
  if ! command -v npm >/dev/null; then
    echo "SKIP: npm is not installed, and the test packages are not in $npm_dir"
    return 77
  fi
  mkdir -p "$npm_dir"
  # One installer at a time: several tests may start together.
  if ! flock "$npm_dir/.lock" bash -c '[ -f "$1/node_modules/fast-json-patch/package.json" ] ||
      "$2/npm-install.sh" "$1" >"$1/install.log" 2>&1' _ "$npm_dir" "$(dirname "${BASH_SOURCE[0]}")"; then
    echo "SKIP: npm could not install the test packages into $npm_dir (no registry?): $(tail -3 "$npm_dir/install.log")"
    return 77
  fi
fi
export COCOON_NPM_MODULES="$npm_dir/node_modules"
