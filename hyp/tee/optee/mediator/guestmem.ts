/**
 * A guest's RAM as the mediator sees it: addresses the guest gives (IPAs)
 * are checked to lie in that guest's own RAM and turned into physical
 * addresses, and copies go through the hw imports (C checks the physical
 * range once more). Nothing here trusts a length or address from a guest.
 */
import { guestAt, ipaInRam } from "../../../core/guest";
import { guestRamRead, guestRamWrite } from "../../../hw/imports";

/** Physical address of guest g's IPA, which the caller has checked with ipaInRam. */
@inline export function ipaToPa(g: u32, ipa: u64): u64 {
  const guest = guestAt(g);
  return guest.ramPa + (ipa - guest.ramIpa);
}

/** Copies [ipa, ipa + len) of guest g into linear memory at dst; false if it is not all g's RAM. */
export function readGuest(g: u32, ipa: u64, dst: usize, len: u32): bool {
  if (!ipaInRam(g, ipa, <u64>len)) return false;
  return guestRamRead(ipaToPa(g, ipa), dst, len) != 0;
}

/** Copies len bytes at src to guest g's [ipa, ipa + len); false if it is not all g's RAM. */
export function writeGuest(g: u32, ipa: u64, src: usize, len: u32): bool {
  if (!ipaInRam(g, ipa, <u64>len)) return false;
  return guestRamWrite(ipaToPa(g, ipa), src, len) != 0;
}
