#!/bin/bash
# Captures the testbed guest's tree (scripts/capture-sysroot) with its host
# drivers loaded, and prints it as a base64 tarball between markers, for
# scripts/capture-testbed to unpack into tests/fixtures/captured/.
set -eu
modprobe e1000e
modprobe snd-hda-intel
modprobe vfio-pci
scripts/capture-sysroot /tmp/cap >&2
echo "--- capture begins"
tar -C /tmp/cap -cz . | base64 -w0
echo
echo "--- capture ends"
