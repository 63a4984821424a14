/** Every board the project knows, by name. */
import type { Board } from "../../configs/boards/board.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";

const boards: Record<string, Board> = { [qemuVirt.name]: qemuVirt };

export function boardByName(name: string): Board {
  const board = boards[name];
  if (!board) throw new Error(`unknown board "${name}" (known: ${Object.keys(boards).join(", ")})`);
  return board;
}
