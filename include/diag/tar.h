/* SPDX-License-Identifier: MIT */
/* include/diag/tar.h - the bundle's tar.gz stream through libarchive (docs/diag.md §3.1):
 * POSIX pax (restricted: ustar headers, pax records only where needed), gzip, regular files,
 * directories and symlinks, mode 0644/0755, uid/gid 0, one mtime. Written as it goes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag_tar;

/* Start a stream on fd (not taken over) under the top directory TOP. -ENOMEM, -EIO. */
int diag_tar_open(int fd, const char *top, int64_t mtime, struct diag_tar **ret);
/* Add TOP/REL with n bytes (the directories above it are added first as needed). */
int diag_tar_add_file(struct diag_tar *t, const char *rel, const void *data, size_t n);
/* Add TOP/REL as a symlink to TARGET. */
int diag_tar_add_symlink(struct diag_tar *t, const char *rel, const char *target);
/* Finish the archive (end blocks, gzip trailer). -errno (-ENOSPC for a full disk). */
int diag_tar_close(struct diag_tar *t);
struct diag_tar *diag_tar_free(struct diag_tar *t);
/* The last libarchive error text (for messages), or "". */
const char *diag_tar_error(const struct diag_tar *t);
