#!/usr/bin/env bash
# Prints the SONAME of a built libzkrs.so and, with --link, makes the
# SONAME link beside it (what the loader looks for when a program linked
# with -L<dir> -lzkrs runs from the build directory).
#   capi/soname.sh [--link] LIBDIR
set -euo pipefail
link=0
if [ "${1:-}" = --link ]; then link=1; shift; fi
lib="$1/libzkrs.so"
soname="$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [ -z "$soname" ]; then
  echo "soname.sh: $lib has no SONAME" >&2
  exit 1
fi
if [ "$link" = 1 ]; then
  ln -sf libzkrs.so "$1/$soname"
fi
echo "$soname"
