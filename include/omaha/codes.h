/* SPDX-License-Identifier: MIT */
/* include/omaha/codes.h - Omaha event types, results and update_engine's error codes
 * (docs/update.md 4.4). Error codes are event payload, never process exit codes. */
#pragma once

#include <errno.h>

enum omaha_event_type {
	OMAHA_EVENT_UPDATE_COMPLETE = 3,
	OMAHA_EVENT_DOWNLOAD_STARTED = 13,
	OMAHA_EVENT_DOWNLOAD_FINISHED = 14,
};

enum omaha_event_result {
	OMAHA_RESULT_ERROR = 0,
	OMAHA_RESULT_SUCCESS = 1,
	OMAHA_RESULT_SUCCESS_REBOOT = 2,
	OMAHA_RESULT_UPDATE_DEFERRED = 9,
};

/* update_engine's numbering; only these are sent (no flag bits ORed in). */
enum omaha_error_code {
	OMAHA_ERROR_NONE = 0,
	OMAHA_ERROR_GENERIC = 1,
	OMAHA_ERROR_POSTINSTALL_RUNNER = 5,
	OMAHA_ERROR_INSTALL_DEVICE_OPEN = 7,
	OMAHA_ERROR_DOWNLOAD_TRANSFER = 9,
	OMAHA_ERROR_PAYLOAD_HASH_MISMATCH = 10,
	OMAHA_ERROR_PAYLOAD_SIZE_MISMATCH = 11,
	OMAHA_ERROR_DOWNLOAD_WRITE = 14,
	OMAHA_ERROR_NEW_ROOTFS_VERIFICATION = 15,
	OMAHA_ERROR_NEW_KERNEL_VERIFICATION = 16,
	OMAHA_ERROR_SIGNED_DELTA_PAYLOAD_EXPECTED = 17,
	OMAHA_ERROR_DOWNLOAD_PAYLOAD_PUBKEY_VERIFICATION = 18,
	OMAHA_ERROR_DOWNLOAD_INVALID_METADATA_MAGIC = 21,
	OMAHA_ERROR_DOWNLOAD_MANIFEST_PARSE = 23,
	OMAHA_ERROR_DOWNLOAD_OPERATION_EXECUTION = 28,
	OMAHA_ERROR_DOWNLOAD_OPERATION_HASH_MISMATCH = 29,
	OMAHA_ERROR_REQUEST_XML_PARSE = 31,
	OMAHA_ERROR_RESPONSE_INVALID = 34,
	OMAHA_ERROR_UPDATE_DEFERRED_FOR_BACKOFF = 40,
	OMAHA_ERROR_ROLLBACK = 44,
	_OMAHA_ERROR_CODE_MAX,
	_OMAHA_ERROR_CODE_INVALID = -EINVAL,
};

/* "DownloadTransferError", ... as in docs/update.md 4.4; NULL for codes not in the table. */
const char *omaha_error_code_to_string(enum omaha_error_code c);
/* Inverse; _OMAHA_ERROR_CODE_INVALID when unknown. */
enum omaha_error_code omaha_error_code_from_string(const char *s);
