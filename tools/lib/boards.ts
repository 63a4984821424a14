/** Every board the project knows, by name. */
import type { Board } from "../../configs/boards/board.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { rpi4 } from "../../configs/boards/rpi4.ts";

const boards: Record<string, Board> = { [qemuVirt.name]: qemuVirt, [rpi4.name]: rpi4 };

export function boardByName(name: string): Board {
  const board = boards[name];
  if (!board) throw new Error(`unknown board "${name}" (known: ${Object.keys(boards).join(", ")})`);
  return board;
}
