#!/bin/bash
# The lab guest's init (PID 1): mount what the runner needs, run it on the job, power off.
# The root is the host's / over virtio-9p, read-only; the job directory is the writable share "labout".
# The kernel passes `labrunner=` and `labnode=` from its command line as environment variables.
mount -n -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
# No tmpfs over /tmp: the host's /tmp may hold the checkout the runner comes from (a clone under /tmp
# is common in CI). The guest's own scratch space is /run.
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /mnt
mkdir -p /mnt/out /run/lab-fw
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labout /mnt/out
export HOME=/run TMPDIR=/run PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "lab-guest: up, kernel $(uname -r)" >/dev/console
"${labnode:-/usr/bin/node}" "$labrunner" /mnt/out/job.json >/mnt/out/runner.log 2>&1
echo "lab-guest: runner exit $?" >/dev/console
sync
umount /mnt/out 2>/dev/null
reboot -f
