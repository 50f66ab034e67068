# SPDX-License-Identifier: GPL-2.0
#
# vringblk - the two commands are `make demo` and `make check`.
#
#   make                 build vringblk.ko against KDIR
#   make demo            QEMU guest: load, show the ring, move data, power off
#   make check           every test; ends with "N passed, N failed"
#   make check-long      the same with the long forms (LONG=1) of the
#                        robustness scenarios
#   make lint            checkpatch --strict, sparse, W=1 -Werror, kernel-doc
#   make kunit           the ring's KUnit suites under kunit.py (KASAN=1 too)
#   make guest-test      the in-guest test matrix only
#   make dkms-test       dkms add/build/install/remove (root)
#   make trace-demo      regenerate docs/walkthrough.md from a real run
#   make bench           vringblk vs virtio_blk on the same device
#   make robust          timeouts, unplug, unbind, injected errors, hostile device
#   make litmus          herd7 proves the ring's barriers (kunit/litmus/)
#   make litmus-doc      the same, regenerating docs/barriers.md and the
#                        walkthrough's barrier section first
#
# KDIR defaults to the running kernel's build directory when it has one,
# else to the newest installed kernel headers (the guest kernel here).

RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(firstword $(wildcard $(RUNNING_KDIR)) \
	$(lastword $(sort $(wildcard /lib/modules/*/build))))

PROJECT := $(CURDIR)

.PHONY: all modules clean lint kunit demo check guest-test dkms-test deps \
	trace-demo bench robust check-long litmus litmus-doc

all: modules

modules:
	@test -n "$(KDIR)" || { echo "No kernel headers: set KDIR= or run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PROJECT) modules

clean:
	@if [ -n "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(PROJECT) clean; fi
	rm -rf build

deps:
	scripts/deps.sh all

lint:
	scripts/lint.sh

kunit:
	scripts/kunit.sh

demo:
	scripts/demo.sh

guest-test:
	scripts/guest-test.sh

dkms-test:
	scripts/dkms-test.sh

trace-demo:
	scripts/trace-demo.sh

bench:
	scripts/bench.sh

robust:
	scripts/robust-test.sh

litmus:
	scripts/litmus.sh

litmus-doc:
	scripts/litmus.sh --doc

check:
	scripts/check.sh

check-long:
	LONG=1 scripts/check.sh
