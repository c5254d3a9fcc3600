/* SPDX-License-Identifier: MIT */
/* tests/static/linkcheck.c - calls every library the static link carries (docs/build.md 5), so
 * `make check-static` proves they all link statically and work at run time, whether or not an
 * applet uses them yet. Prints one line per library; exit 0 when every call succeeded. */
#include <blkid/blkid.h>
#include <bzlib.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <lzma.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <zlib.h>

#define CHECK(what, cond)                                                \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "linkcheck: %s failed\n", what); \
			return 1;                                        \
		}                                                        \
	} while (0)

int main(void)
{
	static const char xml[] = "<response protocol=\"3.0\"><app appid=\"x\"/></response>";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	/* curl: init, an easy handle with the options our HTTP client sets */
	CHECK("curl_global_init", curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	CURL *c = curl_easy_init();
	CHECK("curl_easy_init", c);
	CHECK("curl http/1.1",
	      curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK);
	curl_easy_cleanup(c);
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	CHECK("curl https", cv && (cv->features & CURL_VERSION_SSL));
	printf("curl %s (%s)\n", cv->version, cv->ssl_version);
	curl_global_cleanup();

	/* libxml2: parse without network */
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "omaha.xml", NULL, XML_PARSE_NONET);
	CHECK("xmlReadMemory", doc);
	CHECK("xml root", strcmp((const char *)xmlDocGetRootElement(doc)->name, "response") == 0);
	xmlFreeDoc(doc);
	printf("libxml2 %s\n", LIBXML_DOTTED_VERSION);

	/* jansson */
	json_error_t jerr;
	json_t *j = json_loads("{\"ignition\":{\"version\":\"3.4.0\"}}", 0, &jerr);
	CHECK("json_loads", j);
	json_decref(j);
	printf("jansson %s\n", jansson_version_str());

	/* openssl: a digest and a TLS context */
	CHECK("EVP_Digest",
	      EVP_Digest("abc", 3, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32);
	SSL_CTX *ssl = SSL_CTX_new(TLS_client_method());
	CHECK("SSL_CTX_new", ssl);
	SSL_CTX_free(ssl);
	printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));

	/* libsystemd */
	sd_id128_t id;
	CHECK("sd_id128_randomize", sd_id128_randomize(&id) >= 0);
	sd_bus *bus = NULL;
	CHECK("sd_bus_new", sd_bus_new(&bus) >= 0);
	bus = sd_bus_unref(bus);
	printf("libsystemd ok\n");

	/* libblkid */
	const char *bv = NULL;
	(void)blkid_get_library_version(&bv, NULL);
	blkid_probe pr = blkid_new_probe();
	CHECK("blkid_new_probe", pr);
	blkid_free_probe(pr);
	printf("blkid %s\n", bv ? bv : "?");

	/* compression: zlib, bzip2, xz */
	char out[256];
	uLongf zlen = sizeof(out);
	CHECK("compress", compress((Bytef *)out, &zlen, (const Bytef *)xml, sizeof(xml)) == Z_OK);
	unsigned blen = sizeof(out);
	char in[sizeof(xml)];
	memcpy(in, xml, sizeof(xml));
	CHECK("BZ2_bzBuffToBuffCompress",
	      BZ2_bzBuffToBuffCompress(out, &blen, in, sizeof(in), 9, 0, 0) == BZ_OK);
	lzma_stream ls = LZMA_STREAM_INIT;
	CHECK("lzma_stream_decoder", lzma_stream_decoder(&ls, UINT64_MAX, 0) == LZMA_OK);
	lzma_end(&ls);
	printf("zlib %s, bzip2 %s, xz %s\n", zlibVersion(), BZ2_bzlibVersion(),
	       lzma_version_string());

	/* protobuf-c */
	printf("protobuf-c %s\n", protobuf_c_version());
	return 0;
}
