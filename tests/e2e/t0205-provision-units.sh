#!/bin/bash
# t0205-provision-units: systemd units, drop-ins, masks and the preset file as Ignition writes
# them (internal/exec/stages/files/units.go; docs/provision.md §5.2 step 4).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
V='"ignition":{"version":"3.4.0"}'
U=etc/systemd/system

test_expect 'unit.create with a drop-in, 0644 root; empty contents write no unit' '
	mkroot "$T/r1" &&
	cfg c1 "{$V,\"systemd\":{\"units\":[{\"name\":\"a.service\",\"contents\":\"[Service]\\nExecStart=/bin/true\\n\",\"dropins\":[{\"name\":\"10-x.conf\",\"contents\":\"[Service]\\nNice=5\\n\"},{\"name\":\"20-empty.conf\",\"contents\":\"\"},{\"name\":\"30-none.conf\"}]},{\"name\":\"b.service\",\"contents\":\"\"}]}}" &&
	prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	printf "[Service]\nExecStart=/bin/true\n" >"$T/exp" && test_cmp "$T/exp" "$T/r1/$U/a.service" &&
	test "$(stat -c %a:%u "$T/r1/$U/a.service")" = 644:0 &&
	test_grep "^Nice=5$" "$T/r1/$U/a.service.d/10-x.conf" &&
	test -f "$T/r1/$U/a.service.d/20-empty.conf" && ! test -s "$T/r1/$U/a.service.d/20-empty.conf" &&
	! test -e "$T/r1/$U/a.service.d/30-none.conf" && ! test -e "$T/r1/$U/b.service"
'
test_expect 'unit.presets.sorted and instantiated.unit.create: one line per template' '
	mkroot "$T/r2" &&
	cfg c2 "{$V,\"systemd\":{\"units\":[{\"name\":\"z.service\",\"enabled\":true},{\"name\":\"echo@bar.service\",\"enabled\":true},{\"name\":\"a.timer\",\"enabled\":false},{\"name\":\"echo@foo.service\",\"enabled\":true}]}}" &&
	prov "$T/r2" --config "$T/c2.ign" 2>"$T/err" &&
	printf "disable a.timer\nenable echo@.service bar foo\nenable z.service\n" >"$T/exp2" &&
	test_cmp "$T/exp2" "$T/r2/etc/systemd/system-preset/20-ignition.preset"
'
test_expect 'the preset file is appended to, in place' '
	mkroot "$T/r3" && mkdir -p "$T/r3/etc/systemd/system-preset" &&
	echo "enable old.service" >"$T/r3/etc/systemd/system-preset/20-ignition.preset" &&
	prov "$T/r3" --config "$T/c2.ign" 2>"$T/err" &&
	test "$(head -1 "$T/r3/etc/systemd/system-preset/20-ignition.preset")" = "enable old.service" &&
	test "$(wc -l <"$T/r3/etc/systemd/system-preset/20-ignition.preset")" = 4
'
test_expect 'unit.mask: a link to /dev/null replacing the unit; mask false removes it' '
	mkroot "$T/r4" && mkdir -p "$T/r4/$U" && echo old >"$T/r4/$U/m.service" &&
	ln -s /dev/null "$T/r4/$U/u.service" &&
	cfg c4 "{$V,\"systemd\":{\"units\":[{\"name\":\"m.service\",\"mask\":true,\"contents\":\"[Unit]\\n\"},{\"name\":\"u.service\",\"mask\":false}]}}" &&
	prov "$T/r4" --config "$T/c4.ign" 2>"$T/err" &&
	test "$(readlink "$T/r4/$U/m.service")" = /dev/null && ! test -e "$T/r4/$U/u.service" && ! test -L "$T/r4/$U/u.service"
'
test_expect 'enabled false: the unit links of .wants and .requires go, the disable line is written' '
	mkroot "$T/r5" && mkdir -p "$T/r5/$U/multi-user.target.wants" "$T/r5/$U/x.target.requires" &&
	ln -s /usr/lib/systemd/system/d.service "$T/r5/$U/multi-user.target.wants/d.service" &&
	ln -s ../d.service "$T/r5/$U/x.target.requires/d.service" &&
	cfg c5 "{$V,\"systemd\":{\"units\":[{\"name\":\"d.service\",\"enabled\":false}]}}" &&
	prov "$T/r5" --config "$T/c5.ign" 2>"$T/err" &&
	! test -L "$T/r5/$U/multi-user.target.wants/d.service" && ! test -L "$T/r5/$U/x.target.requires/d.service" &&
	test_grep "^disable d.service$" "$T/r5/etc/systemd/system-preset/20-ignition.preset"
'
test_expect 'a drop-in directory that is a symlink is followed inside the root only' '
	mkroot "$T/r6" && mkdir -p "$T/r6/$U" "$T/outside6" && ln -s "$T/outside6" "$T/r6/$U/e.service.d" &&
	cfg c6 "{$V,\"systemd\":{\"units\":[{\"name\":\"e.service\",\"dropins\":[{\"name\":\"x.conf\",\"contents\":\"[Unit]\\n\"}]}]}}" &&
	prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	test -z "$(ls -A "$T/outside6")" && test -f "$T/r6$T/outside6/x.conf"
'
test_done
