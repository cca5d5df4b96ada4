#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu -device edu
# TESTBED_ENV: TESTBED_THREADIRQS=0
# scenario-outcome.sh in the other IRQ mode: no threadirqs, so vfio's
# handlers run in hard-IRQ context and there is no IRQ thread to demote or
# cap: containment is steering the vector (and the VMM cap).
exec tests/testbed/scenario-outcome.sh "$@"
