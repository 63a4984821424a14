/* The core's answers to the run loop; must match hyp/core/action.ts number for number. */
#pragma once
#define ACTION_PARK 0u /* nothing to do: park the CPU */
#define ACTION_SMC 1u  /* perform the SMC in the CPU's frame, then call smcReturned */
