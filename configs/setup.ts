/** The shape of a setup: one board, the firmware it runs, and (soon) its guests. */
import type { Board } from "./boards/board.ts";

export interface Setup {
  name: string;
  board: Board;
  /** Which OP-TEE build TF-A loads as BL32: Debian's virtualized one, or the plain one. */
  opteeVariant: "virt" | "native";
}
