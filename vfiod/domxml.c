// SPDX-License-Identifier: GPL-2.0-or-later
#include "domxml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "util.h"

void domxml_init(void)
{
	xmlInitParser();
}

void domxml_alias(const char *bdf, char buf[DOMXML_ALIAS_LEN])
{
	snprintf(buf, DOMXML_ALIAS_LEN, "ua-vfiod-%s", bdf);
	for (char *p = buf; *p; p++)
		if (*p == ':' || *p == '.')
			*p = '_';
}

char *domxml_hostdev(const struct vf_bdf *host, const struct vf_bdf *guest)
{
	char bdf[VF_BDF_LEN], alias[DOMXML_ALIAS_LEN], where[160] = "";
	char *out;

	vf_bdf_format(host, bdf);
	domxml_alias(bdf, alias);
	if (guest)
		snprintf(where, sizeof(where),
			 "  <address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n",
			 guest->domain, guest->bus, guest->dev, guest->fn);
	if (asprintf(&out,
		     "<hostdev mode='subsystem' type='pci' managed='no'>\n"
		     "  <source>\n"
		     "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
		     "  </source>\n"
		     "  <alias name='%s'/>\n"
		     "%s"
		     "</hostdev>\n",
		     host->domain, host->bus, host->dev, host->fn, alias, where) < 0)
		abort();
	return out;
}

/* A parsed domain document with an XPath context; NULL with `e` set when it is not one. */
static xmlXPathContextPtr doc_open(const char *xml, struct vf_err *e)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	xmlNodePtr root;

	doc = xmlReadMemory(xml, (int)strnlen(xml, 1 << 26), "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || xmlStrcmp(root->name, BAD_CAST "domain") != 0) {
		xmlFreeDoc(doc);
		vf_err_set(e, EINVAL, "not a libvirt domain description");
		return NULL;
	}
	/* libvirt never writes a DTD; entities would let a document say one thing and mean another */
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		vf_err_set(e, EINVAL, "not a libvirt domain description (it declares a DTD)");
		return NULL;
	}
	ctx = xmlXPathNewContext(doc);
	if (!ctx)
		abort();
	return ctx;
}

static void doc_close(xmlXPathContextPtr ctx)
{
	if (!ctx)
		return;
	xmlFreeDoc(ctx->doc);
	xmlXPathFreeContext(ctx);
}

/* A numeric attribute ("0x03", "3"); -1 when missing or not a number in [0, max]. */
static long num_attr(xmlNodePtr n, const char *name, long max)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	char *end;
	long r;

	if (!v)
		return -1;
	errno = 0;
	r = strtol((const char *)v, &end, 0);
	if (errno || end == (char *)v || *end || r < 0 || r > max)
		r = -1;
	xmlFree(v);
	return r;
}

static xmlXPathObjectPtr eval(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);

	if (!o)
		abort();
	return o;
}

static size_t nodes_n(xmlXPathObjectPtr o)
{
	return o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
}

int domxml_free_ports(const char *xml, unsigned *idx, size_t max, struct vf_err *e)
{
	xmlXPathContextPtr ctx = doc_open(xml, e);
	xmlXPathObjectPtr ports, used;
	bool busy[256] = { false }, free_port[256] = { false };
	size_t n = 0;

	if (!ctx)
		return -1;
	/* every PCI address a device (or a controller) of the domain occupies */
	used = eval(ctx, "/domain/devices/*/address[@type='pci']");
	for (size_t i = 0; i < nodes_n(used); i++) {
		long bus = num_attr(used->nodesetval->nodeTab[i], "bus", 255);

		if (bus >= 0)
			busy[bus] = true;
	}
	ports = eval(ctx, "/domain/devices/controller[@type='pci'][@model='pcie-root-port']");
	for (size_t i = 0; i < nodes_n(ports); i++) {
		long index = num_attr(ports->nodesetval->nodeTab[i], "index", 255);

		if (index > 0 && !busy[index])
			free_port[index] = true;
	}
	xmlXPathFreeObject(used);
	xmlXPathFreeObject(ports);
	doc_close(ctx);
	/* controllers come in index order from libvirt, but not from every
	 * writer, and an index may be listed twice: each port once, lowest first */
	for (unsigned i = 1; i < 256 && n < max; i++)
		if (free_port[i])
			idx[n++] = i;
	return (int)n;
}

int domxml_has_hostdev(const char *xml, const struct vf_bdf *host, struct vf_err *e)
{
	xmlXPathContextPtr ctx = doc_open(xml, e);
	xmlXPathObjectPtr src;
	int found = 0;

	if (!ctx)
		return -1;
	src = eval(ctx, "/domain/devices/hostdev[@mode='subsystem'][@type='pci']/source/address");
	for (size_t i = 0; i < nodes_n(src) && !found; i++) {
		xmlNodePtr a = src->nodesetval->nodeTab[i];
		long dom = num_attr(a, "domain", 0xffff);

		/* libvirt omits domain 0 in places */
		if (dom < 0)
			dom = 0;
		found = dom == host->domain && num_attr(a, "bus", 255) == host->bus &&
			num_attr(a, "slot", 31) == host->dev && num_attr(a, "function", 7) == host->fn;
	}
	xmlXPathFreeObject(src);
	doc_close(ctx);
	return found;
}

bool domxml_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '-' || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.:+-", c)))
			return false;
	}
	return true;
}
