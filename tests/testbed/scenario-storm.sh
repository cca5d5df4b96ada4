#!/bin/bash
# Interrupt-storm containment on cgroup v2 (the testbed's default). See
# storm-common.sh.
. tests/testbed/lib.sh
echo "cgroup: v2 at /sys/fs/cgroup"
HOLDER_QUARANTINE=signal
. tests/testbed/storm-common.sh
