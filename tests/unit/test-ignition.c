/* SPDX-License-Identifier: MIT */
/* tests/unit/test-ignition.c - the validation rules of provision.md section 4, table-driven over
 * every spec version each rule applies to; parsing, versions, translation, positions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "tap.h"
#include "util/problem.h"

enum expect { VALID, ERROR, WARNING };

struct rule_case {
	const char *name;
	int vmin, vmax;      /* versions (30..36) to run it against */
	const char *body;    /* members after "ignition" */
	enum expect expect;
	const char *where;   /* pointer of the expected problem (NULL: none expected) */
};

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H128 H64 H64

static const struct rule_case cases[] = {
	/* document and ignition */
	{ "empty config", 30, 36, "\"storage\":{}", VALID, NULL },
	{ "merge without source (3.1+)", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"merge\":[{}]}}", ERROR,
	  "/ignition/config/merge/0" },
	{ "merge without source (3.0, flatctl 4.1)", 30, 30,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"merge\":[{}]}}", ERROR,
	  "/ignition/config/merge/0" },
	{ "ca without source (3.0)", 30, 30,
	  "\"ignition\":{\"version\":\"$V\",\"security\":{\"tls\":{\"certificateAuthorities\":[{}]}}}",
	  ERROR, "/ignition/security/tls/certificateAuthorities/0/source" },
	{ "replace with hash needs source, at verification.hash (3.1+)", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"replace\":{\"verification\":{\"hash\":\"sha512-" H128 "\"}}}}",
	  ERROR, "/ignition/config/replace/verification/hash" },
	{ "replace with hash and no source passes 3.0 (its config reference has no such rule)", 30,
	  30,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"replace\":{\"verification\":{\"hash\":\"sha512-" H128 "\"}}}}",
	  VALID, NULL },
	{ "merge with hash and no source: also at verification.hash (3.1+)", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"merge\":[{\"verification\":{\"hash\":\"sha512-" H128 "\"}}]}}",
	  ERROR, "/ignition/config/merge/0/verification/hash" },
	{ "duplicate merge sources", 30, 36,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"merge\":[{\"source\":\"data:,a\"},{\"source\":\"data:,b\"},{\"source\":\"data:,a\"}]}}",
	  ERROR, "/ignition/config/merge/2" },
	{ "duplicate certificate authorities", 30, 36,
	  "\"ignition\":{\"version\":\"$V\",\"security\":{\"tls\":{\"certificateAuthorities\":[{\"source\":\"data:,a\"},{\"source\":\"data:,a\"}]}}}",
	  ERROR, "/ignition/security/tls/certificateAuthorities/1" },
	{ "duplicate noProxy entries", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"proxy\":{\"httpProxy\":\"http://p\",\"noProxy\":[\"a.example\",\"b.example\",\"a.example\"]}}",
	  ERROR, "/ignition/proxy/noProxy/2" },
	{ "distinct noProxy entries", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"proxy\":{\"noProxy\":[\"a.example\",\"A.example\"]}}",
	  VALID, NULL },
	{ "proxy must be http", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"proxy\":{\"httpProxy\":\"ftp://x\"}}", ERROR,
	  "/ignition/proxy/httpProxy" },
	{ "http proxy for https warns", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"proxy\":{\"httpsProxy\":\"http://p:3128\"}}", WARNING,
	  "/ignition/proxy/httpsProxy" },
	{ "proxy is 3.1+", 30, 30, "\"ignition\":{\"version\":\"$V\",\"proxy\":{}}", WARNING,
	  "/ignition/proxy" },
	{ "negative timeout accepted", 30, 36,
	  "\"ignition\":{\"version\":\"$V\",\"timeouts\":{\"httpTotal\":-5}}", VALID, NULL },
	/* resources */
	{ "bad compression", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"data:,x\",\"compression\":\"xz\"}}]}",
	  ERROR, "/storage/files/0/contents/compression" },
	{ "unknown scheme", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"ftp://x/y\"}}]}", ERROR,
	  "/storage/files/0/contents/source" },
	{ "gs before 3.2", 30, 31,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"gs://b/o\"}}]}", ERROR,
	  "/storage/files/0/contents/source" },
	{ "gs from 3.2", 32, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"gs://b/o\"}}]}", VALID,
	  NULL },
	{ "arn from 3.4", 34, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"arn:aws:s3:::bucket/key\"}}]}",
	  VALID, NULL },
	{ "arn before 3.4", 30, 33,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"arn:aws:s3:::bucket/key\"}}]}",
	  ERROR, "/storage/files/0/contents/source" },
	{ "arn must be s3 object", 34, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"arn:aws:s3:::bucket\"}}]}",
	  ERROR, "/storage/files/0/contents/source" },
	{ "s3 empty versionId", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"s3://b/k?versionId=\"}}]}",
	  ERROR, "/storage/files/0/contents/source" },
	{ "bad data url", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"data:;base64,!!!\"}}]}",
	  ERROR, "/storage/files/0/contents/source" },
	{ "headers need http", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"data:,x\",\"httpHeaders\":[{\"name\":\"a\",\"value\":\"b\"}]}}]}",
	  ERROR, "/storage/files/0/contents/httpHeaders" },
	{ "header name empty", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"httpHeaders\":[{\"name\":\"\"}]}}]}",
	  ERROR, "/storage/files/0/contents/httpHeaders/0/name" },
	{ "header duplicate", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"httpHeaders\":[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"a\",\"value\":\"2\"}]}}]}",
	  ERROR, "/storage/files/0/contents/httpHeaders/1/name" },
	{ "headers are 3.1+", 30, 30,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"httpHeaders\":[]}}]}",
	  WARNING, "/storage/files/0/contents/httpHeaders" },
	{ "sha512 ok", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha512-" H128 "\"}}}]}",
	  VALID, NULL },
	{ "sha256 from 3.1", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha256-" H64 "\"}}}]}",
	  VALID, NULL },
	{ "sha256 in 3.0", 30, 30,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha256-" H64 "\"}}}]}",
	  ERROR, "/storage/files/0/contents/verification/hash" },
	{ "hash wrong length", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha512-abc\"}}}]}",
	  ERROR, "/storage/files/0/contents/verification/hash" },
	{ "hash not hex (flatctl 4.1)", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha512-" H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\"}}}]}",
	  ERROR, "/storage/files/0/contents/verification/hash" },
	{ "hash mismatch on data url", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"data:,x\",\"verification\":{\"hash\":\"sha512-" H128 "\"}}}]}",
	  ERROR, "/storage/files/0/contents/verification/hash" },
	{ "verification needs source", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"verification\":{\"hash\":\"sha512-" H128 "\"}}}]}",
	  ERROR, "/storage/files/0/contents/verification/hash" },
	{ "headers without a source", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"httpHeaders\":[{\"name\":\"A\",\"value\":\"b\"}]}}]}",
	  ERROR, "/storage/files/0/contents/httpHeaders" },
	{ "headers with an empty source", 31, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"source\":\"\",\"httpHeaders\":[{\"name\":\"A\",\"value\":\"b\"}]}}]}",
	  ERROR, "/storage/files/0/contents/httpHeaders" },
	{ "headers on a replace without a source", 31, 36,
	  "\"ignition\":{\"version\":\"$V\",\"config\":{\"replace\":{\"httpHeaders\":[{\"name\":\"A\",\"value\":\"b\"}]}}}",
	  ERROR, "/ignition/config/replace/httpHeaders" },
	/* files, directories, links */
	{ "relative path", 30, 36, "\"storage\":{\"files\":[{\"path\":\"etc/hostname\"}]}", ERROR,
	  "/storage/files/0/path" },
	{ "unclean path", 30, 36, "\"storage\":{\"directories\":[{\"path\":\"/etc/../x\"}]}", ERROR,
	  "/storage/directories/0/path" },
	{ "trailing slash", 30, 36, "\"storage\":{\"directories\":[{\"path\":\"/etc/\"}]}", ERROR,
	  "/storage/directories/0/path" },
	{ "duplicate file/dir: reported on the file", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/x\"}],\"directories\":[{\"path\":\"/x\"}]}", ERROR,
	  "/storage/files/0/path" },
	{ "entry through a link", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/l/f\"}],\"links\":[{\"path\":\"/l\",\"target\":\"/t\"}]}",
	  ERROR, "/storage/files/0/path" },
	{ "file over a unit", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/etc/systemd/system/a.service\"}]},\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"[Unit]\\n\"}]}",
	  ERROR, "/storage/files/0/path" },
	{ "mode too big", 30, 36, "\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":4096}]}", ERROR,
	  "/storage/files/0/mode" },
	{ "setuid before 3.6 warns", 30, 35,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":2541}]}", WARNING,
	  "/storage/files/0/mode" },
	{ "setuid in 3.6", 36, 36, "\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":2541}]}", VALID,
	  NULL },
	{ "mode as string", 30, 36, "\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":\"0644\"}]}",
	  ERROR, "/storage/files/0/mode" },
	{ "id and name", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"user\":{\"id\":1,\"name\":\"x\"}}]}", ERROR,
	  "/storage/files/0/user" },
	{ "overwrite without source", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"overwrite\":true}]}", ERROR,
	  "/storage/files/0/overwrite" },
	{ "append needs source for hash", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"append\":[{\"verification\":{\"hash\":\"sha512-" H128 "\"}}]}]}",
	  ERROR, "/storage/files/0/append/0/verification/hash" },
	{ "link target required (3.3+)", 33, 36, "\"storage\":{\"links\":[{\"path\":\"/l\"}]}", ERROR,
	  "/storage/links/0/target" },
	{ "link target required (3.0-3.2, flatctl 4.1)", 30, 32,
	  "\"storage\":{\"links\":[{\"path\":\"/l\"}]}", ERROR, "/storage/links/0/target" },
	{ "hard link to a directory", 30, 36,
	  "\"storage\":{\"directories\":[{\"path\":\"/d\"}],\"links\":[{\"path\":\"/l\",\"target\":\"d\",\"hard\":true}]}",
	  ERROR, "/storage/links/0/target" },
	{ "hard link owner warns", 30, 36,
	  "\"storage\":{\"links\":[{\"path\":\"/l\",\"target\":\"/t\",\"hard\":true,\"user\":{\"id\":1}}]}",
	  WARNING, "/storage/links/0" },
	/* disks, raid, filesystems, luks */
	{ "disk device relative", 30, 36, "\"storage\":{\"disks\":[{\"device\":\"sda\"}]}", ERROR,
	  "/storage/disks/0/device" },
	{ "duplicate disks", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\"},{\"device\":\"/dev/a\"}]}", ERROR,
	  "/storage/disks/1/device" },
	{ "partition needs number or label", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{}]}]}", ERROR,
	  "/storage/disks/0/partitions/0" },
	{ "partition numbers collide", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1},{\"number\":1}]}]}",
	  ERROR, "/storage/disks/0/partitions/1/number" },
	{ "partition label too long", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"label\":\"0123456789012345678901234567890123456\"}]}]}",
	  ERROR, "/storage/disks/0/partitions/0/label" },
	{ "partition label colon", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"label\":\"a:b\"}]}]}",
	  ERROR, "/storage/disks/0/partitions/0/label" },
	{ "bad guid", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"typeGuid\":\"nope\"}]}]}",
	  ERROR, "/storage/disks/0/partitions/0/typeGuid" },
	{ "shouldExist false with label", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"label\":\"x\",\"shouldExist\":false}]}]}",
	  ERROR, "/storage/disks/0/partitions/0/label" },
	{ "overlapping partitions", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"startMiB\":1,\"sizeMiB\":10},{\"number\":2,\"startMiB\":5,\"sizeMiB\":10}]}]}",
	  ERROR, "/storage/disks/0/partitions/1" },
	{ "raid level unknown", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid7\",\"devices\":[\"/dev/a\"]}]}",
	  ERROR, "/storage/raid/0/level" },
	{ "raid spares on raid0", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid0\",\"spares\":1,\"devices\":[\"/dev/a\"]}]}",
	  ERROR, "/storage/raid/0/spares" },
	{ "raid level required", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"devices\":[\"/dev/a\"]}]}", ERROR,
	  "/storage/raid/0/level" },
	{ "fs format invalid", 30, 36,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"ntfs\"}]}", ERROR,
	  "/storage/filesystems/0/format" },
	{ "fs format none before 3.3", 30, 32,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"none\"}]}", ERROR,
	  "/storage/filesystems/0/format" },
	{ "fs format none from 3.3", 33, 36,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"none\"}]}", VALID, NULL },
	{ "fs format required with path", 30, 36,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"path\":\"/var\"}]}", ERROR,
	  "/storage/filesystems/0/format" },
	{ "fs label too long (xfs)", 30, 36,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"xfs\",\"label\":\"0123456789abc\"}]}",
	  ERROR, "/storage/filesystems/0/label" },
	{ "fs duplicate device", 30, 36,
	  "\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"xfs\"},{\"device\":\"/dev/a\",\"format\":\"ext4\"}]}",
	  ERROR, "/storage/filesystems/1/device" },
	{ "fs on partitioned disk warns", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1}]}],\"filesystems\":[{\"device\":\"/dev/a\",\"format\":\"xfs\"}]}",
	  WARNING, "/storage/filesystems/0/device" },
	{ "luks is 3.2+", 30, 31, "\"storage\":{\"luks\":[]}", WARNING, "/storage/luks" },
	{ "luks name slash", 32, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a/b\",\"device\":\"/dev/a\"}]}", ERROR,
	  "/storage/luks/0/name" },
	{ "luks device required", 32, 36, "\"storage\":{\"luks\":[{\"name\":\"a\"}]}", ERROR,
	  "/storage/luks/0/device" },
	{ "clevis custom with tpm2", 32, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"clevis\":{\"tpm2\":true,\"custom\":{\"pin\":\"tpm2\",\"config\":\"{}\"}}}]}",
	  ERROR, "/storage/luks/0/clevis/custom" },
	{ "clevis custom pin unknown (3.2-3.5)", 32, 35,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"clevis\":{\"custom\":{\"pin\":\"yubikey\",\"config\":\"{}\"}}}]}",
	  ERROR, "/storage/luks/0/clevis/custom/pin" },
	{ "clevis custom pin any (3.6)", 36, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"clevis\":{\"custom\":{\"pin\":\"yubikey\",\"config\":\"{}\"}}}]}",
	  VALID, NULL },
	{ "tang thumbprint required", 32, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"clevis\":{\"tang\":[{\"url\":\"http://t\"}]}}]}",
	  ERROR, "/storage/luks/0/clevis/tang/0/thumbprint" },
	{ "tang advertisement JSON", 34, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"clevis\":{\"tang\":[{\"url\":\"http://t\",\"thumbprint\":\"x\",\"advertisement\":\"{\"}]}}]}",
	  ERROR, "/storage/luks/0/clevis/tang/0/advertisement" },
	{ "cex with key file", 35, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"a\",\"device\":\"/dev/a\",\"cex\":{\"enabled\":true},\"keyFile\":{\"source\":\"data:,k\"}}]}",
	  ERROR, "/storage/luks/0/cex" },
	/* systemd */
	{ "unit extension", 30, 36, "\"systemd\":{\"units\":[{\"name\":\"a.servic\"}]}", ERROR,
	  "/systemd/units/0/name" },
	{ "unit duplicate", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\"},{\"name\":\"a.service\"}]}", ERROR,
	  "/systemd/units/1/name" },
	{ "text before the first section warns", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"Foo=bar\\n[Unit]\\nA=b\"}]}",
	  WARNING, "/systemd/units/0/contents" },
	{ "only text, no section, warns", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"Foo=bar\"}]}", WARNING,
	  "/systemd/units/0/contents" },
	{ "text before the first section of a drop-in warns", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"dropins\":[{\"name\":\"x.conf\",\"contents\":\"junk line\\n[Service]\\nA=b\"}]}]}",
	  WARNING, "/systemd/units/0/dropins/0/contents" },
	{ "a section header after text on the same line", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"junk[Unit]\\nA=b\"}]}",
	  WARNING, "/systemd/units/0/contents" },
	{ "a bad line inside a section is still an error", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"[Unit]\\njunk\"}]}",
	  ERROR, "/systemd/units/0/contents" },
	{ "enabled without install warns", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"enabled\":true,\"contents\":\"[Service]\\nExecStart=/bin/true\"}]}",
	  WARNING, "/systemd/units/0/contents" },
	{ "dropin extension", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"dropins\":[{\"name\":\"x.txt\"}]}]}", ERROR,
	  "/systemd/units/0/dropins/0/name" },
	{ "dropin duplicate", 30, 36,
	  "\"systemd\":{\"units\":[{\"name\":\"a.service\",\"dropins\":[{\"name\":\"x.conf\"},{\"name\":\"x.conf\"}]}]}",
	  ERROR, "/systemd/units/0/dropins/1/name" },
	/* passwd */
	{ "user duplicate", 30, 36,
	  "\"passwd\":{\"users\":[{\"name\":\"core\"},{\"name\":\"core\"}]}", ERROR,
	  "/passwd/users/1/name" },
	{ "user empty name (flatctl 4.1)", 30, 36, "\"passwd\":{\"users\":[{\"name\":\"\"}]}", ERROR,
	  "/passwd/users/0/name" },
	{ "ssh key duplicate", 30, 36,
	  "\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"k\",\"k\"]}]}", ERROR,
	  "/passwd/users/0/sshAuthorizedKeys/1" },
	{ "negative uid warns", 30, 36, "\"passwd\":{\"users\":[{\"name\":\"core\",\"uid\":-1}]}",
	  WARNING, "/passwd/users/0/uid" },
	{ "group duplicate", 30, 36,
	  "\"passwd\":{\"groups\":[{\"name\":\"g\"},{\"name\":\"g\"}]}", ERROR,
	  "/passwd/groups/1/name" },
	{ "shouldExist is 3.2+", 30, 31,
	  "\"passwd\":{\"users\":[{\"name\":\"core\",\"shouldExist\":false}]}", WARNING,
	  "/passwd/users/0/shouldExist" },
	/* kernel arguments */
	{ "kargs in both lists", 33, 36,
	  "\"kernelArguments\":{\"shouldExist\":[\"a\"],\"shouldNotExist\":[\"a\"]}", ERROR,
	  "/kernelArguments/shouldNotExist/0" },
	{ "kargs are 3.3+", 30, 32, "\"kernelArguments\":{}", WARNING, "/kernelArguments" },
	/* keys */
	{ "typo key", 30, 36, "\"storage\":{\"filez\":[]}", WARNING, "/storage/filez" },
	{ "wrong case still used", 30, 36,
	  "\"storage\":{\"files\":[{\"Path\":\"relative\"}]}", ERROR, "/storage/files/0/path" },
	{ "wrong type", 30, 36, "\"storage\":{\"files\":{}}", ERROR, "/storage/files" },
	{ "null is unset", 30, 36, "\"storage\":null,\"passwd\":{\"users\":null}", VALID, NULL },
	{ "mode 644 written in decimal warns", 30, 36,
	  "\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":644}]}", WARNING,
	  "/storage/files/0/mode" },
	{ "partition label over 36 bytes (Ignition counts bytes)", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/sda\",\"partitions\":[{\"number\":1,\"label\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}]}]}",
	  ERROR, "/storage/disks/0/partitions/0/label" },
	{ "partition label of 36 bytes", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/sda\",\"partitions\":[{\"number\":1,\"label\":\"abcdefghijabcdefghijabcdefghijabcdef\"}]}]}",
	  VALID, NULL },
	{ "number 0 with shouldExist false", 30, 36,
	  "\"storage\":{\"disks\":[{\"device\":\"/dev/sda\",\"partitions\":[{\"label\":\"a\"},{\"number\":2,\"shouldExist\":false}]}]}",
	  ERROR, "/storage/disks/0/partitions" },
	{ "raid devices are clean absolute paths", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\",\"devices\":[\"/dev/sda\",\"sdb\"]}]}",
	  ERROR, "/storage/raid/0/devices/1" },
	{ "empty raid device", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\",\"devices\":[\"/dev/sda\",\"\"]}]}",
	  ERROR, "/storage/raid/0/devices/1" },
	{ "null raid device", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\",\"devices\":[null,\"/dev/sdb\"]}]}",
	  ERROR, "/storage/raid/0/devices/0" },
	{ "duplicate raid devices", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\",\"devices\":[\"/dev/sda\",\"/dev/sdb\",\"/dev/sda\"]}]}",
	  ERROR, "/storage/raid/0/devices/2" },
	{ "duplicate luks open options", 34, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"l\",\"device\":\"/dev/sda\",\"openOptions\":[\"--a\",\"--b\",\"--a\"]}]}",
	  ERROR, "/storage/luks/0/openOptions/2" },
	{ "duplicate luks options are fine (Ignition ignores them)", 32, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"l\",\"device\":\"/dev/sda\",\"options\":[\"--a\",\"--a\"]}]}",
	  VALID, NULL },
	{ "duplicate tang servers", 32, 36,
	  "\"storage\":{\"luks\":[{\"name\":\"l\",\"device\":\"/dev/sda\",\"clevis\":{\"tang\":[{\"url\":\"http://t\",\"thumbprint\":\"x\"},{\"url\":\"http://t\",\"thumbprint\":\"y\"}]}}]}",
	  ERROR, "/storage/luks/0/clevis/tang/1" },
	{ "duplicate raid options and mount options are fine", 31, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\",\"devices\":[\"/dev/sda\"],\"options\":[\"-x\",\"-x\"]}],\"filesystems\":[{\"device\":\"/dev/sdb\",\"format\":\"ext4\",\"options\":[\"-a\",\"-a\"],\"mountOptions\":[\"ro\",\"ro\"]}]}",
	  VALID, NULL },
	{ "raid needs a device", 30, 36,
	  "\"storage\":{\"raid\":[{\"name\":\"r\",\"level\":\"raid1\"}]}", ERROR,
	  "/storage/raid/0/devices" },
};

static bool has_problem(const struct problem_list *pl, enum problem_severity sev, const char *where)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->item[i].severity == sev && pl->item[i].where &&
		    strcasecmp(pl->item[i].where, where) == 0)
			return true;
	return false;
}

static char *build(const struct rule_case *c, int v)
{
	char ver[16], *body = NULL, *out = NULL;
	snprintf(ver, sizeof(ver), "%d.%d.0", v / 10, v % 10);
	/* substitute $V */
	const char *p = strstr(c->body, "$V");
	if (p) {
		if (asprintf(&body, "%.*s%s%s", (int)(p - c->body), c->body, ver, p + 2) < 0)
			return NULL;
		if (asprintf(&out, "{%s}", body) < 0)
			out = NULL;
	} else if (asprintf(&out, "{\"ignition\":{\"version\":\"%s\"},%s}", ver, c->body) < 0)
		out = NULL;
	free(body);
	return out;
}

TEST(validation_rules_every_version)
{
	unsigned failures = 0, runs = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct rule_case *c = &cases[i];
		for (int v = c->vmin; v <= c->vmax; v++) {
			_cleanup_free_ char *text = build(c, v);
			_cleanup_(problem_list_release) struct problem_list pl = {};
			_cleanup_(ign_config_freep) struct ign_config *cfg = NULL;
			ASSERT_NOT_NULL(text);
			int r = ign_config_parse(text, strlen(text), &cfg, &pl);
			bool ok = true;
			runs++;
			switch (c->expect) {
			case VALID:
				ok = r == 0 && problem_count(&pl, PROBLEM_ERROR) == 0;
				break;
			case ERROR:
				ok = r == -EINVAL && has_problem(&pl, PROBLEM_ERROR, c->where);
				break;
			case WARNING:
				ok = r == 0 && has_problem(&pl, PROBLEM_WARNING, c->where);
				break;
			}
			if (!ok) {
				failures++;
				printf("# case '%s' v%d.%d: r=%d, problems:\n", c->name, v / 10, v % 10, r);
				for (size_t k = 0; k < pl.n; k++)
					printf("#   %s %s: %s\n",
					       problem_severity_to_string(pl.item[k].severity),
					       pl.item[k].where, pl.item[k].message);
			}
		}
	}
	printf("# %u rule runs\n", runs);
	ASSERT_EQ(failures, 0);
}

TEST(versions_detected_and_rejected)
{
	static const struct {
		const char *text;
		int r;
		int version;
	} v[] = {
		{ "{\"ignition\":{\"version\":\"3.4.0\"}}", 0, 34 },
		{ "{\"ignition\":{\"version\":\"3.6.0\"}}", 0, 36 },
		{ "{\"ignition\":{\"version\":\"2.0.0\"}}", 0, 20 },
		{ "{\"ignition\":{\"version\":\"3.9.0\"}}", -EINVAL, 0 },
		{ "{\"ignition\":{\"version\":\"3.4\"}}", -EINVAL, 0 },
		/* fuzzing: parts that overflow when combined */
		{ "{\"ignition\":{\"version\":\"3.99999999999999999999.0\"}}", -EINVAL, 0 },
		{ "{\"ignition\":{\"version\":\"99999999999999999999.3.0\"}}", -EINVAL, 0 },
		{ "{\"ignition\":{\"version\":\"3.5.0-experimental\"}}", -EINVAL, 0 },
		{ "{\"ignitionVersion\":1}", -EINVAL, 0 },
		{ "{}", -EINVAL, 0 },
		{ "", -ENODATA, 0 },
		{ "#cloud-config\nhostname: x\n", -EMEDIUMTYPE, 0 },
		{ "#!/bin/sh\necho hi\n", -EMEDIUMTYPE, 0 },
		{ "{\"ignition\":", -EBADMSG, 0 },
		{ "\xef\xbb\xbf{}", -EBADMSG, 0 },
		{ "{} []", -EBADMSG, 0 },
		{ "[]", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		_cleanup_(problem_list_release) struct problem_list pl = {};
		_cleanup_(ign_config_freep) struct ign_config *c = NULL;
		int r = ign_config_parse(v[i].text, strlen(v[i].text), &c, &pl);
		if (r != v[i].r)
			printf("# '%s': %d\n", v[i].text, r);
		ASSERT_EQ(r, v[i].r);
		if (r == 0)
			ASSERT_EQ(c->version, v[i].version);
		else
			ASSERT_TRUE(problem_has_errors(&pl));
	}
}

TEST(positions_and_display_paths)
{
	static const char text[] = "{\n  \"ignition\": {\"version\": \"3.4.0\"},\n"
				   "  \"storage\": {\n    \"files\": [\n      {\"path\": \"/a\"},\n"
				   "      {\"path\": \"etc/hostname\"}\n    ]\n  }\n}\n";
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	ASSERT_ERR(ign_config_parse(text, strlen(text), &c, &pl), EINVAL);
	ASSERT_OK(ign_problems_locate(text, strlen(text), &pl));
	ASSERT_EQ(pl.n, 1);
	ASSERT_STREQ(pl.item[0].where, "/storage/files/1/path");
	ASSERT_EQ(pl.item[0].line, 6);
	ASSERT_EQ(pl.item[0].column, 8);
	ASSERT_STREQ(pl.item[0].hint, "did you mean \"/etc/hostname\"?");
	ASSERT_STREQ(pl.item[0].value, "\"etc/hostname\"");
	_cleanup_free_ char *d = fjson_pointer_to_display(c->raw, pl.item[0].where);
	ASSERT_STREQ(d, "$.storage.files[1].path");
}

TEST(duplicate_keys_warn_last_wins)
{
	static const char text[] = "{\"ignition\":{\"version\":\"3.4.0\"},"
				   "\"storage\":{\"files\":[{\"path\":\"rel\",\"path\":\"/abs\"}]}}";
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	ASSERT_OK(ign_config_parse(text, strlen(text), &c, &pl));
	ASSERT_EQ(problem_count(&pl, PROBLEM_WARNING), 1);
	ASSERT_STREQ(pl.item[0].where, "/storage/files/0/path");
	ASSERT_EQ(pl.item[0].column, 67);
}

TEST(syntax_error_position)
{
	static const char text[] = "{\n \"ignition\": {\"version\": \"3.4.0\"},\n \"x\": tru\n}";
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	ASSERT_ERR(ign_config_parse(text, strlen(text), &c, &pl), EBADMSG);
	ASSERT_EQ(pl.n, 1);
	ASSERT_EQ(pl.item[0].line, 3);
	ASSERT_STREQ(pl.item[0].where, "");
}

TEST(translate_v2_files_units_networkd)
{
	static const char text[] =
		"{\"ignition\":{\"version\":\"2.2.0\",\"config\":{\"append\":[{\"source\":\"data:,%7B%7D\"}]}},"
		"\"storage\":{\"filesystems\":[{\"name\":\"data\",\"mount\":{\"device\":\"/dev/vdb\","
		"\"format\":\"ext4\",\"create\":{\"force\":true,\"options\":[\"-m0\"]}}},"
		"{\"name\":\"oem\",\"mount\":{\"device\":\"/dev/vda6\",\"format\":\"ext4\"}}],"
		"\"files\":[{\"filesystem\":\"root\",\"path\":\"/etc/hostname\",\"contents\":{\"source\":\"data:,h\"}},"
		"{\"filesystem\":\"data\",\"path\":\"/x/../y\",\"append\":true,\"contents\":{\"source\":\"data:,a\"}},"
		"{\"filesystem\":\"oem\",\"path\":\"/grub.cfg\"}],"
		"\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":[{\"number\":1,\"size\":20480,\"start\":2048}]}]},"
		"\"systemd\":{\"units\":[{\"name\":\"a.service\",\"enable\":true,\"contents\":\"[Install]\\nWantedBy=x\"}]},"
		"\"networkd\":{\"units\":[{\"name\":\"00-eth.network\",\"contents\":\"[Match]\\nName=eth0\\n\"}]},"
		"\"passwd\":{\"users\":[{\"name\":\"core\",\"create\":{\"uid\":1001,\"shell\":\"\"}}]}}";
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	int r = ign_config_parse(text, strlen(text), &c, &pl);
	for (size_t k = 0; k < pl.n; k++)
		printf("# %s: %s\n", pl.item[k].where, pl.item[k].message);
	ASSERT_OK(r);
	ASSERT_EQ(c->translated_from, 22);
	json_t *d = c->doc;
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/ignition/version")), "3.1.0");
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/ignition/config/merge/0/source")),
		     "data:,%7B%7D");
	ASSERT_TRUE(json_is_true(fjson_pointer_get(d, "/storage/files/0/overwrite")));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/files/1/path")),
		     "/tmp/data-ign0/y");
	ASSERT_TRUE(json_is_false(fjson_pointer_get(d, "/storage/files/1/overwrite")));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/files/1/append/0/source")),
		     "data:,a");
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/files/2/path")), "/oem/grub.cfg");
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/filesystems/0/path")),
		     "/tmp/data-ign0");
	ASSERT_TRUE(json_is_true(fjson_pointer_get(d, "/storage/filesystems/0/wipeFilesystem")));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/filesystems/0/options/0")), "-m0");
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/filesystems/1/format")), "btrfs");
	ASSERT_EQ(json_integer_value(fjson_pointer_get(d, "/storage/disks/0/partitions/0/sizeMiB")), 10);
	ASSERT_EQ(json_integer_value(fjson_pointer_get(d, "/storage/disks/0/partitions/0/startMiB")), 1);
	ASSERT_TRUE(json_is_true(fjson_pointer_get(d, "/systemd/units/0/enabled")));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(d, "/storage/files/3/path")),
		     "/etc/systemd/network/00-eth.network");
	ASSERT_EQ(json_integer_value(fjson_pointer_get(d, "/passwd/users/0/uid")), 1001);
	ASSERT_NULL(fjson_pointer_get(d, "/passwd/users/0/shell"));
}

TEST(translate_v2_refusals)
{
	static const struct {
		const char *text;
		const char *where;
	} v[] = {
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"files\":[{\"path\":\"/a\"}]}}",
		  "/storage/files/0/filesystem" },
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"files\":[{\"filesystem\":\"root\",\"path\":\"/a\"},"
		  "{\"filesystem\":\"root\",\"path\":\"/a\"}]}}",
		  "/storage/files/1/path" },
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"filesystems\":[{\"name\":\"d\",\"mount\":"
		  "{\"device\":\"/dev/a\",\"format\":\"ext4\",\"create\":{}}}]}}",
		  "/storage/filesystems/0/mount/create" },
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":"
		  "[{\"number\":1,\"size\":1000}]}]}}",
		  "/storage/disks/0/partitions/0/size" },
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"files\":[{\"filesystem\":\"root\",\"path\":\"/a\","
		  "\"contents\":{\"source\":\"http://x/\",\"verification\":{\"hash\":\"sha256-" H64 "\"}}}]}}",
		  "/storage/files/0/contents/verification/hash" },
		{ "{\"ignition\":{\"version\":\"2.2.0\"},\"systemd\":{\"units\":[{\"name\":\"a.service\",\"dropins\":"
		  "[{\"name\":\"x.conf\"},{\"name\":\"x.conf\"}]}]}}",
		  "/systemd/units/0/dropins/1/name" },
		{ "{\"ignition\":{\"version\":\"2.3.0\"},\"storage\":{\"files\":[{\"filesystem\":\"root\",\"path\":\"/a\","
		  "\"append\":true,\"overwrite\":true,\"contents\":{\"source\":\"data:,x\"}}]}}",
		  "/storage/files/0/overwrite" },
		{ "{\"ignition\":{\"version\":\"2.1.0\"},\"storage\":{\"links\":[{\"filesystem\":\"root\",\"path\":\"/l\",\"target\":\"/t\"}],"
		  "\"files\":[{\"filesystem\":\"root\",\"path\":\"/l/f\"}]}}",
		  "/storage/files/0/path" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		_cleanup_(problem_list_release) struct problem_list pl = {};
		_cleanup_(ign_config_freep) struct ign_config *c = NULL;
		int r = ign_config_parse(v[i].text, strlen(v[i].text), &c, &pl);
		bool found = has_problem(&pl, PROBLEM_ERROR, v[i].where);
		if (r != -EINVAL || !found) {
			printf("# case %zu: r=%d\n", i, r);
			for (size_t k = 0; k < pl.n; k++)
				printf("#   %s: %s\n", pl.item[k].where, pl.item[k].message);
		}
		ASSERT_EQ(r, -EINVAL);
		ASSERT_TRUE(found);
	}
}

TEST(data_urls_gzip_hashes)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	size_t n;
	ASSERT_OK(ign_data_url_decode("data:,hello%20world", &a, &n));
	ASSERT_STREQ(a, "hello world");
	ASSERT_OK(ign_data_url_decode("data:text/plain;charset=utf-8;base64,aGVsbG8=", &b, &n));
	ASSERT_STREQ(b, "hello");
	ASSERT_OK(ign_data_url_decode("data:;base64,aGVsbG8", &c, &n));
	ASSERT_EQ(n, 5);
	char *x = NULL;
	ASSERT_ERR(ign_data_url_decode("data:;base64,a", &x, &n), EINVAL);
	ASSERT_ERR(ign_data_url_decode("data:,%zz", &x, &n), EINVAL);
	ASSERT_ERR(ign_data_url_decode("data:nocomma", &x, &n), EINVAL);
	char got[160];
	ASSERT_OK(ign_hash_check("sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
				 "hello", 5, got, sizeof(got)));
	ASSERT_ERR(ign_hash_check("sha256-" H64, "hello", 5, got, sizeof(got)), EBADMSG);
	ASSERT_TRUE(strncmp(got, "sha256-2cf24d", 13) == 0);
	/* gzip of "hello\n" */
	static const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					    0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
					    0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00 };
	_cleanup_free_ char *out = NULL;
	ASSERT_OK(ign_gunzip(gz, sizeof(gz), 100, &out, &n));
	ASSERT_STREQ(out, "hello\n");
	ASSERT_ERR(ign_gunzip(gz, sizeof(gz), 3, &x, &n), EFBIG);
	ASSERT_ERR(ign_gunzip(gz, sizeof(gz) - 4, 100, &x, &n), EBADMSG);
}
