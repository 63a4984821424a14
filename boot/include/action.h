/* The core's answers to the run loop; must match hyp/core/action.ts number for number. */
#pragma once
#define ACTION_PARK 0u	    /* nothing will ever run here: park the CPU */
#define ACTION_SMC 1u	    /* perform the SMC in the CPU's frame, then call smcReturned */
#define ACTION_RUN_GUEST 2u /* enter the guest in the CPU's frame, then call guestExit/interrupt */
#define ACTION_WAIT 3u	    /* wait for a physical interrupt, then call interrupt */
#define ACTION_LOAD_GUEST 4u /* bits 8-15 = guest: clear its RAM, copy its images in (guests.c), call guestLoaded */
#define ACTION_KIND(a) ((a) & 0xffu)
#define ACTION_GUEST(a) (((a) >> 8) & 0xffu)
