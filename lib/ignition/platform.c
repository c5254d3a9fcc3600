/* SPDX-License-Identifier: MIT */
/* lib/ignition/platform.c - where the user config comes from (docs/provision.md §3):
 * --config, the kernel command line inside the root, user.ign in the config dirs, then the
 * platform provider (file, metal, qemu fw_cfg, and the cloud providers of providers.c; see
 * docs/provision-platforms.md); and the base configs. */
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"
#include "ignition/ignition.h"
#include "util/cleanup.h"
#include "util/problem.h"

static const char *const config_dirs[] = { "/run/ignition", "/etc/ignition", "/usr/lib/ignition" };

static const char *const platform_names[_IGN_PLATFORM_MAX] = {
	[IGN_PLATFORM_FILE] = "file",
	[IGN_PLATFORM_METAL] = "metal",
	[IGN_PLATFORM_QEMU] = "qemu",
	[IGN_PLATFORM_AWS] = "aws",
	[IGN_PLATFORM_AZURE] = "azure",
	[IGN_PLATFORM_DIGITALOCEAN] = "digitalocean",
	[IGN_PLATFORM_EQUINIXMETAL] = "equinixmetal",
	[IGN_PLATFORM_GCP] = "gcp",
	[IGN_PLATFORM_HETZNER] = "hetzner",
	[IGN_PLATFORM_OPENSTACK] = "openstack",
};

/* Flatcar's OEM ids (bootengine ignition-setup-pre.sh) and Ignition's platform ids that name
 * a provider differently */
static const struct {
	const char *alias;
	enum ign_platform p;
} platform_aliases[] = {
	{ "ec2", IGN_PLATFORM_AWS },
	{ "pxe", IGN_PLATFORM_METAL },
	{ "gce", IGN_PLATFORM_GCP },
	{ "packet", IGN_PLATFORM_EQUINIXMETAL },
	{ "brightbox", IGN_PLATFORM_OPENSTACK }, /* Ignition runs the openstack code for it */
};

const char *ign_platform_to_string(enum ign_platform p)
{
	return p >= 0 && p < _IGN_PLATFORM_MAX ? platform_names[p] : NULL;
}

const char *ign_platform_ignition_name(enum ign_platform p)
{
	return p == IGN_PLATFORM_EQUINIXMETAL ? "packet" : ign_platform_to_string(p);
}

enum ign_platform ign_platform_from_string(const char *s)
{
	if (!s)
		return _IGN_PLATFORM_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(platform_aliases); i++)
		if (!strcmp(platform_aliases[i].alias, s))
			return platform_aliases[i].p;
	for (int i = 0; i < _IGN_PLATFORM_MAX; i++)
		if (!strcmp(platform_names[i], s))
			return (enum ign_platform)i;
	return _IGN_PLATFORM_INVALID;
}

bool ign_platform_needs_network(enum ign_platform p)
{
	return p != IGN_PLATFORM_FILE && p != IGN_PLATFORM_METAL && p != IGN_PLATFORM_QEMU &&
	       p >= 0 && p < _IGN_PLATFORM_MAX;
}

int ign_platform_test_url_check(const char *url)
{
	char host[64];
	const char *h;

	if (!url)
		return -EPERM;
	if (!strncmp(url, "http://", 7))
		h = url + 7;
	else if (!strncmp(url, "https://", 8))
		h = url + 8;
	else
		return -EPERM;
	size_t hl;
	const char *rest;
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (!close)
			return -EPERM;
		hl = (size_t)(close - h - 1);
		rest = close + 1;
		if (hl >= sizeof(host))
			return -EPERM;
		memcpy(host, h + 1, hl);
		host[hl] = 0;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1 || !IN6_IS_ADDR_LOOPBACK(&a6))
			return -EPERM;
	} else {
		hl = strcspn(h, ":/?#");
		rest = h + hl;
		if (hl >= sizeof(host))
			return -EPERM;
		memcpy(host, h, hl);
		host[hl] = 0;
		struct in_addr a4;
		/* a dotted quad only (inet_pton takes no short forms), in 127.0.0.0/8 */
		if (inet_pton(AF_INET, host, &a4) != 1 || (ntohl(a4.s_addr) >> 24) != 127)
			return -EPERM;
	}
	/* an optional :port, nothing after it (no userinfo, path, query) */
	if (rest[0] == ':') {
		size_t pl = strspn(rest + 1, "0123456789");
		if (pl == 0 || pl > 5)
			return -EPERM;
		rest += 1 + pl;
	}
	return rest[0] == 0 ? 0 : -EPERM;
}

/* Value of key= on the kernel command line (the last one wins), malloc'd, or NULL. */
static char *cmdline_get(const char *cmdline, const char *key)
{
	size_t kl = strlen(key);
	char *found = NULL;
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		const char *start = p;
		bool q = false;
		while (*p && (q || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '"')
				q = !q;
			p++;
		}
		if ((size_t)(p - start) > kl && !strncmp(start, key, kl) && start[kl] == '=') {
			free(found);
			const char *v = start + kl + 1;
			size_t vl = (size_t)(p - v);
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			found = strndup(v, vl);
		}
	}
	return found;
}

static bool is_url(const char *s)
{
	const char *c = strchr(s, ':');
	if (!c || c == s)
		return false;
	for (const char *p = s; p < c; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '+' || *p == '-' || *p == '.'))
			return false;
	return !strncmp(s, "data:", 5) || !strncmp(c, "://", 3) || !strncmp(s, "arn:", 4);
}

/* A URL for messages: no userinfo, no query. */
static char *redact(const char *url)
{
	if (!strncmp(url, "data:", 5))
		return strdup("data:...");
	char *o = strdup(url);
	if (!o)
		return NULL;
	char *q = strchr(o, '?');
	if (q)
		strcpy(q, "?...");
	char *s = strstr(o, "://");
	if (s) {
		char *at = strchr(s + 3, '@'), *slash = strchr(s + 3, '/');
		if (at && (!slash || at < slash))
			memmove(s + 3, at + 1, strlen(at + 1) + 1);
	}
	return o;
}

static int fetch_url(const struct ign_fetcher *f, const char *url, char **ret, size_t *ret_size,
		     char **ret_origin, struct problem_list *l)
{
	int r = ign_url_fetch(f, url, ret, ret_size, l);
	if (r < 0)
		return r;
	*ret_origin = redact(url);
	return 0;
}

static int read_host_file(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = !strcmp(path, "-") ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
						   : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return fs_read_fd(fd, IGN_MAX_CONFIG_SIZE, ret, ret_size);
}

/* qemu: fw_cfg exposes each blob as by_name/<name>/raw; read it in large chunks (Ignition notes
 * that small reads are quadratic). */
static int qemu_fetch(int root_fd, char **ret, size_t *ret_size, char **ret_origin)
{
	static const char *const names[] = { "opt/org.flatcar-linux/config", "opt/com.coreos/config" };
	for (int i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/firmware/qemu_fw_cfg/by_name/%s/raw", names[i]);
		_cleanup_close_ int fd = fs_open(root_fd, path, O_RDONLY, 0);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return fd;
		int r = fs_read_fd(fd, IGN_MAX_CONFIG_SIZE, ret, ret_size);
		if (r < 0)
			return r;
		if (asprintf(ret_origin, "qemu fw_cfg %s", names[i]) < 0)
			*ret_origin = NULL;
		return 0;
	}
	return -ENOENT;
}

int ign_user_config_fetch(const struct ign_source_opts *o, const struct ign_fetcher *f,
			  char **ret, size_t *ret_size, char **ret_origin,
			  struct problem_list *reterr)
{
	int r;

	/* 1. --config */
	if (o->config) {
		if (is_url(o->config))
			return fetch_url(f, o->config, ret, ret_size, ret_origin, reterr);
		r = read_host_file(o->config, ret, ret_size);
		if (r < 0)
			return problem_add(reterr, r, "", "cannot read %s: %s", o->config, strerror(-r));
		*ret_origin = strdup(!strcmp(o->config, "-") ? "stdin" : o->config);
		return 0;
	}

	/* 2. the kernel command line, read inside the root */
	_cleanup_free_ char *cmdline = NULL;
	size_t cn = 0;
	r = o->root_fd >= 0 ? fs_read_file(o->root_fd, "/proc/cmdline", 65536, &cmdline, &cn) : -ENOENT;
	if (r < 0 && r != -ENOENT)
		return problem_add(reterr, r, "", "cannot read /proc/cmdline: %s", strerror(-r));
	if (cmdline) {
		static const char *const keys[] = { "ignition.config.url", "flatcar.config.url",
						    "coreos.config.url" };
		for (int i = 0; i < 3; i++) {
			_cleanup_free_ char *url = cmdline_get(cmdline, keys[i]);
			if (url)
				return fetch_url(f, url, ret, ret_size, ret_origin, reterr);
		}
		_cleanup_free_ char *dev = cmdline_get(cmdline, "ignition.config.device");
		_cleanup_free_ char *path = cmdline_get(cmdline, "ignition.config.path");
		if (!!dev != !!path)
			return problem_add(reterr, -EINVAL, "",
					   "ignition.config.device and ignition.config.path must be "
					   "given together on the kernel command line");
		if (dev)
			return problem_add(reterr, -EOPNOTSUPP, "",
					   "ignition.config.device is not supported by this build");
	}

	/* 3. user.ign in the config dirs */
	for (size_t i = 0; o->root_fd >= 0 && i < ARRAY_SIZE(config_dirs); i++) {
		char path[64];
		snprintf(path, sizeof(path), "%s/user.ign", config_dirs[i]);
		r = fs_read_file(o->root_fd, path, IGN_MAX_CONFIG_SIZE, ret, ret_size);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return problem_add(reterr, r, "", "cannot read %s: %s", path, strerror(-r));
		*ret_origin = strdup(path);
		return 0;
	}

	/* 4. the platform */
	switch (o->platform) {
	case IGN_PLATFORM_FILE: {
		const char *p = o->file_path ? o->file_path : "config.ign";
		r = read_host_file(p, ret, ret_size);
		if (r == -ENOENT)
			return -ENOENT;
		if (r < 0)
			return problem_add(reterr, r, "", "cannot read %s: %s", p, strerror(-r));
		*ret_origin = strdup(p);
		return 0;
	}
	case IGN_PLATFORM_METAL:
		return -ENOENT; /* only the command line, read above */
	case IGN_PLATFORM_QEMU:
		r = o->root_fd >= 0 ? qemu_fetch(o->root_fd, ret, ret_size, ret_origin) : -ENOENT;
		if (r < 0 && r != -ENOENT)
			return problem_add(reterr, r, "", "cannot read the qemu firmware config: %s",
					   strerror(-r));
		return r;
	case IGN_PLATFORM_AWS:
	case IGN_PLATFORM_AZURE:
	case IGN_PLATFORM_DIGITALOCEAN:
	case IGN_PLATFORM_EQUINIXMETAL:
	case IGN_PLATFORM_GCP:
	case IGN_PLATFORM_HETZNER:
	case IGN_PLATFORM_OPENSTACK: {
		/* the test switch: only from the caller or the environment, only loopback */
		const char *base = o->platform_url ? o->platform_url
				   : o->aws_base_url ? o->aws_base_url
						     : getenv(IGN_PLATFORM_TEST_URL_ENV);
		if (base && ign_platform_test_url_check(base) < 0)
			return problem_add(reterr, -EPERM, "",
					   "%s must be http(s)://127.x.y.z[:port] or "
					   "http(s)://[::1][:port]; refusing a metadata service "
					   "elsewhere",
					   IGN_PLATFORM_TEST_URL_ENV);
		r = ign_provider_user_data(f, o->platform, base, o->root_fd, ret, ret_size,
					   ret_origin, reterr);
		if (r >= 0 && *ret_size > IGN_MAX_CONFIG_SIZE) {
			free(*ret);
			free(*ret_origin);
			*ret = *ret_origin = NULL;
			return problem_add(reterr, -EFBIG, "", "the %s user data is larger than %u MiB",
					   ign_platform_to_string(o->platform),
					   IGN_MAX_CONFIG_SIZE >> 20);
		}
		return r;
	}
	default:
		return problem_add(reterr, -EINVAL, "", "unknown platform");
	}
}

enum ign_platform ign_platform_detect(int root_fd)
{
	_cleanup_free_ char *cmdline = NULL;
	size_t n;

	if (root_fd >= 0 && fs_read_file(root_fd, "/proc/cmdline", 65536, &cmdline, &n) >= 0) {
		static const char *const keys[] = { "flatcar.oem.id", "coreos.oem.id" };
		for (int i = 0; i < 2; i++) {
			_cleanup_free_ char *id = cmdline_get(cmdline, keys[i]);
			if (id)
				return ign_platform_from_string(id);
		}
	}
	if (root_fd >= 0 && fs_exists(root_fd, "/sys/firmware/qemu_fw_cfg") > 0)
		return IGN_PLATFORM_QEMU;
	return IGN_PLATFORM_METAL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add every *.ign of dir (inside the root) whose name is not yet in seen. */
static int list_dir(int root_fd, const char *dir, json_t *seen)
{
	_cleanup_close_ int fd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".ign") || json_object_get(seen, de->d_name))
			continue;
		char **nn = reallocarray(names, n + 1, sizeof(char *));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		if (!names[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)json_object_set_new(seen, names[i], json_string(path));
		free(names[i]);
	}
	free(names);
	return r;
}

int ign_base_configs_list(int root_fd, const char *platform, json_t **ret)
{
	/* Flatcar's base.platform.d directories carry Ignition's platform ids ("packet") */
	enum ign_platform pe = ign_platform_from_string(platform);
	const char *pname = pe >= 0 ? ign_platform_ignition_name(pe) : platform;
	json_auto_t *out = json_array();
	if (!out)
		return -ENOMEM;
	for (int stage = 0; stage < 2; stage++) {
		json_auto_t *seen = json_object();
		if (!seen)
			return -ENOMEM;
		for (size_t i = 0; i < ARRAY_SIZE(config_dirs); i++) {
			char dir[256];
			if (stage == 0)
				snprintf(dir, sizeof(dir), "%s/base.d", config_dirs[i]);
			else
				snprintf(dir, sizeof(dir), "%s/base.platform.d/%s", config_dirs[i],
					 pname ? pname : "none");
			int r = list_dir(root_fd, dir, seen);
			if (r < 0)
				return r;
		}
		/* name order across the dirs */
		const char *k;
		json_t *v;
		size_t n = json_object_size(seen), j = 0;
		_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(char *));
		if (!keys)
			return -ENOMEM;
		json_object_foreach(seen, k, v)
			keys[j++] = k;
		qsort(keys, n, sizeof(char *), cmp_str);
		for (j = 0; j < n; j++) {
			const char *path = json_string_value(json_object_get(seen, keys[j]));
			_cleanup_free_ char *text = NULL;
			size_t tn = 0;
			int r = fs_read_file(root_fd, path, IGN_MAX_CONFIG_SIZE, &text, &tn);
			if (r < 0)
				return r;
			json_t *e = json_pack("{s:s, s:s%}", "path", path, "text", text, tn);
			if (!e || json_array_append_new(out, e) < 0)
				return -ENOMEM;
		}
	}
	*ret = json_incref(out);
	return 0;
}
