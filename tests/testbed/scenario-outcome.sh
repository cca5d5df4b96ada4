#!/bin/bash
# TESTBED_DEVICES: -device VGA -device edu -device edu
# Containment judged by its outcome with threaded IRQs (the testbed's
# default, threadirqs): see outcome-common.sh.
. tests/testbed/outcome-common.sh
