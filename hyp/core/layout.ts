/**
 * The machine every guest sees: where its devices sit in its IPA space and which interrupts they use (the
 * GICv2 CPU interface is where stage 2 maps the GIC's virtual CPU interface; OP-TEE's notification interrupt
 * is SPI 187, edge, the number OP-TEE itself puts in the host's tree, so a guest's driver needs nothing
 * special). Written once in configs/guest-layout.ts, which tools/ also writes into each guest's device tree;
 * hyp/gen/guest-layout.ts is generated from it.
 */
export * from "../gen/guest-layout";
