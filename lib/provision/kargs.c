/* SPDX-License-Identifier: MIT */
/* lib/provision/kargs.c - the kargs stage as Flatcar does it (docs/provision.md §5): Ignition
 * runs a helper with --should-exist/--should-not-exist, and Flatcar's helper
 * (flatcar/bootengine dracut/30ignition/ignition-kargs-helper) edits the `set linux_append`
 * lines of grub.cfg on the OEM partition, sets the first-boot flag and reboots. flatctl makes
 * the same edit to the root's /oem/grub.cfg through the journal, never reboots, and says
 * rebootRequired in the result. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "internal.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define PREFIX "set linux_append=\""

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* sed "s| a | |g": every non-overlapping " a " becomes " ". */
static char *replace_all(const char *s, const char *pat, const char *with)
{
	size_t pl = strlen(pat), wl = strlen(with);
	_cleanup_free_ char *out = malloc(strlen(s) + 1);
	char *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		if (pl && !strncmp(p, pat, pl)) {
			memcpy(o, with, wl);
			o += wl;
			p += pl;
		} else
			*o++ = *p++;
	}
	*o = 0;
	return TAKE_PTR(out);
}

int prov_kargs_edit(const char *text, const char *const *add, size_t nadd, const char *const *del,
		    size_t ndel, char **ret, bool *ret_changed, bool *ret_immutable)
{
	_cleanup_free_ char *orig = NULL, *opts = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&orig, &olen);
	if (!f)
		return -ENOMEM;
	/* grep -o '^set linux_append="[^"]*' | sed 's,^set linux_append=",,; s,$linux_append,,' */
	for (const char *p = text; *p;) {
		const char *e = strchrnul(p, '\n');
		if (!strncmp(p, PREFIX, strlen(PREFIX))) {
			const char *v = p + strlen(PREFIX);
			const char *q = memchr(v, '"', (size_t)(e - v));
			size_t vl = (size_t)((q ? q : e) - v);
			_cleanup_free_ char *val = strndup(v, vl);
			if (!val) {
				fclose(f);
				return -ENOMEM;
			}
			char *la = strstr(val, "$linux_append");
			if (la)
				memmove(la, la + 13, strlen(la + 13) + 1);
			fprintf(f, "%s ", val);
		}
		p = *e ? e + 1 : e;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	trim(orig);
	if (asprintf(&opts, " %s ", orig) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < nadd; i++) {
		_cleanup_free_ char *pat = NULL;
		if (asprintf(&pat, " %s ", add[i]) < 0)
			return -ENOMEM;
		if (strstr(opts, pat))
			continue;
		char *n;
		if (asprintf(&n, "%s%s ", opts, add[i]) < 0)
			return -ENOMEM;
		free(opts);
		opts = n;
	}
	for (size_t i = 0; i < ndel; i++) {
		_cleanup_free_ char *pat = NULL;
		if (asprintf(&pat, " %s ", del[i]) < 0)
			return -ENOMEM;
		char *n = replace_all(opts, pat, " ");
		if (!n)
			return -ENOMEM;
		free(opts);
		opts = n;
	}
	bool immutable = strstr(opts, "flatcar.immutable=1") != NULL;
	if (immutable) {
		char *n;
		if (asprintf(&n, "%srootflags=ro ", opts) < 0)
			return -ENOMEM;
		free(opts);
		opts = n;
	}
	trim(opts);
	*ret_immutable = immutable;
	*ret_changed = strcmp(opts, orig) != 0;
	if (!*ret_changed)
		return 0;
	/* sed 's,^set linux_append=".*",,' then one new line at the end */
	_cleanup_free_ char *out = NULL;
	size_t on = 0;
	f = open_memstream(&out, &on);
	if (!f)
		return -ENOMEM;
	for (const char *p = text; *p;) {
		const char *e = strchrnul(p, '\n');
		const char *last = NULL;
		if (!strncmp(p, PREFIX, strlen(PREFIX)))
			for (const char *q = p + strlen(PREFIX); q < e; q++)
				if (*q == '"')
					last = q;
		if (last)
			fwrite(last + 1, 1, (size_t)(e - last - 1), f);
		else
			fwrite(p, 1, (size_t)(e - p), f);
		if (*e)
			fputc('\n', f);
		p = *e ? e + 1 : e;
	}
	/* the helper's echo >> would glue onto a last line without its newline */
	if (text[0] && text[strlen(text) - 1] != '\n')
		fputc('\n', f);
	fprintf(f, "set linux_append=\"$linux_append %s\"\n", opts);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}

static int strv_from(json_t *a, const char ***ret, size_t *ret_n)
{
	size_t n = json_array_size(a), i;
	json_t *e;
	const char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, e) v[i] = json_string_value(e) ?: "";
	*ret = v;
	*ret_n = n;
	return 0;
}

/* grub.cfg on the OEM partition: /oem in the root (/usr/share/oem on older layouts). */
static int grub_cfg_path(struct prov_plan *p, const char **ret)
{
	static const char *const dirs[] = { "/oem", "/usr/share/oem" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct fs_resolved r = {};
		if (fs_resolve(p->root_fd, dirs[i], &r) < 0)
			continue;
		bool dir = r.exists && S_ISDIR(r.st.st_mode);
		if (!dir && r.exists && S_ISLNK(r.st.st_mode)) {
			_cleanup_close_ int fd =
				fs_open(p->root_fd, dirs[i], O_PATH | O_DIRECTORY, 0);
			dir = fd >= 0;
		}
		fs_resolved_release(&r);
		if (dir) {
			*ret = i == 0 ? "/oem/grub.cfg" : "/usr/share/oem/grub.cfg";
			return 0;
		}
	}
	return -ENOENT;
}

int plan_kargs(struct prov_plan *p, json_t *config)
{
	json_t *ka = json_object_get(config, "kernelArguments");
	json_t *se = json_object_get(ka, "shouldExist"),
	       *sne = json_object_get(ka, "shouldNotExist");
	_cleanup_free_ const char **add = NULL, **del = NULL;
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t nadd = 0, ndel = 0;
	const char *cfg;
	bool changed = false, immutable = false;
	int r;

	if (!json_array_size(se) && !json_array_size(sne))
		return 0;
	if (grub_cfg_path(p, &cfg) < 0) {
		plan_item(p, '!', "karg", "/oem/grub.cfg", "no OEM directory in the root");
		return plan_fail(p, -ENOENT, "/kernelArguments", "/oem/grub.cfg",
				 "the root has no /oem (the OEM partition) to hold grub.cfg");
	}
	r = fs_read_file(p->root_fd, cfg, 1u << 20, &text, NULL);
	if (r == -ENOENT)
		text = strdup("");
	else if (r < 0)
		return plan_fail(p, r, "/kernelArguments", cfg, "%s", strerror(-r));
	if (!text)
		return -ENOMEM;
	if (strv_from(se, &add, &nadd) < 0 || strv_from(sne, &del, &ndel) < 0)
		return -ENOMEM;
	r = prov_kargs_edit(text, add, nadd, del, ndel, &out, &changed, &immutable);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nadd; i++)
		plan_item(p, changed ? '+' : '=', "karg", add[i], NULL);
	for (size_t i = 0; i < ndel; i++)
		plan_item(p, changed ? '-' : '=', "karg", del[i], NULL);
	if (!changed)
		return 0;
	r = plan_put_file(p, cfg, "/kernelArguments", out, strlen(out), 0644, 0, 0, true, "file",
			  true);
	if (r < 0)
		return r;
	p->reboot_required = true;
	/* Ignition mode: as the helper, flag the next boot as a first boot again (or immutable) so
	 * Flatcar's initramfs runs the stages once more with the new arguments */
	if (p->o->ignition_mode) {
		const char *flag =
			immutable ? "/boot/flatcar/immutable" : "/boot/flatcar/first_boot";
		_cleanup_close_ int fd =
			fs_open(p->root_fd, "/boot/flatcar", O_PATH | O_DIRECTORY, 0);
		if (fd >= 0)
			r = plan_put_file(p, flag, "/kernelArguments", "\n", 1, 0644, 0, 0, false,
					  "file", true);
	}
	return r;
}
