# shellcheck shell=bash
# demo/00-intro.sh - which binary the demo runs: version, size, applets and link names.
demo_note "flatctl is one static binary; everything below runs it: $FLATCTL"
demo_run flatctl --version
size=$(stat -c %s "$FLATCTL")
if [ -f "$FLATCTL.stripped" ]; then
	stripped=$(stat -c %s "$FLATCTL.stripped")
	demo_note "size: $stripped bytes stripped as installed ($(( (stripped + 1023) / 1024 )) KiB), $size with symbols"
else
	demo_note "size: $size bytes ($(( (size + 1023) / 1024 )) KiB)"
fi
demo_run file -b "$FLATCTL"
demo_run flatctl --help
links=$(flatctl --list-links | tr '\n' ' ')
demo_note "link names installed by 'make install': ${links:-(none yet)}"
