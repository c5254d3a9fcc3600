# shellcheck shell=bash
# demo/20-provision.sh - an Ignition config checked the way Flatcar's Ignition reads it: every
# problem at once with its JSON path, an old spec translated, and the dry-run plan
# (docs/provision.md 1-4). Sourced by demo/run.sh ($FLATCTL, $DEMO_DIR, demo_*).
cfg=$DEMO_DIR/config.ign
cat >"$cfg" <<'JSON'
{
  "ignition": { "version": "3.4.0" },
  "storage": {
    "files": [
      { "path": "etc/hostname", "mode": 420,
        "contents": { "source": "data:,node-1%0A" } }
    ],
    "filez": []
  },
  "passwd": { "users": [ { "name": "core", "sshAuthorizedKeys": [ "ssh-ed25519 AAAA demo" ] } ] }
}
JSON
demo_note "A config with two mistakes: a relative path and a misspelt key. Both are reported at"
demo_note "once, with line, column, JSON path and a hint; the exit status is 2 (invalid):"
demo_run cat "$cfg"
flatctl provision validate "$cfg"
echo "   exit $? (2 = invalid input)"

demo_note "Fixed, it validates; --dry-run shows what first boot would write, touching nothing:"
sed -e 's|"etc/hostname"|"/etc/hostname"|' -e '/"filez"/d' -e 's|^    \],$|    ]|' "$cfg" >"$cfg.fixed"
demo_run flatctl provision validate "$cfg.fixed" && echo "   valid (exit 0)"
mkdir -p "$DEMO_DIR/prov-root"
demo_run flatctl provision --root "$DEMO_DIR/prov-root" --config "$cfg.fixed" --dry-run
