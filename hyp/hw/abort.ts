/**
 * AssemblyScript's abort(), routed to the panic import (asc --use abort=…).
 * An abort is a bug in the core, never a reaction to guest input: guest
 * errors are return codes.
 */
import { panic } from "./imports";

export function hypAbort(msg: string | null, file: string | null, line: u32, col: u32): void {
  panic(changetype<usize>(msg), changetype<usize>(file), line, col);
  unreachable();
}
