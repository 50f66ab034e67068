# SPDX-License-Identifier: GPL-2.0
#
# vringblk - the two commands are `make demo` and `make check`.
#
#   make                 build vringblk.ko against KDIR
#   make demo            QEMU guest: load, show the ring, move data, power off
#   make check           every test; ends with "N passed, N failed"
#   make check-long      the same with the long forms (LONG=1) of the
#                        robustness scenarios, and all of check-debug
#   make check-debug     the in-guest tests and every robustness scenario
#                        on the debug kernel (KASAN, lockdep, kmemleak...)
#   make lint            checkpatch --strict, sparse, W=1 -Werror, kernel-doc
#   make kunit           the ring's KUnit suites under kunit.py (KASAN=1 too)
#   make guest-test      the in-guest test matrix only
#   make dkms-test       dkms add/build/install/remove (root)
#   make trace-demo      regenerate docs/walkthrough.md from a real run
#   make bench           vringblk vs virtio_blk on the same device
#   make robust          timeouts, unplug, unbind, injected errors, hostile device
#   make blktests        blktests on vringblk and on virtio_blk, same device;
#                        regenerates docs/blktests.md
#   make litmus          herd7 proves the ring's barriers (kunit/litmus/)
#   make litmus-doc      the same, regenerating docs/barriers.md and the
#                        walkthrough's barrier section first
#
# Which kernel:
#   make KDIR=<headers>  build against those headers (what DKMS does)
#   make KVER=<kernel>   one of the supported kernels: 6.1, 6.12, newest
#                        (or its major.minor, e.g. 7.3), or a full
#                        version; fetched into /var/cache/vringblk if
#                        needed.  `make demo`, `make guest-test` and
#                        `make robust` boot that kernel too.
#   neither              the running kernel's build directory when it has
#                        one, else the default guest kernel (6.1: the one
#                        linux-image-amd64 depends on), never "whatever is
#                        newest in /boot".

PROJECT := $(CURDIR)

# KVER= without KDIR=: scripts/kbuild.sh finds the headers (or the chroot
# they need) and calls this Makefile again with KDIR= set.
VRB_VIA_KBUILD := $(if $(KVER),$(if $(filter undefined,$(origin KDIR)),1))

RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(firstword $(wildcard $(RUNNING_KDIR)) \
	$(addsuffix /build,$(addprefix /lib/modules/,\
	$(shell $(PROJECT)/scripts/guest-kver.sh 6.1 2>/dev/null))))


.PHONY: all modules clean lint kunit demo check guest-test dkms-test deps \
	trace-demo bench robust check-long check-debug litmus litmus-doc blktests

all: modules

modules:
ifeq ($(VRB_VIA_KBUILD),1)
	scripts/kbuild.sh $(KVER) $(if $(W),W=$(W)) $(if $(C),C=$(C)) \
		$(if $(KCFLAGS),KCFLAGS="$(KCFLAGS)")
else
	@test -n "$(KDIR)" || { echo "No kernel headers: set KDIR= or run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PROJECT) modules
endif

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

blktests:
	scripts/blktests.sh

litmus:
	scripts/litmus.sh

litmus-doc:
	scripts/litmus.sh --doc

check:
	scripts/check.sh

check-long:
	LONG=1 scripts/check.sh

check-debug:
	scripts/check-debug.sh
