# gdb script for the hypervisor under QEMU's gdbstub: `make debug` boots the default setup paused and prints the
# command that loads this (gdb-multiarch, build/hyp.elf for symbols, `target remote` to QEMU). Every CPU is a
# gdb thread (`info threads`); the hypervisor runs at EL2 with its image identity-mapped, so its symbols are the
# addresses gdb sees. The core's AssemblyScript functions keep their names through wasm2c:
#   w2c_hyp_<folder>_<file>_<function>, e.g. `break w2c_hyp_trap_smccc_smcccCall`.
set pagination off
set confirm off
set print pretty on

# The trap entry: every guest exit comes here (boot/runloop.c) once vectors.S has saved the guest's registers in
# the CPU's frame; the exit's cause is in ESR_EL2 ($ESR_EL2) and the physical interrupt, if any, in `intid`.
break core_enter_guest_exit

# The core's exports: the only ways into the hypervisor's logic (hyp/main.ts).
break Z_hypcoreZ_cpuStart
break Z_hypcoreZ_guestExit
break Z_hypcoreZ_smcReturned
break Z_hypcoreZ_interrupt

# A trap in the Wasm core (out-of-bounds access, unreachable) ends here before it stops the CPU.
break core_trapped

# `hyp-exits` leaves only the trap entry on, to follow guest exits one by one.
define hyp-exits
  disable
  enable 1
  continue
end
document hyp-exits
Keep only the trap-entry breakpoint (core_enter_guest_exit) and continue.
end
