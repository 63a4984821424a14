# The hypervisor: AssemblyScript (hyp/) -> Wasm (asc) -> C (wasm2c) -> aarch64 gcc,
# linked with the boot stub (boot/) into build/hyp.elf, then packed by TF-A into
# the QEMU flash image with Debian's OP-TEE. See README.md.
#
#   make deps   install host packages, npm packages, fetch and build the firmware
#   make        build build/hyp.elf and build/flash.bin
#   make run    deps + build + boot the default setup (three guests), results in build/results/
#   make xtest  deps + build + full xtest natively and in two guests at once, compared (build/results/xtest.json)
#   make test   deps + build + unit tests + QEMU system tests

# The board the image is built for (configs/boards/<name>.ts): its facts reach C through the generated board.h.
# The core (hyp.wasm and its C) is the same on every board and lives in build/; what depends on the board lives
# in build/ for qemu-virt (the default) and in build/<board>/ for the others. A setup names its board, and the
# tools build the image it needs themselves (tools/lib/board-build.ts runs `make BOARD=<board> board-image`).
BOARD ?= qemu-virt
W := build
B := $(if $(filter qemu-virt,$(BOARD)),build,build/$(BOARD))
G := $(B)/gen
O := $(B)/obj
CROSS := aarch64-linux-gnu-
CC := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy
TSX := node_modules/.bin/tsx
ASC := node_modules/.bin/asc

# The cross compiler's own headers (stdarg.h, stdint.h). Asked for when first used, not when this file is
# parsed: on a fresh machine `make deps` installs the compiler after parsing, and a parse-time $(shell) would
# silently yield "include". Nothing else in this file may run a tool at parse time.
GCC_INCLUDE = $(eval GCC_INCLUDE := $$(shell $(CC) -print-file-name=include 2>/dev/null))$(if \
	$(filter-out include,$(GCC_INCLUDE)),$(GCC_INCLUDE),$(error $(CC) is not installed: run make deps))

# Bounds checks stay on (the 64-bit default would drop them for a signal handler
# we do not have) and the shared stack-depth counter stays off: see design.md §4.
WASM_RT_FLAGS := -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_USE_STACK_DEPTH_COUNT=0
CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration \
	-ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
	-mgeneral-regs-only -mno-outline-atomics -fno-tree-loop-distribute-patterns \
	-fno-stack-protector -fno-pic -fno-pie -ffunction-sections \
	-Iboot -Iboot/include -Iboot/rt/include -I$(G) -I$(W)/gen $(WASM_RT_FLAGS)
# The generated code is full of helpers it never calls.
GEN_CFLAGS := -Wno-unused-value -Wno-unused-function -Wno-unused-parameter -Wno-unused-variable -Wno-unused-but-set-variable
LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,--gc-sections -Wl,-T,$(B)/hyp.ld

# Every layout and constant the core, C and assembly share is written once in tools/abi/ (and
# configs/guest-layout.ts); tools/build/abi-gen.ts writes C's frame.h, action.h and abi.h and the core's hyp/gen/.
ABI_SRC := $(wildcard tools/abi/*.ts) configs/guest-layout.ts tools/build/abi-gen.ts
ABI_C := $(addprefix $(W)/gen/,frame.h action.h abi.h)
ABI_AS := $(addprefix hyp/gen/,frame.ts action.ts limits.ts bootconfig.ts el2.ts irq.ts platform.ts account.ts guest-layout.ts)
HYP_TS := $(filter-out hyp/gen/%,$(shell find hyp -name '*.ts')) $(ABI_AS) asconfig.json
BOOT_C := $(wildcard boot/*.c boot/rt/*.c)
BOOT_S := $(wildcard boot/*.S)
OBJS := $(BOOT_C:%.c=$(O)/%.o) $(BOOT_S:%.S=$(O)/%.o) $(O)/gen/hypcore.o
HEADERS := $(wildcard boot/include/*.h boot/rt/*.h boot/rt/include/*.h) $(G)/board.h $(W)/gen/hypcore.h $(ABI_C)


.PHONY: board-image sdcard test-restart all deps deps-host deps-debug deps-firmware run debug xtest xtest-reboot reboot-cost reboot-profile probe bench test test-unit test-system fresh-check fuzz fuzz-replay bench-stint bench-profile bench-micro-profile clean
all: $(B)/hyp.elf $(B)/flash.bin $(B)/bootconfig.bin

# ---- dependencies -----------------------------------------------------------
deps: deps-host node_modules/.stamp deps-firmware

deps-host:
	@bash tools/deps-host.sh

node_modules/.stamp: package.json package-lock.json
	@echo "[deps] npm ci (the packages package-lock.json pins, from the npm registry)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps-firmware: node_modules/.stamp
	@$(TSX) tools/firmware/fetch.ts
	@$(TSX) tools/firmware/tfa.ts --prebuild

# ---- the core: AssemblyScript -> Wasm -> C ------------------------------------
$(W)/hyp.wasm: $(HYP_TS) node_modules/.stamp
	@mkdir -p $(W)
	$(ASC) --config asconfig.json --target release

$(W)/gen/hypcore.c $(W)/gen/hypcore.h: $(W)/hyp.wasm
	@mkdir -p $(W)/gen
	@tools/build/check-wabt.sh
	wasm2c $< --module-name=hypcore -o $(W)/gen/hypcore.c
	cp /usr/include/wasm-rt.h $(W)/gen/wasm-rt.h

$(ABI_C) $(ABI_AS) &: $(ABI_SRC) node_modules/.stamp
	$(TSX) tools/build/abi-gen.ts $(W)/gen hyp/gen

$(G)/board.h: configs/boards/$(BOARD).ts configs/boards/board.ts tools/build/board-header.ts node_modules/.stamp
	@mkdir -p $(G)
	$(TSX) tools/build/board-header.ts $(BOARD) $@

# ---- the image ------------------------------------------------------------------
$(O)/gen/hypcore.o: $(W)/gen/hypcore.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GEN_CFLAGS) -c $< -o $@

# mmu.c and devtree.c run with the MMU off, where an unaligned access faults.
$(O)/boot/mmu.o $(O)/boot/devtree.o: CFLAGS += -mstrict-align
$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(O)/%.o: %.S $(G)/board.h $(ABI_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -D__ASSEMBLER__ -c $< -o $@

$(B)/hyp.ld: linker/hyp.ld.S $(G)/board.h
	$(CC) -E -P -x c -DLINKER_SCRIPT -I$(G) $< -o $@

# What a board other than qemu-virt boots from: the raw image its firmware loads (build/<board>/hyp.bin).
board-image: $(B)/hyp.bin

$(B)/hyp.elf: $(OBJS) $(B)/hyp.ld
	$(CC) $(CFLAGS) $(LDFLAGS) $(OBJS) -o $@ -lgcc

$(B)/hyp.bin: $(B)/hyp.elf
	$(OBJCOPY) -O binary $< $@

$(B)/flash.bin: $(B)/hyp.bin
	$(TSX) tools/firmware/tfa.ts --variant virt --bl33 $< --out $@

# The same image with Debian's OP-TEE built without virtualization: the system
# tests check the hypervisor says so and carries on.
$(B)/flash-native.bin: $(B)/hyp.bin
	$(TSX) tools/firmware/tfa.ts --variant native --bl33 $< --out $@

# The hypervisor alone (no guests): the OP-TEE probe, then power-off.
$(B)/bootconfig.bin: tools/build/bootconfig.ts $(wildcard configs/*.ts configs/boards/*.ts) node_modules/.stamp
	$(TSX) tools/build/bootconfig.ts $@ --no-guests

# A boot configuration that makes the core read out of bounds at boot.
$(B)/bootconfig-oob.bin: tools/build/bootconfig.ts node_modules/.stamp
	$(TSX) tools/build/bootconfig.ts $@ --no-guests --selftest-oob

# ---- the micro-benchmark guest (guest/microbench): bare metal, booted like a Linux Image or as BL33 ----------
MB := $(B)/microbench
MB_SRC := $(wildcard guest/microbench/*.c guest/microbench/*.S)
MB_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) -mgeneral-regs-only \
	-mstrict-align -fno-pic -fno-pie -fno-stack-protector -fno-tree-loop-distribute-patterns
$(MB)/microbench.elf: $(MB_SRC) $(wildcard guest/microbench/*.h) guest/microbench/microbench.ld
	@mkdir -p $(MB)
	$(CC) $(MB_CFLAGS) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-q -Wl,-T,guest/microbench/microbench.ld \
		$(MB_SRC) -o $@ -lgcc
	@tools/build/check-pic.sh $@

$(MB)/microbench.bin: $(MB)/microbench.elf
	$(OBJCOPY) -O binary $< $@

# ---- the Raspberry Pi 4's SD card -----------------------------------------------------
# SETUP=rpi4: build/rpi4/sdcard.img, one FAT partition with the VideoCore firmware, config.txt, TF-A, the board's
# DTB, the hypervisor with its boot configuration, and the image store (README: "Raspberry Pi 4"). No root, no loop devices.
sdcard: deps
	$(TSX) tools/sdcard/sdcard.ts --setup $(or $(SETUP),rpi4)

# ---- run and test -----------------------------------------------------------------
# SETUP=configs/<name>.ts boots another setup (default configs/qemu-virt.ts); it is checked before anything boots.
run: deps all
	$(TSX) tools/run/run.ts $(if $(SETUP),--setup $(SETUP))

# OP-TEE's whole test suite: natively (no hypervisor), then in tee1 and tee2 at the same time under the
# hypervisor; every guest must match native. 15-40 minutes on 2 cores. build/results/xtest.json.
xtest: deps all
	$(TSX) tools/run/xtest.ts

# Guest restarts under load (issue 14): tee1 runs the whole suite (compared with native, whose run in xtest.json
# is reused when there is one) while tee2 runs a short selection and reboots, over and over, for the machine's
# first 300 s. build/results/xtest-reboot.json (tee2.rebootLoop: its lives, reboots and passes).
xtest-reboot: deps all
	$(TSX) tools/run/xtest.ts --reboot-loop 300

# What tee2 rebooting in a loop costs tee1, against a control in which tee2 does the same work without the
# restarts (build/results/reboot-cost.json). Wall clock, runs one after another: needs an idle host. ~15 min.
reboot-cost: deps all
	$(TSX) tools/run/reboot-cost.ts $(if $(RUNS),--runs $(RUNS)) $(if $(MODES),--modes $(MODES))

# The same under -icount, with tee1's own CPUs' blocks counted (tbprof): which code they run more beside the
# restarts than beside the same work without them (build/results/reboot-cost-profile-*.json): tee2 works or
# reboots for the first 60 s of the machine (UNTIL=), past tee1's selection (~35 s under -icount). ~25 min.
REBOOT_PROFILE_MODES = repeats,reboots
reboot-profile: deps deps-debug all $(B)/bench/tbprof.so
	$(TSX) tools/run/reboot-cost.ts --profile --modes $(if $(MODES),$(MODES),$(REBOOT_PROFILE_MODES)) --until $(if $(UNTIL),$(UNTIL),60)

# Figures, not tests, all on the same QEMU machine natively and under the hypervisor, under -icount: the
# micro-benchmark guest's calls with the EL2 profile (micro.json, el2-exits.json), instructions to /init, a TEE-call-heavy xtest selection,
# TEEC calls from Linux (guest/teebench), each into build/bench/; how long OP-TEE's notifications take to reach
# idle and busy guests (bench-notif.json). BENCH_RUNS=n runs each (default 3, medians). The last step, alone,
# assembles every part into build/bench/report.json, report.md and charts/ (a missing part is "not measured").
# SETUP=rpi4: the Raspberry Pi 4's figures instead (boot to /init on raspi4b against Linux booted directly).
BENCH_RPI4 = $(filter rpi4 configs/rpi4.ts,$(SETUP))

bench: deps deps-debug all $(if $(BENCH_RPI4),,$(MB)/microbench.bin $(B)/bench/cpuinsns.so)
ifneq ($(BENCH_RPI4),)
	$(TSX) tools/bench/boot-time-rpi4.ts
else
	$(TSX) tools/bench/micro.ts --quiet
	$(TSX) tools/bench/boot-time.ts
	$(TSX) tools/bench/tee-calls.ts
	$(TSX) tools/bench/notif-latency.ts
	$(TSX) tools/bench/teec.ts
	$(TSX) tools/bench/report.ts
endif

# One EL2 stint of a few calls followed instruction by instruction under gdb (build/bench/stint.json). Not in
# `make bench` for now: since the ticket lock, gdb's stepping runs through the core call in one step, and the
# tool refuses to report such a trace.
bench-stint: deps deps-debug all $(MB)/microbench.bin
	$(TSX) tools/bench/stint.ts

# Where the TEE-call selection's instructions go (build/bench/profile.json): a QEMU plugin counts every block
# natively and under the hypervisor; the hypervisor's share by function, the rest matched by content. ~15 min.
bench-profile: deps deps-debug all $(B)/bench/tbprof.so
	$(TSX) tools/bench/profile.ts

# Where each micro-benchmark path's EL2 instructions go, by function (build/bench/micro-profile.json): the plugin
# snapshots its block counts at marks the micro-benchmark guest makes around each path. ~1 min.
bench-micro-profile: deps deps-debug all $(MB)/microbench.bin $(B)/bench/tbprof.so
	$(TSX) tools/bench/micro-profile.ts

# The QEMU plugins (tools/bench/profile/*.c), built for the host's QEMU.
$(B)/bench/%.so: tools/bench/profile/%.c tools/bench/profile/plugin-api.h tools/bench/profile/running-cpu.h
	@mkdir -p $(dir $@)
	gcc -O2 -shared -fPIC -Wall -Wextra -o $@ $<

# The default setup (or SETUP=…) paused under QEMU's gdbstub; prints the gdb-multiarch command that attaches with
# the hypervisor's symbols and tools/debug/hyp.gdb. GDB_PORT=… changes the port (default 1234).
debug: deps deps-debug all
	$(TSX) tools/run/debug.ts $(if $(SETUP),--setup $(SETUP))

deps-debug:
	@bash tools/deps-host.sh --debug

# The hypervisor alone: the OP-TEE probe, then power-off.
probe: deps all
	$(TSX) tools/run/boot.ts

SYSTEM_TEST_INPUTS := all $(B)/flash-native.bin $(B)/bootconfig-oob.bin $(MB)/microbench.bin

# SETUP=<name> (other than qemu-virt): the unit tests and that setup's system tests (test/system/<name>*.test.ts).
TEST_ONLY = $(if $(filter-out qemu-virt configs/qemu-virt.ts,$(SETUP)),--only $(basename $(notdir $(SETUP))))

test: deps $(SYSTEM_TEST_INPUTS)
	$(TSX) tools/test/run.ts $(TEST_ONLY) test/unit test/system

# The property-based mediator fuzzer (fast-check) over 10^7 guest inputs (FUZZ_INPUTS=…), one worker per core.
# A break is shrunk and saved as build/fuzz/failure-<seed>.json; make fuzz-replay FILE=<that file> runs it again.
fuzz: $(W)/hyp.wasm
	$(TSX) tools/test/fuzz.ts

fuzz-replay: $(W)/hyp.wasm
	$(TSX) tools/test/fuzz.ts --replay $(FILE)

# The headers test/unit/c-glue.test.ts builds the C glue for the host with.
HOST_TEST_HEADERS := $(W)/gen/hypcore.h $(G)/board.h $(ABI_C)

test-unit: $(W)/hyp.wasm $(HOST_TEST_HEADERS)
	$(TSX) tools/test/run.ts test/unit

test-system: $(SYSTEM_TEST_INPUTS)
	$(TSX) tools/test/run.ts $(TEST_ONLY) test/system

# Only the guest-restart and planted-fault system tests (both also run in make test), ~6 min.
test-restart: deps $(SYSTEM_TEST_INPUTS)
	$(TSX) tools/test/run.ts --only '(reboot|fault)' test/system

# The README's promise on a machine that has never seen the project: a fresh Debian bookworm root (mmdebstrap,
# cached outside the repository), the project's HEAD cloned into it, the README's `make run` inside it.
fresh-check:
	@bash tools/fresh-check.sh

clean:
	rm -rf $(B)
