// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt domain XML as vfiod writes and reads it (domxml.c, pure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "domxml.h"

/* A domain as libvirt 9.0 prints it: 4 root ports, two of them taken. */
static const char *const domain_xml =
	"<domain type='qemu' id='1'>\n"
	"  <name>t1</name>\n"
	"  <devices>\n"
	"    <controller type='pci' index='0' model='pcie-root'><alias name='pcie.0'/></controller>\n"
	"    <controller type='pci' index='1' model='pcie-root-port'>\n"
	"      <model name='pcie-root-port'/><target chassis='1' port='0x10'/>\n"
	"      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>\n"
	"    </controller>\n"
	"    <controller type='pci' index='3' model='pcie-root-port'>\n"
	"      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x2'/>\n"
	"    </controller>\n"
	"    <controller type='pci' index='2' model='pcie-root-port'>\n"
	"      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x1'/>\n"
	"    </controller>\n"
	"    <controller type='pci' index='4' model='pcie-root-port'>\n"
	"      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x3'/>\n"
	"    </controller>\n"
	"    <controller type='pci' index='5' model='pcie-to-pci-bridge'>\n"
	"      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
	"    </controller>\n"
	"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
	"      <source><address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></source>\n"
	"      <alias name='ua-vfiod-0000_00_03_0'/>\n"
	"      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
	"    </hostdev>\n"
	"    <memballoon model='none'/>\n"
	"  </devices>\n"
	"</domain>\n";

static void test_alias(void **state)
{
	char a[DOMXML_ALIAS_LEN];

	(void)state;
	domxml_alias("0000:3b:00.1", a);
	assert_string_equal(a, "ua-vfiod-0000_3b_00_1");
	/* libvirt's user aliases: "ua-" then [A-Za-z0-9_-] */
	for (const char *p = a + 3; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			    *p == '-');
}

/* The hostdev element, parsed back: an attribute of the first node an XPath finds. */
static char *attr_at(xmlDocPtr doc, const char *expr, const char *name)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *r = NULL;

	if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
		xmlChar *v = xmlGetProp(o->nodesetval->nodeTab[0], BAD_CAST name);

		r = v ? strdup((const char *)v) : NULL;
		xmlFree(v);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return r;
}

static void expect_attr(xmlDocPtr doc, const char *expr, const char *name, const char *want)
{
	char *v = attr_at(doc, expr, name);

	if (!want) {
		assert_null(v);
		return;
	}
	if (!v)
		fail_msg("%s/@%s missing", expr, name);
	assert_string_equal(v, want);
	free(v);
}

static void test_hostdev(void **state)
{
	struct vf_bdf host = { 0x0001, 0x3b, 0x1f, 7 }, guest = { 0, 2, 0, 0 };
	char *x;
	xmlDocPtr doc;

	(void)state;
	x = domxml_hostdev(&host, &guest);
	doc = xmlReadMemory(x, (int)strlen(x), "h.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	/* vfiod binds; libvirt must not */
	expect_attr(doc, "/hostdev", "mode", "subsystem");
	expect_attr(doc, "/hostdev", "type", "pci");
	expect_attr(doc, "/hostdev", "managed", "no");
	expect_attr(doc, "/hostdev/source/address", "domain", "0x0001");
	expect_attr(doc, "/hostdev/source/address", "bus", "0x3b");
	expect_attr(doc, "/hostdev/source/address", "slot", "0x1f");
	expect_attr(doc, "/hostdev/source/address", "function", "0x7");
	expect_attr(doc, "/hostdev/alias", "name", "ua-vfiod-0001_3b_1f_7");
	expect_attr(doc, "/hostdev/address", "type", "pci");
	expect_attr(doc, "/hostdev/address", "bus", "0x02");
	expect_attr(doc, "/hostdev/address", "slot", "0x00");
	xmlFreeDoc(doc);
	free(x);

	/* no guest address: libvirt picks one */
	x = domxml_hostdev(&host, NULL);
	doc = xmlReadMemory(x, (int)strlen(x), "h.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	expect_attr(doc, "/hostdev/address", "type", NULL);
	expect_attr(doc, "/hostdev/source/address", "bus", "0x3b");
	xmlFreeDoc(doc);
	free(x);
}

static void test_free_ports(void **state)
{
	unsigned idx[8];
	struct vf_err e = { 0 };

	(void)state;
	/* 1 holds the hostdev, 3 the bridge: 2 and 4 are free, in order */
	assert_int_equal(domxml_free_ports(domain_xml, idx, 8, &e), 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 4);
	/* at most max */
	assert_int_equal(domxml_free_ports(domain_xml, idx, 1, &e), 1);
	assert_int_equal(idx[0], 2);
	/* no root ports at all */
	assert_int_equal(domxml_free_ports("<domain><devices/></domain>", idx, 8, &e), 0);
	/* a port with a broken index is never chosen */
	assert_int_equal(domxml_free_ports("<domain><devices><controller type='pci' index='x' "
					   "model='pcie-root-port'/><controller type='pci' "
					   "index='7' model='pcie-root-port'/></devices></domain>",
					   idx, 8, &e),
			 1);
	assert_int_equal(idx[0], 7);
	/* a port listed twice is one port (found by fuzz_domxml); with a short
	 * array, the lowest free ports, whatever order the document has */
	assert_int_equal(domxml_free_ports("<domain><devices>"
					   "<controller type='pci' index='9' model='pcie-root-port'/>"
					   "<controller type='pci' index='6' model='pcie-root-port'/>"
					   "<controller type='pci' index='9' model='pcie-root-port'/>"
					   "<controller type='pci' index='5' model='pcie-root-port'/>"
					   "</devices></domain>",
					   idx, 8, &e),
			 3);
	assert_int_equal(idx[0], 5);
	assert_int_equal(idx[1], 6);
	assert_int_equal(idx[2], 9);
	assert_int_equal(domxml_free_ports("<domain><devices>"
					   "<controller type='pci' index='9' model='pcie-root-port'/>"
					   "<controller type='pci' index='6' model='pcie-root-port'/>"
					   "<controller type='pci' index='5' model='pcie-root-port'/>"
					   "</devices></domain>",
					   idx, 2, &e),
			 2);
	assert_int_equal(idx[0], 5);
	assert_int_equal(idx[1], 6);
}

static void test_has_hostdev(void **state)
{
	struct vf_bdf b = { 0, 0, 3, 0 };
	struct vf_err e = { 0 };

	(void)state;
	assert_int_equal(domxml_has_hostdev(domain_xml, &b, &e), 1);
	b.fn = 1;
	assert_int_equal(domxml_has_hostdev(domain_xml, &b, &e), 0);
	b.fn = 0;
	b.domain = 1;
	assert_int_equal(domxml_has_hostdev(domain_xml, &b, &e), 0);
	/* domain attribute left out: domain 0 */
	b.domain = 0;
	assert_int_equal(domxml_has_hostdev("<domain><devices><hostdev mode='subsystem' type='pci'>"
					    "<source><address bus='0' slot='3' function='0'/>"
					    "</source></hostdev></devices></domain>",
					    &b, &e),
			 1);
	/* a USB hostdev is not it */
	assert_int_equal(domxml_has_hostdev("<domain><devices><hostdev mode='subsystem' type='usb'>"
					    "<source><address bus='0' slot='3' function='0'/>"
					    "</source></hostdev></devices></domain>",
					    &b, &e),
			 0);
}

static void test_bad_documents(void **state)
{
	static const char *const bad[] = {
		"", "not xml", "<domain>", "<network><devices/></network>",
		"<domain><devices></domain>",
	};
	struct vf_bdf b = { 0, 0, 3, 0 };
	unsigned idx[4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vf_err e = { 0 };

		assert_int_equal(domxml_free_ports(bad[i], idx, 4, &e), -1);
		assert_non_null(strstr(e.msg, "not a libvirt domain"));
		memset(&e, 0, sizeof(e));
		assert_int_equal(domxml_has_hostdev(bad[i], &b, &e), -1);
	}
}

/* A document with a DTD (entities, external or not) is refused whole: libvirt never writes one. */
static void test_no_entities(void **state)
{
	static const char *const xxe =
		"<?xml version='1.0'?>\n"
		"<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/hostname'>"
		"<!ENTITY b '0x01'>]>\n"
		"<domain><devices>"
		"<controller type='pci' index='1' model='pcie-root-port'/>"
		"<hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='&b;' slot='3' function='0'/></source></hostdev>"
		"<interface type='x'>&x;<address type='pci' bus='&b;'/></interface>"
		"</devices></domain>";
	struct vf_bdf b = { 0, 1, 3, 0 };
	struct vf_err e = { 0 };
	unsigned idx[4];

	(void)state;
	assert_int_equal(domxml_has_hostdev(xxe, &b, &e), -1);
	assert_non_null(strstr(e.msg, "DTD"));
	assert_int_equal(domxml_free_ports(xxe, idx, 4, &e), -1);
}

static void test_names(void **state)
{
	static const char *const good[] = { "t1", "guest-1.a", "A_b:c+d", "x",
					    "0123456789012345678901234567890123456789012345678901234567890123" };
	static const char *const badn[] = { "", "-x", ".x", "a/b", "a b", "a'b", "a\"b", "a<b",
					    "a\nb", "a\\b", "é",
					    "01234567890123456789012345678901234567890123456789012345678901234" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(domxml_name_ok(good[i]));
	for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++)
		if (domxml_name_ok(badn[i]))
			fail_msg("accepted \"%s\"", badn[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias),       cmocka_unit_test(test_hostdev),
		cmocka_unit_test(test_free_ports),  cmocka_unit_test(test_has_hostdev),
		cmocka_unit_test(test_bad_documents), cmocka_unit_test(test_no_entities),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
