/* SPDX-License-Identifier: MIT */
/* bench/update-daemon-rtt.c - round trips over one D-Bus connection, without process start-up:
 * N calls of com.coreos.update1.Manager.GetStatus (to the update daemon, through dbus-daemon)
 * and N of org.freedesktop.DBus.GetId (answered by dbus-daemon itself), interleaved; prints the
 * median and p90 of each in microseconds. Usage: update-daemon-rtt ADDRESS N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double call(sd_bus *bus, const char *dest, const char *path, const char *iface,
		   const char *member)
{
	sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	double t0 = now_us();
	int r = sd_bus_call_method(bus, dest, path, iface, member, &error, &reply, "");
	double t = now_us() - t0;
	if (r < 0) {
		fprintf(stderr, "update-daemon-rtt: %s: %s\n", member,
			error.message ? error.message : strerror(-r));
		exit(1);
	}
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	return t;
}

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	double *a, *b;

	if (argc < 2 || n < 1 || sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0) {
		fprintf(stderr, "usage: update-daemon-rtt ADDRESS N\n");
		return 2;
	}
	a = calloc((size_t)n, sizeof(double));
	b = calloc((size_t)n, sizeof(double));
	if (!a || !b)
		return 1;
	for (int i = 0; i < n; i++) {
		a[i] = call(bus, "com.coreos.update1", "/com/coreos/update1",
			    "com.coreos.update1.Manager", "GetStatus");
		b[i] = call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			    "org.freedesktop.DBus", "GetId");
	}
	qsort(a, (size_t)n, sizeof(double), cmp);
	qsort(b, (size_t)n, sizeof(double), cmp);
	printf("%.0f %.0f %.0f %.0f\n", a[n / 2], a[n * 9 / 10], b[n / 2], b[n * 9 / 10]);
	sd_bus_unref(bus);
	free(a);
	free(b);
	return 0;
}
