/**
 * Rationed log lines. Whatever a guest can trigger at will (a refused access,
 * an unhandled trap, an unemulated register) is logged at most LOG_BUDGET
 * times per guest for the whole boot, so no guest can flood the console or
 * make the hypervisor spend its time printing. Each kind of complaint keeps
 * its own counters: `memory.data(MAX_GUESTS)`, one byte per guest.
 */

export const LOG_BUDGET: u32 = 4;

/**
 * Takes one line from guest g's budget in `counters`: returns how many lines
 * are left after this one (0: this is the last, say so), or -1 when spent.
 */
export function logBudgetTake(counters: usize, g: u32): i32 {
  const used = <u32>load<u8>(counters + <usize>g);
  if (used >= LOG_BUDGET) return -1;
  store<u8>(counters + <usize>g, <u8>(used + 1));
  return <i32>(LOG_BUDGET - used - 1);
}
