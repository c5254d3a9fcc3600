#!/bin/bash
# t0232-provision-validate-verdicts: verdicts where flatctl and ignition-validate v2.20.0 used to
# disagree (docs/provision.md §4, §4.1): duplicates in every list Ignition checks, httpHeaders without
# a source, empty or null RAID devices, text before a unit's first [Section] (a warning), the
# verification error at verification.hash, and two partition rules of Ignition's (labels count
# bytes; number 0 with shouldExist false). Each case: the config, the exit code, and the
# problem line with its JSON path.
. "$(dirname "$0")/lib.sh"

H=sha512-$(printf x | sha512sum | cut -d' ' -f1)
verdict() { # name exit pattern json; an empty pattern: no problem at all
	local check="test_grep '$3' \"\$T/out\"" &&
	{ [ -n "$3" ] || check="! test -s \"\$T/out\""; } &&
	printf '%s\n' "$4" >"$T/$1.ign" &&
	test_expect "$1: exit $2${3:+, '$3'}" "
		test_exit $2 flatctl provision validate \"\$T/$1.ign\" >\"\$T/out\" 2>\"\$T/err\" &&
		$check
	"
}

verdict noproxy-dup 2 'error: \$\.ignition\.proxy\.noProxy\[2\]: duplicate noProxy entry' \
	'{"ignition":{"version":"3.4.0","proxy":{"httpProxy":"http://proxy:3128","noProxy":["10.0.0.0/8","example.com","10.0.0.0/8"]}}}'
verdict merge-dup 2 'error: \$\.ignition\.config\.merge\[1\]: duplicate merge source' \
	'{"ignition":{"version":"3.2.0","config":{"merge":[{"source":"https://a.example/x.ign"},{"source":"https://a.example/x.ign"}]}}}'
verdict ca-dup 2 'error: \$\.ignition\.security\.tls\.certificateAuthorities\[1\]: duplicate certificate authority' \
	'{"ignition":{"version":"3.1.0","security":{"tls":{"certificateAuthorities":[{"source":"https://a.example/ca.pem"},{"source":"https://a.example/ca.pem"}]}}}}'
verdict openoptions-dup 2 'error: \$\.storage\.luks\[0\]\.openOptions\[1\]: duplicate open option' \
	'{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"data","device":"/dev/vdb","openOptions":["--perf-no_read_workqueue","--perf-no_read_workqueue"]}]}}'
verdict tang-dup 2 'error: \$\.storage\.luks\[0\]\.clevis\.tang\[1\]: duplicate tang server' \
	'{"ignition":{"version":"3.3.0"},"storage":{"luks":[{"name":"data","device":"/dev/vdb","clevis":{"tang":[{"url":"https://tang.example","thumbprint":"a"},{"url":"https://tang.example","thumbprint":"b"}]}}]}}'
verdict raid-device-dup 2 'error: \$\.storage\.raid\[0\]\.devices\[1\]: duplicate raid device' \
	'{"ignition":{"version":"3.0.0"},"storage":{"raid":[{"name":"md0","level":"raid1","devices":["/dev/vdb","/dev/vdb"]}]}}'
verdict raid-device-empty 2 'error: \$\.storage\.raid\[0\]\.devices\[0\]: raid device must not be empty or null' \
	'{"ignition":{"version":"3.4.0"},"storage":{"raid":[{"name":"md0","level":"raid1","devices":["","/dev/vdc"]}]}}'
verdict raid-device-null 2 'error: \$\.storage\.raid\[0\]\.devices\[1\]: raid device must not be empty or null' \
	'{"ignition":{"version":"3.5.0"},"storage":{"raid":[{"name":"md0","level":"raid1","devices":["/dev/vdb",null]}]}}'
verdict raid-device-relative 2 'error: \$\.storage\.raid\[0\]\.devices\[0\]: path must be absolute' \
	'{"ignition":{"version":"3.3.0"},"storage":{"raid":[{"name":"md0","level":"raid1","devices":["vdb"]}]}}'
verdict raid-options-dup-ok 0 '' \
	'{"ignition":{"version":"3.4.0"},"storage":{"raid":[{"name":"md0","level":"raid1","devices":["/dev/vdb"],"options":["--x","--x"]}]}}'
verdict headers-no-source 2 'error: \$\.storage\.files\[0\]\.contents\.httpHeaders: HTTP headers need a source' \
	'{"ignition":{"version":"3.1.0"},"storage":{"files":[{"path":"/etc/x","contents":{"httpHeaders":[{"name":"Authorization","value":"Bearer t"}]}}]}}'
verdict headers-no-source-merge 2 'error: \$\.ignition\.config\.merge\[0\]\.httpHeaders: HTTP headers need a source' \
	'{"ignition":{"version":"3.4.0","config":{"merge":[{"httpHeaders":[{"name":"A","value":"b"}]}]}}}'
verdict unit-preamble 0 'warning: \$\.systemd\.units\[0\]\.contents: text before the first \[Section\] is ignored' \
	'{"ignition":{"version":"3.4.0"},"systemd":{"units":[{"name":"x.service","contents":"This unit does x.\n[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true"}]}}'
verdict dropin-preamble 0 'warning: \$\.systemd\.units\[0\]\.dropins\[0\]\.contents: text before the first \[Section\]' \
	'{"ignition":{"version":"3.0.0"},"systemd":{"units":[{"name":"x.service","dropins":[{"name":"10-x.conf","contents":"note\n[Service]\nNice=5"}]}]}}'
verdict verification-no-source 2 'error: \$\.storage\.files\[0\]\.contents\.verification\.hash: verification requires a source' \
	"{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/x\",\"contents\":{\"verification\":{\"hash\":\"$H\"}}}]}}"
verdict verification-no-source-replace 2 'error: \$\.ignition\.config\.replace\.verification\.hash: verification requires a source' \
	"{\"ignition\":{\"version\":\"3.1.0\",\"config\":{\"replace\":{\"verification\":{\"hash\":\"$H\"}}}}}"
verdict verification-no-source-replace-3.0 0 '' \
	"{\"ignition\":{\"version\":\"3.0.0\",\"config\":{\"replace\":{\"verification\":{\"hash\":\"$H\"}}}}}"

verdict partition-label-bytes 2 'error: \$\.storage\.disks\[0\]\.partitions\[0\]\.label: partition labels may not exceed 36 bytes' \
	'{"ignition":{"version":"3.4.0"},"storage":{"disks":[{"device":"/dev/vdb","partitions":[{"number":1,"label":"\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4\u00e4"}]}]}}'
verdict partition-zero-and-gone 2 'error: \$\.storage\.disks\[0\]\.partitions: a partition without a number cannot be combined with shouldExist: false' \
	'{"ignition":{"version":"3.2.0"},"storage":{"disks":[{"device":"/dev/vdb","partitions":[{"label":"DATA"},{"number":9,"shouldExist":false}]}]}}'

test_expect '--strict turns the unit preamble warning into an error (exit 2)' '
	test_exit 2 flatctl provision validate --strict "$T/unit-preamble.ign" >"$T/out" 2>"$T/err" &&
	test_grep "error: \$\.systemd\.units\[0\]\.contents: text before the first" "$T/out"
'
test_expect '--json carries the path of a duplicate' '
	test_exit 2 flatctl provision validate --json "$T/noproxy-dup.ign" >"$T/out" 2>"$T/err" &&
	jq -e ".valid == false and ([.problems[] | select(.path == \"\$.ignition.proxy.noProxy[2]\")] | length) == 1" "$T/out" >/dev/null
'
test_done
