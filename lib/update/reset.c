/* SPDX-License-Identifier: MIT */
/* lib/update/reset.c - the state side of `update reset` (docs/update.md 2.4); the GPT side is
 * update_gpt_revert(), committed by the caller before this runs. */
#include "fs/fs.h"
#include "update/state.h"

int update_state_reset(int root_fd, struct update_state *s)
{
	struct update_pending p;
	struct update_staged st;
	struct update_error e;
	unsigned what = 0;
	int r;

	if (update_state_get_staged(s, &st))
		what |= UPDATE_RESET_STAGED;
	if (update_state_get_pending(s, &p))
		what |= UPDATE_RESET_PENDING;
	r = fs_exists(root_fd, UPDATE_PART_FILE);
	if (r < 0)
		return r;
	if (r > 0)
		what |= UPDATE_RESET_PENDING;
	if (update_state_get_last_error(s, &e))
		what |= UPDATE_RESET_ERROR;
	if (update_state_has_backoff(s) || update_state_bad_payload_count(s) > 0)
		what |= UPDATE_RESET_BACKOFF;
	if (update_state_status(s) != UPDATE_STATUS_IDLE)
		what |= UPDATE_RESET_STATUS;
	r = fs_exists(root_fd, UPDATE_REBOOT_MARKER);
	if (r < 0)
		return r;
	if (r > 0)
		what |= UPDATE_RESET_MARKER;
	if (!what)
		return 0;

	/* Order: the reboot marker, then the state (put back if the state cannot be saved, so that
	 * a failure leaves both as they were: docs/update.md 6.5), then the partial file; a crash
	 * after the state leaves at worst a stray partial file, which the next reset or download
	 * removes. */
	bool marker = what & UPDATE_RESET_MARKER;
	if (marker && (r = fs_unlink(root_fd, UPDATE_REBOOT_MARKER)) < 0)
		return r;
	if ((r = update_state_set_staged(s, NULL)) < 0 || (r = update_state_set_pending(s, NULL, NULL, 0)) < 0 ||
	    (r = update_state_clear_last_error(s)) < 0 || (r = update_state_clear_backoff(s)) < 0 ||
	    (r = update_state_clear_bad_payloads(s)) < 0 ||
	    (r = update_state_set_status(s, UPDATE_STATUS_IDLE)) < 0 ||
	    (r = update_state_set_progress(s, 0.0)) < 0 ||
	    (r = update_state_save(root_fd, s)) < 0) {
		if (marker)
			(void)fs_write_atomic(root_fd, UPDATE_REBOOT_MARKER, "", 0, 0644);
		return r;
	}
	r = fs_unlink(root_fd, UPDATE_PART_FILE);
	if (r < 0)
		return r;
	return (int)what;
}
