// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiod: option parsing and the top-level modes. Only main prints and exits. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "hostfs.h"
#include "inventory.h"
#include "log.h"
#include "names.h"
#include "parse.h"
#include "policy.h"

#ifndef VFIOD_VERSION
#define VFIOD_VERSION "0.1.0"
#endif

#define DEFAULT_POLICY "/etc/vfiod"
#define DEFAULT_STATE_DIR "/var/lib/vfiod"
#define DEFAULT_SOCKET "/run/vfiod/vfiod.sock"
#define DEFAULT_UDEV_RULES "/etc/udev/rules.d/70-vfiod.rules"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vfiod [OPTIONS]              run the daemon (foreground)\n"
		"       vfiod [OPTIONS] --inventory  print the inventory as JSON and exit\n"
		"\n"
		"vfiod owns a host's passthrough devices: it finds them and their IOMMU\n"
		"groups, judges whether each may be handed out, and binds them to vfio-pci\n"
		"and back, verified, rolled back on failure, recorded across crashes.\n"
		"\n"
		"  --inventory        print the inventory as JSON and exit (writes nothing)\n"
		"  --sysroot DIR      read /sys, /proc, /dev, /lib/modules under DIR (default /)\n"
		"  --policy PATH      policy file, or directory of *.conf files (default\n"
		"                     " DEFAULT_POLICY " when it exists)\n"
		"  --check-config     print the normalized policy and exit (1 on an error)\n"
		"  --pci-ids FILE     pci.ids database for names (default: libpci's)\n"
		"  --state-dir DIR    the state store (default " DEFAULT_STATE_DIR ")\n"
		"  --socket PATH      the control socket (default " DEFAULT_SOCKET ")\n"
		"  --udev-rules FILE  rule file that keeps pooled devices off host drivers at\n"
		"                     boot (default " DEFAULT_UDEV_RULES "; \"none\" to\n"
		"                     disable; none by default under --sysroot)\n"
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
	enum { OPT_SYSROOT = 256, OPT_POLICY, OPT_IDS, OPT_INVENTORY, OPT_STATE, OPT_SOCKET,
	       OPT_UDEV, OPT_FAULT, OPT_CHECK };
	static const struct option opts[] = {
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "udev-rules", required_argument, NULL, OPT_UDEV },
		/* testing: die right after step N of the next transition */
		{ "fault-step", required_argument, NULL, OPT_FAULT },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "pci-ids", required_argument, NULL, OPT_IDS },
		{ "inventory", no_argument, NULL, OPT_INVENTORY },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sysroot = "/", *policy_path = NULL, *ids = NULL, *udev = NULL;
	struct daemon_opts d = { .state_dir = DEFAULT_STATE_DIR, .socket = DEFAULT_SOCKET };
	bool inventory = false, check = false;
	uint64_t fault;
	struct policy pol = { 0 };
	struct vf_err e = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SYSROOT: sysroot = optarg; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_IDS: ids = optarg; break;
		case OPT_INVENTORY: inventory = true; break;
		case OPT_CHECK: check = true; break;
		case OPT_STATE: d.state_dir = optarg; break;
		case OPT_SOCKET: d.socket = optarg; break;
		case OPT_UDEV: udev = optarg; break;
		case OPT_FAULT:
			if (vf_parse_u64(optarg, 10, 1000, &fault) < 0) {
				vf_log(LOG_ERR, "--fault-step: not a step number: %s", optarg);
				return 2;
			}
			d.fault_step = (int)fault;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vfiod %s\n", VFIOD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		vf_log(LOG_ERR, "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if (!policy_path && access(DEFAULT_POLICY, F_OK) == 0)
		policy_path = DEFAULT_POLICY;
	policy_init(&pol);
	/* the daemon loads its own, checked against this host (and again on
	 * SIGHUP): the host checks (CPU counts) are not made here, a policy
	 * may be checked anywhere before it is deployed */
	if (policy_path && (check || inventory)) {
		policy_free(&pol);
		if (policy_load(&pol, policy_path, &e) < 0) {
			vf_log(LOG_ERR, "%s", e.msg);
			policy_free(&pol);
			return 1;
		}
	}
	/* a names file that cannot be read: say so once, and name with libpci's own */
	if (ids) {
		int fd = open(ids, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd < 0) {
			vf_log(LOG_WARNING, "--pci-ids %s: %m; using libpci's default names", ids);
			ids = NULL;
		} else if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
			vf_log(LOG_WARNING, "--pci-ids %s: not a file; using libpci's default names", ids);
			ids = NULL;
		}
		if (fd >= 0)
			close(fd);
	}
	if (check) {
		char *text = policy_format(&pol);

		policy_free(&pol);
		if (!text || fputs(text, stdout) < 0 || fflush(stdout) != 0) {
			vf_log(LOG_ERR, "cannot print the policy");
			free(text);
			return 1;
		}
		free(text);
		return 0;
	}
	if (inventory) {
		rc = print_inventory(sysroot, &pol, ids);
		policy_free(&pol);
		return rc;
	}
	policy_free(&pol);
	if (!udev)
		udev = strcmp(sysroot, "/") == 0 ? DEFAULT_UDEV_RULES : "none";
	d.sysroot = sysroot;
	d.policy = policy_path;
	d.pci_ids = ids;
	d.udev_rules = strcmp(udev, "none") == 0 ? NULL : udev;
	return daemon_run(&d);
}
