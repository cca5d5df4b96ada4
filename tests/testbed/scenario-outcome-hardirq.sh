#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu -device edu
# TESTBED_ENV: TESTBED_THREADIRQS=0
# Containment judged by its outcome with vfio's handlers in hard-IRQ
# context (no threadirqs: no IRQ thread to cap or demote): see
# outcome-common.sh.
. tests/testbed/outcome-common.sh
