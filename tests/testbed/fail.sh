#!/bin/sh
# Testbed check that output and the exit status come back:
# `scripts/testbed run tests/testbed/fail.sh; echo $?` prints 3.
echo "fail.sh: this goes to stdout"
echo "fail.sh: this goes to stderr" >&2
exit 3
