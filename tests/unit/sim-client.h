/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For unit tests that talk to the simulated phone through the real libusb:
 * the program runs itself inside build/mtksim, and speaks to mtksim's
 * control socket (tests/sim/README.md).
 */
#pragma once

/* Outside mtksim: run self inside it, with one phone (a --phone spec such
 * as "id=r,chip=mt6735"); its exit status.  Inside (MTKSIM_CONTROL is
 * set), returns -1: go on with the tests. */
int sim_run_self(char *self, const char *phone_spec);
/* One line on mtksim's control channel; the reply after "ok", or NULL. */
char *sim_control(const char *line);
/* A field of "stats PHONE" ("" when missing). */
const char *sim_stat(const char *phone, const char *field);
