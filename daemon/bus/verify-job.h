/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backup.Verify() as a Job (operation "verify"): the images are re-hashed a
 * chunk per event-loop iteration, at idle priority, and the method call is
 * answered when the last one is done.  One verification per backup at a
 * time: a second call joins the running one and gets the same answer.  The
 * job ends early when Job.Cancel() is called or when every caller waiting
 * for it has left the bus.
 */
#pragma once

#include "bus-call.h"
#include "manager.h"

/* Starts the verification of b, or joins the running one; takes call. */
int verify_job_join(Manager *m, Backup *b, BusCall *call, sd_bus_error *error);
