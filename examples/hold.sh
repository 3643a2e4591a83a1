#!/bin/sh
# Hold the m4 while a C-style program runs: if the program dies in any way, the daemon stops the m4.
# Start a daemon first (here on the in-process twin):
#   rproc-supervisor daemon --driver sim --socket /tmp/rproc.sock &
# then:
#   sh examples/hold.sh /tmp/rproc.sock
# From a clone, without installing: RPROC_SUPERVISOR='npx rproc-supervisor' sh examples/hold.sh /tmp/rproc.sock
SOCK=${1:-/tmp/rproc.sock}
exec ${RPROC_SUPERVISOR:-rproc-supervisor} hold m4 --socket "$SOCK" --ttl 3000 -- sh -c '
  echo "lease connection on fd $RPROC_LEASE_FD"
  i=0
  while [ $i -lt 3 ]; do
    printf "{\"op\":\"ping\",\"id\":$i}\n" >&3   # a heartbeat, as a program that asked for --ttl does
    echo "working with the m4 ($i)"; sleep 1; i=$((i+1))
  done
'
