// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiod: option parsing and the top-level modes. Only main prints and exits. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostfs.h"
#include "inventory.h"
#include "log.h"
#include "names.h"
#include "policy.h"

#ifndef VFIOD_VERSION
#define VFIOD_VERSION "0.1.0"
#endif

#define DEFAULT_POLICY "/etc/vfiod/vfiod.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vfiod [OPTIONS] --inventory\n"
		"\n"
		"vfiod owns a host's passthrough devices. This version provides the\n"
		"inventory: every PCI device, its IOMMU group and a verdict on whether\n"
		"it may be handed out. The daemon mode arrives with the control plane.\n"
		"\n"
		"  --inventory        print the inventory as JSON and exit\n"
		"  --sysroot DIR      read /sys, /proc, /lib/modules under DIR (default /)\n"
		"  --policy FILE      policy file (default " DEFAULT_POLICY " when it exists)\n"
		"  --pci-ids FILE     pci.ids database for names (default: libpci's)\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n");
}

static int print_inventory(const char *sysroot, const struct policy *pol,
			   const char *ids)
{
	struct hostfs h = { .rootfd = -1 };
	struct inventory inv;
	struct pci_names *names;
	struct json_object *j;
	struct vf_err e = { 0 };
	int rc = 0;

	if (hostfs_init(&h, sysroot, &e) < 0) {
		vf_log(LOG_ERR, "%s", e.msg);
		return 1;
	}
	names = names_open(ids);
	if (inventory_gather(&inv, &h, pol, names, &e) < 0) {
		vf_log(LOG_ERR, "%s", e.msg);
		rc = 1;
	} else {
		j = inventory_to_json(&inv);
		if (puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
		    fflush(stdout) != 0) {
			vf_log(LOG_ERR, "cannot write the inventory: %m");
			rc = 1;
		}
		json_object_put(j);
		inventory_free(&inv);
	}
	names_close(names);
	hostfs_fini(&h);
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_SYSROOT = 256, OPT_POLICY, OPT_IDS, OPT_INVENTORY };
	static const struct option opts[] = {
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "pci-ids", required_argument, NULL, OPT_IDS },
		{ "inventory", no_argument, NULL, OPT_INVENTORY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sysroot = "/", *policy_path = NULL, *ids = NULL;
	bool inventory = false;
	struct policy pol = { 0 };
	struct vf_err e = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SYSROOT: sysroot = optarg; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_IDS: ids = optarg; break;
		case OPT_INVENTORY: inventory = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vfiod %s\n", VFIOD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		vf_log(LOG_ERR, "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if (!inventory) {
		vf_log(LOG_ERR, "nothing to do: only --inventory is available in this version");
		usage(stderr);
		return 2;
	}
	if (!policy_path && access(DEFAULT_POLICY, F_OK) == 0)
		policy_path = DEFAULT_POLICY;
	if (policy_path && policy_load(&pol, policy_path, &e) < 0) {
		vf_log(LOG_ERR, "%s", e.msg);
		return 1;
	}
	rc = print_inventory(sysroot, &pol, ids);
	policy_free(&pol);
	return rc;
}
