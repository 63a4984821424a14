# gdb-multiarch script (Python): follows one EL2 stint of the hypervisor instruction by instruction and says
# where its instructions go, by function. Run by tools/bench/stint.ts against QEMU's gdbstub:
#
#   gdb-multiarch -q -batch -ex 'target remote localhost:PORT' -x tools/debug/stint.py build/hyp.elf
#
# with STINT_FID (the x0 a guest's trapped call carries, e.g. 0xbf00ff01), STINT_NTH (which such call: 1 for
# the first) and STINT_OUT (where the JSON goes) in the environment. The stint starts at the lower-EL
# synchronous vector and ends at the ERET back into the guest; an SMC into the secure world is stepped over
# (TF-A and OP-TEE are not the hypervisor's instructions). Prints {"function": instructions, ...}.
import json
import os

import gdb

FID = int(os.environ["STINT_FID"], 0)
NTH = int(os.environ.get("STINT_NTH", "1"))
OUT = os.environ["STINT_OUT"]
MAX_STEPS = 400000

gdb.execute("set pagination off")
gdb.execute("set confirm off")
# Step this CPU only: the others stay where they are (parked, or waiting at EL2).
gdb.execute("set scheduler-locking step")
image_start = int(gdb.parse_and_eval("&_start"))
vectors = int(gdb.parse_and_eval("&hyp_vectors"))
image_end = int(gdb.parse_and_eval("&__image_end"))
lower_sync = vectors + 0x400

symbols = {}


def symbol_at(pc):
    if pc not in symbols:
        text = gdb.execute("info symbol 0x%x" % pc, to_string=True)
        symbols[pc] = text.split(" in section")[0].split(" + ")[0].strip() if "No symbol" not in text else "0x%x" % pc
    return symbols[pc]


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF


# Run to the NTH trap whose x0 is FID (x0 still holds the guest's value at the vector).
gdb.execute("break *0x%x" % lower_sync)
seen = 0
while True:
    gdb.execute("continue", to_string=True)
    if reg("pc") == lower_sync and (reg("x0") & 0xFFFFFFFF) == FID:
        seen += 1
        if seen == NTH:
            break
gdb.execute("delete")

counts = {}
steps = 0
arch = gdb.selected_frame().architecture()
while steps < MAX_STEPS:
    pc = reg("pc")
    if not (image_start <= pc < image_end):
        break
    insn = arch.disassemble(pc)[0]["asm"].split()[0]
    name = symbol_at(pc)
    counts[name] = counts.get(name, 0) + 1
    steps += 1
    if insn == "eret":
        break
    if insn == "smc":
        gdb.execute("tbreak *0x%x" % (pc + 4), to_string=True)
        gdb.execute("continue", to_string=True)
        continue
    if insn in ("ldxr", "ldaxr"):
        # GDB steps an exclusive load..store sequence as a whole, by breakpoints of its own, and loses its way
        # in our ticket lock's: run the sequence to the instruction after its retry branch instead, counted
        # once (the uncontended path: one CPU runs here).
        end = pc
        for _ in range(8):
            end += 4
            if arch.disassemble(end)[0]["asm"].split()[0] in ("stxr", "stlxr"):
                break
        after = end + 8  # the store-exclusive, then its cbnz
        counts[name] += (after - pc) // 4 - 1
        steps += (after - pc) // 4 - 1
        gdb.execute("tbreak *0x%x" % after, to_string=True)
        gdb.execute("continue", to_string=True)
        continue
    gdb.execute("stepi", to_string=True)

with open(OUT, "w") as f:
    json.dump({"fid": FID, "nth": NTH, "instructions": steps, "functions": counts}, f, indent=1)
gdb.execute("kill")
