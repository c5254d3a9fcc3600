/* SPDX-License-Identifier: MIT */
/* cmd/applets.h - the one list of applets and link names (X-macro; STYLE.md 1). Only applets
 * that work are listed. Expanded by cmd/main.c into prototypes, dispatch, --help, --list-links. */

/*      name                entry                one-line help */
/* -- partitions (spec/partitions.md) -- */
APPLET("partition",  cmd_partition,  "show and change the USR-A/USR-B boot attributes, repair and grow the GPT")
APPLET("rollback",   cmd_rollback,   "make the other USR partition the next boot target")

/* -- update (spec/update.md) -- */

/* -- provision (spec/provision.md) -- */
APPLET("provision",       cmd_provision,       "validate Ignition configs, show what provisioning would do")

/* -- lock (spec/reboot-lock.md) -- */

/* -- diag and status (spec/diag.md) -- */

/*     link name             applet            implied first argument */
/* -- partitions links -- */

/* -- update links -- */

/* -- provision links -- */
ALIAS("ignition-validate", "provision",       "validate")

/* -- lock links -- */

/* -- diag links -- */
