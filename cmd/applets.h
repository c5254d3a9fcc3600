/* SPDX-License-Identifier: MIT */
/* cmd/applets.h - the one list of applets and link names (X-macro; docs/coding-style.md §1). Only applets
 * that work are listed. Expanded by cmd/main.c into prototypes, dispatch, --help, --list-links. */

/*      name                entry                one-line help */
/* -- partitions (docs/partitions.md) -- */
APPLET("partition",  cmd_partition,  "show and change the USR-A/USR-B boot attributes, repair and grow the GPT")
APPLET("rollback",   cmd_rollback,   "make the other USR partition the next boot target")

/* -- update (docs/update.md) -- */
APPLET("update",     cmd_update,     "Omaha update client: check, download, verify and install updates; build and verify payloads")

/* -- provision (docs/provision.md) -- */
APPLET("provision",       cmd_provision,       "provision a root from an Ignition config, all or nothing; validate configs")

/* -- lock (docs/reboot-lock.md) -- */
APPLET("lock",            cmd_lock,            "take, release or inspect the cluster reboot lock")
APPLET("reboot-manager",  cmd_reboot_manager,  "reboot after an update, inside the window, under the lock")

/* -- diag and status (docs/diag.md) -- */
APPLET("status",          cmd_status,          "one screen: version, boot partitions, update, reboot lock, provisioning, failed units")
APPLET("diag",            cmd_diag,            "write a support bundle (tar.gz) with secrets redacted")

/*     link name             applet            implied first argument */
/* -- partitions links -- */
ALIAS("cgpt",                "partition",      NULL)

/* -- update links -- */
ALIAS("update_engine_client", "update", NULL)
ALIAS("flatcar-update", "update", NULL)
ALIAS("update_engine", "update", "daemon")

/* -- provision links -- */
ALIAS("ignition",          "provision",       NULL)
ALIAS("ignition-validate", "provision",       "validate")

/* -- lock links -- */
ALIAS("locksmithctl",       "lock",            NULL)
ALIAS("locksmithd",         "reboot-manager",  NULL)

/* -- diag links -- */
ALIAS("mayday",             "diag",            NULL)
