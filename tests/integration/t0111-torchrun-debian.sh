#!/bin/sh
# t0110 on Debian 12's own torch (python3-torch 1.13, /usr/bin/torchrun): the older torch still
# stalls, is detected, resumes from step 20 and ends bit-identical, as on torch 2.x.
FD_TORCH=debian
. "$TESTS_DIR/integration/t0110-torchrun.sh"
