#!/usr/bin/env bash
# The packages install and run on a machine without a Rust toolchain:
#   - Python: the abi3 wheel (`pip wheel ./python`, built with the dev
#     profile here; `MATURIN_PEP517_ARGS` unset gives release) goes into a
#     fresh virtualenv with no cargo on PATH and no package index;
#   - Node: `npm pack` in node/ (the prebuilt addon, no Rust sources) is
#     installed into an empty directory with no cargo on PATH.
# Each then starts a member in-process and writes and reads a znode.
# Needs the Python venv of scripts/test.sh and the addon built in node/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${ZKRS_VENV:-$TARGET/python-venv}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
NO_RUST_PATH="/usr/local/bin:/usr/bin:/bin"

echo "-- python wheel"
CARGO_TARGET_DIR="$TARGET" MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS---profile dev}" \
  "$VENV/bin/pip" wheel -q --no-deps --disable-pip-version-check -w "$WORK/dist" "$ROOT/python"
WHEEL="$(ls "$WORK"/dist/zkrs-*.whl)"
case "$WHEEL" in
  *-abi3-*) echo "built $(basename "$WHEEL")" ;;
  *) echo "not an abi3 wheel: $WHEEL" >&2; exit 1 ;;
esac
/usr/bin/python3 -m venv "$WORK/venv"
env PATH="$NO_RUST_PATH" sh -c '! command -v cargo >/dev/null' ||
  { echo "cargo is still on the stripped PATH" >&2; exit 1; }
env PATH="$NO_RUST_PATH" "$WORK/venv/bin/pip" install -q --no-index --disable-pip-version-check "$WHEEL"
env PATH="$NO_RUST_PATH" "$WORK/venv/bin/python" -c '
import zkrs
with zkrs.Member() as m, zkrs.Client(m.connect_string) as zk:
    zk.create("/pkg", b"wheel")
    assert zk.get("/pkg")[0] == b"wheel"
print("wheel installed without Rust: member and client work")
'

echo "-- node tarball"
(cd "$ROOT/node" && npm pack --pack-destination "$WORK" --loglevel=error >/dev/null)
TARBALL="$(ls "$WORK"/zkrs-*.tgz)"
tar -tzf "$TARBALL" >"$WORK/contents"
grep -q 'package/zkrs\..*\.node$' "$WORK/contents" ||
  { echo "the tarball carries no prebuilt addon" >&2; exit 1; }
mkdir "$WORK/app"
(cd "$WORK/app" && env PATH="$NO_RUST_PATH" npm install --no-audit --no-fund --loglevel=error "$TARBALL" >/dev/null)
(cd "$WORK/app" && env PATH="$NO_RUST_PATH" node -e '
const { Member, Client } = require("zkrs")
async function main () {
  const m = await Member.start()
  const c = new Client(m.connectString)
  await c.connect()
  await c.create("/pkg", "tarball")
  const { data } = await c.getData("/pkg")
  if (data.toString() !== "tarball") throw new Error("read back " + data)
  await c.close()
  await m.stop()
  console.log("tarball installed without Rust: member and client work")
}
main().catch((e) => { console.error(e); process.exit(1) })
')
