#!/bin/bash
# Interrupt-storm containment on cgroup v1 (the cpu controller alone, as
# on hybrid hosts). See storm-common.sh.
. tests/testbed/lib.sh
umount /sys/fs/cgroup
mount -t tmpfs cgroup_root /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/cpu
mount -t cgroup -o cpu cpu /sys/fs/cgroup/cpu || { bad "cannot mount cgroup v1 cpu"; finish; exit; }
echo "cgroup: v1 cpu at /sys/fs/cgroup/cpu"
. tests/testbed/storm-common.sh
