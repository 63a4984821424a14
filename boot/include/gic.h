/*
 * The physical GIC as the hypervisor drives it at EL2, whatever its version:
 * one back end per architecture (gic_v3.c: GICv3 with system registers;
 * gic_v2.c: GIC-400, GICv2 with the virtualization extensions, all MMIO),
 * chosen by the board (BOARD_GIC_VERSION in board.h); the other file compiles
 * to nothing. Every interrupt is Group 1 Non-secure (what TF-A leaves for the
 * normal world), taken at EL2 while a guest runs (HCR_EL2.IMO), acknowledged
 * and priority-dropped by the run loop (EOImode 1), and deactivated later: by
 * the core through gic_deactivate, or by the guest itself for interrupts
 * handed on with the list register's HW bit (the virtual timer).
 *
 * List registers cross the boundary in the GICv3 format (ICH_LR<n>_EL2, 64
 * bits), whatever the hardware: hyp/vgic builds them that way, and the GICv2
 * back end converts on load and save.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "abi.h" /* KICK_SGI, LOCK_SGI, VTIMER_PPI, INTID_SPURIOUS: tools/abi/irq.ts */

struct frame;

#define HYP_PRIORITY 0x80u

/* Boot CPU: distributor on, the console's and OP-TEE's SPIs routed to it. */
void gic_distributor_init(void);
/* Each CPU: its private interrupts, its CPU interface, its virtual interface. */
void gic_cpu_init(unsigned cpu);
/* This CPU takes no interrupt any more, physical or virtual (a parked CPU). */
void gic_cpu_quiesce(void);
/*
 * The virtual CPU interface off while this CPU runs no vCPU (the next gic_lrs_load turns it on again). Left on,
 * the list registers the last vCPU left behind keep signalling: a pending one raises the virtual IRQ line, and
 * an underflow request the maintenance interrupt, over and over. Real hardware does not wake an EL2 WFI for a
 * virtual IRQ, but QEMU does: the waiting CPU then spins through acknowledge and the core's lock, stealing
 * a host CPU (and the lock) from every CPU that runs a guest.
 */
void gic_virtual_off(void);
/*
 * Acknowledges the highest-priority pending interrupt and drops its priority; 1023 if none. KICK_SGI is also
 * deactivated at once: while it stayed active a second kick would stay pending without being signalled. LOCK_SGI
 * is ended here too and answered as 1023: it carries nothing for the core.
 */
uint32_t gic_acknowledge(void);
void gic_deactivate(uint32_t intid);
/*
 * This CPU's virtual-timer PPI neither pending nor active (a vCPU starts from reset). The timer is handed to the
 * guest with the list register's HW bit, so the guest's deactivation is what ends the physical PPI's active state;
 * a guest reset with it still in a list register would leave the PPI active for ever, and the next life on this
 * CPU would never get another timer interrupt. Returns whether it was active.
 */
bool gic_vtimer_reset(void);
/* Sends KICK_SGI to `cpu`. */
void gic_kick(unsigned cpu);
/* Sends LOCK_SGI to `cpu` (asleep in the core's lock, its turn come); this CPU's own LOCK_SGI no longer pending. */
void gic_lock_wake(unsigned cpu);
void gic_lock_wake_clear(void);
/* The list registers of this CPU to and from the frame (at most FRAME_LR_COUNT of them). */
void gic_lrs_load(const struct frame *f);
void gic_lrs_save(struct frame *f);
/* How many list registers gic_lrs_* move (the hardware's, from ICH_VTR_EL2 / GICH_VTR, at most the frame's). */
unsigned gic_list_register_count(void);
/* GICv2: the virtual CPU interface guests get at their GICC address; 0 on GICv3. */
uint64_t gic_virtual_cpu_interface_pa(void);
