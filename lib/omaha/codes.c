/* SPDX-License-Identifier: MIT */
/* lib/omaha/codes.c - names of update_engine's error codes (docs/update.md 4.4). */
#include <stddef.h>
#include <string.h>

#include "omaha/codes.h"

static const char *const names[_OMAHA_ERROR_CODE_MAX] = {
	[OMAHA_ERROR_NONE] = "Success",
	[OMAHA_ERROR_GENERIC] = "Error",
	[OMAHA_ERROR_POSTINSTALL_RUNNER] = "PostinstallRunnerError",
	[OMAHA_ERROR_INSTALL_DEVICE_OPEN] = "InstallDeviceOpenError",
	[OMAHA_ERROR_DOWNLOAD_TRANSFER] = "DownloadTransferError",
	[OMAHA_ERROR_PAYLOAD_HASH_MISMATCH] = "PayloadHashMismatchError",
	[OMAHA_ERROR_PAYLOAD_SIZE_MISMATCH] = "PayloadSizeMismatchError",
	[OMAHA_ERROR_DOWNLOAD_WRITE] = "DownloadWriteError",
	[OMAHA_ERROR_NEW_ROOTFS_VERIFICATION] = "NewRootfsVerificationError",
	[OMAHA_ERROR_NEW_KERNEL_VERIFICATION] = "NewKernelVerificationError",
	[OMAHA_ERROR_SIGNED_DELTA_PAYLOAD_EXPECTED] = "SignedDeltaPayloadExpectedError",
	[OMAHA_ERROR_DOWNLOAD_PAYLOAD_PUBKEY_VERIFICATION] = "DownloadPayloadPubKeyVerificationError",
	[OMAHA_ERROR_DOWNLOAD_INVALID_METADATA_MAGIC] = "DownloadInvalidMetadataMagicString",
	[OMAHA_ERROR_DOWNLOAD_MANIFEST_PARSE] = "DownloadManifestParseError",
	[OMAHA_ERROR_DOWNLOAD_OPERATION_EXECUTION] = "DownloadOperationExecutionError",
	[OMAHA_ERROR_DOWNLOAD_OPERATION_HASH_MISMATCH] = "DownloadOperationHashMismatch",
	[OMAHA_ERROR_REQUEST_XML_PARSE] = "OmahaRequestXMLParseError",
	[OMAHA_ERROR_RESPONSE_INVALID] = "OmahaResponseInvalid",
	[OMAHA_ERROR_UPDATE_DEFERRED_FOR_BACKOFF] = "OmahaUpdateDeferredForBackoff",
	[OMAHA_ERROR_ROLLBACK] = "RollbackError",
};

const char *omaha_error_code_to_string(enum omaha_error_code c)
{
	return c >= 0 && c < _OMAHA_ERROR_CODE_MAX ? names[c] : NULL;
}

enum omaha_error_code omaha_error_code_from_string(const char *s)
{
	for (int i = 0; s && i < _OMAHA_ERROR_CODE_MAX; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (enum omaha_error_code)i;
	return _OMAHA_ERROR_CODE_INVALID;
}
