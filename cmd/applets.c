/* SPDX-License-Identifier: MIT */
/* cmd/applets.c - the applet and alias tables expanded from cmd/applets.h. */
#include <stddef.h>

#include "cmd.h"

const struct applet applets[] = {
#define APPLET(n, f, h) { .name = n, .fn = f, .help = h },
#define ALIAS(l, a, i)
#include "applets.h"
#undef APPLET
#undef ALIAS
	{},
};

const struct alias aliases[] = {
#define APPLET(n, f, h)
#define ALIAS(l, a, i) { .link = l, .applet = a, .implied = i },
#include "applets.h"
#undef APPLET
#undef ALIAS
	{},
};
