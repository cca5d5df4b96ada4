/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy: what the operator says (INI files parsed with libinih), and the
 * lookups the rest of the daemon asks of it. Parsing takes buffers and does
 * no I/O; policy_load() reads a file or a directory of *.conf files.
 * docs/policy.md is the reference of the format.
 *
 * A policy is used zero-initialised: policy_parse()/policy_load() fill in
 * the defaults on first use, policy_init() does it for a daemon that has no
 * policy file, policy_free() returns it to all zeroes.
 */
#ifndef VFIOD_POLICY_H
#define VFIOD_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "parse.h"
#include "util.h"

/* Class and tenant names: 1..32 of [A-Za-z0-9._-], not "." or "..". */
#define POLICY_NAME_MAX 33
/* Group names: 1..32 of [A-Za-z0-9._-] and an optional final '$', no leading '-'. */
#define POLICY_GROUP_MAX 33
/* CPUs 0..POLICY_CPU_MAX-1 may be named (the kernel's largest NR_CPUS). */
#define POLICY_CPU_MAX 8192
/* CPU caps are percent of one CPU: 1..POLICY_CAP_MAX. */
#define POLICY_CAP_MAX (100u * POLICY_CPU_MAX)
#define POLICY_STR_MAX 256

/* Where a section or a value came from: file NULL, line 0 for a default. */
struct policy_src {
	const char *file; /* owned by the policy (struct policy.files) */
	int line;
};

/* [daemon] */
enum policy_daemon_key {
	POLICY_DAEMON_SOCKET_GROUP,
	POLICY_DAEMON_ADMIN_GROUP,
	POLICY_DAEMON_SAMPLE_INTERVAL_MS,
	POLICY_DAEMON_HOUSEKEEPING_CPUS,
	POLICY_DAEMON_LIBVIRT_URI,
	POLICY_DAEMON_CDI_DIR,
	POLICY_DAEMON_HOLDER_QUARANTINE,
	POLICY_DAEMON_NKEYS
};

struct policy_daemon {
	char socket_group[POLICY_GROUP_MAX]; /* "" = none: root only */
	char admin_group[POLICY_GROUP_MAX];  /* "" = none */
	uint32_t sample_interval_ms;         /* 10..10000, default 100 */
	/* housekeeping CPUs as a bitmap; n_housekeeping 0 = every CPU */
	uint64_t housekeeping[POLICY_CPU_MAX / 64];
	size_t n_housekeeping;
	char libvirt_uri[POLICY_STR_MAX];    /* default "qemu:///system" */
	char cdi_dir[POLICY_STR_MAX];        /* absolute, default "/var/run/cdi" */
	/*
	 * A quarantined device held by a process vfiod did not hand it to
	 * (a VMM the platform started): false "leave" (default: it stays
	 * silenced under its holder), true "signal" (SIGTERM to the holder).
	 */
	bool holder_signal;
	struct policy_src src;               /* the [daemon] header, line 0 if none */
	int line[POLICY_DAEMON_NKEYS];       /* where each key was set, 0: default */
};

/* One rule of a class's match. */
enum policy_match_kind {
	POLICY_MATCH_ANY,   /* "*" */
	POLICY_MATCH_CLASS, /* "class=03", "class=0300", "class=030000": prefix of the 6-hex class */
	POLICY_MATCH_ID,    /* "id=10de:2330", "id=10de:*" */
};

struct policy_match {
	enum policy_match_kind kind;
	uint32_t class_prefix; /* the digits given, as a number */
	uint8_t class_digits;  /* 2, 4 or 6 */
	uint16_t vendor, device;
	bool any_device;       /* id=VVVV:* */
};

/* The containment ladder's steps, in the only order they may come. */
enum policy_step {
	POLICY_STEP_THROTTLE,
	POLICY_STEP_SILENCE,
	POLICY_STEP_QUARANTINE,
	POLICY_NSTEPS
};

enum policy_class_key {
	POLICY_CLASS_MATCH,
	POLICY_CLASS_STORM_THRESHOLD,
	POLICY_CLASS_SUSTAIN_MS,
	POLICY_CLASS_CLEAR_THRESHOLD,
	POLICY_CLASS_COOLDOWN_MS,
	POLICY_CLASS_ESCALATION_MS,
	POLICY_CLASS_IRQ_CPU_MAX,
	POLICY_CLASS_VMM_CPU_MAX,
	POLICY_CLASS_STORM_IRQ_CPU_MAX,
	POLICY_CLASS_STORM_VMM_CPU_MAX,
	POLICY_CLASS_LADDER,
	POLICY_CLASS_NKEYS
};

/* [class NAME] */
struct policy_class {
	char name[POLICY_NAME_MAX];
	struct policy_match *match;
	size_t n_match;
	uint64_t storm_threshold;   /* interrupts/s per device, > 0 */
	uint64_t clear_threshold;   /* interrupts/s, < storm_threshold */
	uint32_t sustain_ms;        /* over the threshold this long: a storm */
	uint32_t cooldown_ms;       /* under clear_threshold this long: step down */
	uint32_t escalation_ms;     /* storm still on after this long: next step */
	uint32_t irq_cpu_max;       /* static caps, percent of one CPU */
	uint32_t vmm_cpu_max;
	uint32_t storm_irq_cpu_max; /* during a storm; <= the static caps */
	uint32_t storm_vmm_cpu_max;
	enum policy_step ladder[POLICY_NSTEPS];
	size_t n_ladder;            /* 0: watch only ("ladder = none") */
	struct policy_src src;      /* the section header */
	int line[POLICY_CLASS_NKEYS];
};

/* Used when no class matches a device (docs/policy.md lists its values). */
extern const struct policy_class policy_default_class;

enum policy_tenant_key {
	POLICY_TENANT_UIDS,
	POLICY_TENANT_GIDS,
	POLICY_TENANT_DEVICES,
	POLICY_TENANT_CLASSES,
	POLICY_TENANT_QUOTA,
	POLICY_TENANT_TRUSTED,
	POLICY_TENANT_NKEYS
};

struct policy_tenant_device {
	char bdf[VF_BDF_LEN];
	struct policy_src src;
};

struct policy_tenant_class {
	char name[POLICY_NAME_MAX];
	const struct policy_class *cls; /* resolved once the whole policy is read */
	struct policy_src src;
};

/* [tenant NAME] */
struct policy_tenant {
	char name[POLICY_NAME_MAX];
	uid_t *uids;
	size_t n_uids;
	gid_t *gids;
	size_t n_gids;
	struct policy_tenant_device *devices;
	size_t n_devices;
	struct policy_tenant_class *classes;
	size_t n_classes;
	uint32_t quota; /* devices held at once, default 1 */
	bool trusted;   /* may get container handoffs, default false */
	struct policy_src src;
	int line[POLICY_TENANT_NKEYS];
};

struct policy_reserved {
	char bdf[VF_BDF_LEN];
	char source[256]; /* "file:line", for messages */
};

/* [companions] allow = A B */
struct policy_companion {
	char a[VF_BDF_LEN], b[VF_BDF_LEN];
	struct policy_src src;
};

struct policy {
	bool initialized;
	struct policy_daemon daemon;
	struct policy_class *classes; /* file order: the first match wins */
	size_t n_classes;
	struct policy_tenant *tenants;
	size_t n_tenants;
	struct policy_reserved *reserved;
	size_t n_reserved;
	struct policy_src reserved_src;
	struct policy_companion *companions;
	size_t n_companions;
	struct policy_src companions_src;
	struct vf_strv files; /* the names policy_src.file points into */
};

/* Sets every default (a policy with no file): on a zeroed or freed policy. */
void policy_init(struct policy *p);

/*
 * Parses one INI document into p (zeroed, or fresh from policy_free());
 * `name` is used in errors ("name:line: message", errnum EINVAL).
 */
int policy_parse(struct policy *p, const char *name, const char *text,
		 struct vf_err *e);
/*
 * Reads and parses a file, or every *.conf of a directory in name order
 * into one policy (no section may appear twice, across files either).
 * Not through hostfs: policy is vfiod's own. At most 1 MiB a file.
 */
int policy_load(struct policy *p, const char *path, struct vf_err *e);
void policy_free(struct policy *p);

/*
 * The normalized policy as INI text: every section and key with its
 * effective value, defaults included; parsing it gives the same policy.
 * NULL when out of memory. The caller frees it.
 */
char *policy_format(const struct policy *p);

/*
 * Checks what the parser cannot know against the host the policy runs on:
 * CPU caps above ncpus CPUs and housekeeping CPUs at or above ncpus.
 * Only values set in the policy are checked (defaults fit any host).
 */
int policy_check_host(const struct policy *p, unsigned ncpus, struct vf_err *e);

const struct policy_reserved *policy_reserved_find(const struct policy *p,
						   const char *bdf);

/* The class of a device: the first whose match fits, else the default. Never NULL. */
const struct policy_class *policy_class_for(const struct policy *p, uint16_t vendor,
					    uint16_t device, uint32_t pci_class);
bool policy_class_matches(const struct policy_class *c, uint16_t vendor, uint16_t device,
			  uint32_t pci_class);

const struct policy_tenant *policy_tenant_find(const struct policy *p, const char *name);

/* True when a caller with these credentials may act as the tenant. */
bool policy_tenant_has_peer(const struct policy_tenant *t, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t ngroups);
/*
 * The tenants a caller may act as (its uid listed, or its gid or one of its
 * supplementary groups), in policy order: stores the first `cap` in `out`
 * (which may be NULL when cap is 0) and returns how many there are.
 */
size_t policy_tenant_for_peer(const struct policy *p, uid_t uid, gid_t gid,
			      const gid_t *groups, size_t ngroups,
			      const struct policy_tenant **out, size_t cap);

/* The tenant lists the device, or names the device's class (policy_class_for). */
bool policy_tenant_may_use(const struct policy *p, const struct policy_tenant *t,
			   const char *bdf, uint16_t vendor, uint16_t device,
			   uint32_t pci_class);

/* [companions] pairs the two devices (either order); the same-slot rule is the inventory's. */
bool policy_companion_allowed(const struct policy *p, const char *a, const char *b);

/* True when the CPU is a housekeeping CPU (every CPU when none are named). */
bool policy_housekeeping_cpu(const struct policy *p, unsigned cpu);

const char *policy_step_name(enum policy_step s);

#endif
