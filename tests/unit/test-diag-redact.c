/* SPDX-License-Identifier: MIT */
/* tests/unit/test-diag-redact.c - every redaction rule of docs/diag.md §5 on positive and
 * negative samples. */
#include <string.h>

#include "util/buf.h"
#include "diag/redact.h"
#include "tap.h"

struct sample {
	const char *in;
	const char *want;
	unsigned count;
};

static bool run_samples(const struct sample *s, size_t n)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct diag_redact st = {};
		struct dbuf out = {};
		unsigned c = diag_redact_text(&st, s[i].in, strlen(s[i].in), &out);
		const char *got = out.p ? out.p : "";
		if (strcmp(got, s[i].want) != 0 || c != s[i].count) {
			printf("# in:   %s\n# want: %s (%u)\n# got:  %s (%u)\n", s[i].in, s[i].want,
			       s[i].count, got, c);
			ok = false;
		}
		dbuf_release(&out);
	}
	return ok;
}
#define RUN(arr) ASSERT_TRUE(run_samples(arr, sizeof(arr) / sizeof(arr[0])))

TEST(private_keys)
{
	static const struct sample s[] = {
		{ "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA==\n"
		  "-----END OPENSSH PRIVATE KEY-----\nz\n",
		  "a\n[REDACTED private key]\nz\n", 1 },
		{ "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES,00\n\n"
		  "MIIEow==\n-----END RSA PRIVATE KEY-----\n",
		  "[REDACTED private key]\n", 1 },
		/* pasted into a unit's Environment= with \n escapes, on one line */
		{ "Environment=\"TLS=-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE "
		  "KEY-----\" X=1\n",
		  "Environment=\"TLS=[REDACTED private key]\" X=1\n", 1 },
		/* a block without its END: body lines dropped, prose after it kept */
		{ "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\nsystemd[1]: Started foo.\n",
		  "[REDACTED private key]\nsystemd[1]: Started foo.\n", 1 },
		/* journalctl lines: the key's body follows a log prefix */
		{ "Oct 16 07:33:27 node app[107]: -----BEGIN PRIVATE KEY-----\n"
		  "Oct 16 07:33:28 node app[108]: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
		  "Oct 16 07:33:29 node app[109]: -----END PRIVATE KEY-----\n"
		  "Oct 16 07:33:30 node app[110]: done\n",
		  "Oct 16 07:33:27 node app[107]: [REDACTED private key]\n"
		  "Oct 16 07:33:30 node app[110]: done\n", 1 },
		/* certificates and public keys stay */
		{ "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0 },
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG core@host\n",
		  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG core@host\n", 0 },
	};
	RUN(s);
}

TEST(assignments)
{
	static const struct sample s[] = {
		{ "DOWNLOAD_PASSWORD=hunter2\n", "DOWNLOAD_PASSWORD=[REDACTED]\n", 1 },
		{ "PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n",
		  "PrivateKey = [REDACTED]\n", 1 },
		{ "PresharedKey=/UwcSPg38hW/D9Y3tcS1FOV0K1wuURMbS0sesJEP5ak=\n",
		  "PresharedKey=[REDACTED]\n", 1 },
		{ "  password: s3cr3t # yaml\n", "  password: [REDACTED]\n", 1 },
		{ "{\"api_key\": \"abc\\\"def\", \"n\": 1}\n", "{\"api_key\": \"[REDACTED]\", \"n\": 1}\n",
		  1 },
		{ "Environment=\"DB_PASSWORD=hunter2\" \"MODE=prod\"\n",
		  "Environment=\"DB_PASSWORD=[REDACTED]\" \"MODE=prod\"\n", 1 },
		{ "ExecStart=/usr/bin/docker run -e API_TOKEN=tok123 nginx\n",
		  "ExecStart=/usr/bin/docker run -e API_TOKEN=[REDACTED]\n", 1 },
		{ "[unrelated]\nkey=value\n", "[unrelated]\nkey=[REDACTED]\n", 1 },
		{ "auth: xyz\n", "auth: [REDACTED]\n", 1 },
		{ "client_secret abcdef\n", "client_secret [REDACTED]\n", 1 },
		{ "Token expired for user core\n", "Token expired for user core\n", 0 },
		{ "X-aws-ec2-metadata-token: AQAEAFFw==\n", "X-aws-ec2-metadata-token: [REDACTED]\n",
		  1 },
		{ "{\"name\":\"X-Auth-Token\",\"value\":\"s3cr3t\"}\n",
		  "{\"name\":\"X-Auth-Token\",\"value\":\"[REDACTED]\"}\n", 1 },
		{ "{\"name\":\"Accept\",\"value\":\"text/html\"}\n",
		  "{\"name\":\"Accept\",\"value\":\"text/html\"}\n", 0 },
		/* prose that mentions the words stays */
		{ "the token was refreshed, see the password policy\n",
		  "the token was refreshed, see the password policy\n", 0 },
		{ "monkey=banana keyboard=us\n", "monkey=banana keyboard=us\n", 0 },
		{ "if a == b\n", "if a == b\n", 0 },
	};
	RUN(s);
}

TEST(urls)
{
	static const struct sample s[] = {
		{ "SERVER=https://user:pw@updates.example/v1/update/\n",
		  "SERVER=https://[REDACTED]@updates.example/v1/update/\n", 1 },
		{ "LOCKSMITHD_ENDPOINT=http://ghp_token@10.0.0.5:2379,http://10.0.0.6:2379\n",
		  "LOCKSMITHD_ENDPOINT=http://[REDACTED]@10.0.0.5:2379,http://10.0.0.6:2379\n", 1 },
		{ "ignition.config.url=https://host/cfg?token=abc123&v=1 console=ttyS0\n",
		  "ignition.config.url=https://host/cfg?token=[REDACTED]&v=1 console=ttyS0\n", 1 },
		{ "GET https://acct.blob.core.windows.net/c/b?sv=2020&sig=Zm9v%3D&se=1\n",
		  "GET https://acct.blob.core.windows.net/c/b?sv=2020&sig=[REDACTED]&se=1\n", 1 },
		{ "s3://b/k?X-Amz-Credential=AKIA&X-Amz-Signature=abcd&x=y\n",
		  "s3://b/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&x=y\n", 2 },
		{ "see https://flatcar.org/docs?page=2 and mailto me@x\n",
		  "see https://flatcar.org/docs?page=2 and mailto me@x\n", 0 },
		{ "git@github.com:flatcar/scripts\n", "git@github.com:flatcar/scripts\n", 0 },
	};
	RUN(s);
}

TEST(http_auth)
{
	static const struct sample s[] = {
		{ "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\n", "Authorization: [REDACTED]\n",
		  1 },
		{ "curl -H 'Proxy-Authorization: Basic dXNlcjpwYXNz' http://x/\n",
		  "curl -H 'Proxy-Authorization: [REDACTED]' http://x/\n", 1 },
		{ "token sent as Bearer abcdefgh12345678 to server\n",
		  "token sent as Bearer [REDACTED] to server\n", 1 },
		{ "Basic setup completed\n", "Basic setup completed\n", 0 },
		{ "use Basic authentication\n", "use Basic authentication\n", 0 },
	};
	RUN(s);
}

TEST(hashes)
{
	static const struct sample s[] = {
		{ "useradd: user core: $6$rounds=4096$saltsalt$P3q0xkUjH2bNp/OoZ9\n",
		  "useradd: user core: [REDACTED hash]\n", 1 },
		{ "core:$y$j9T$Zm9vYmFy$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo:19000::\n",
		  "core:[REDACTED hash]:19000::\n", 1 },
		{ "hash $2b$12$abcdefghijklmnopqrstuv and $argon2id$v=19$m=65536$c2FsdA$aGFzaA\n",
		  "hash [REDACTED hash] and [REDACTED hash]\n", 2 },
		{ "password_pbkdf2 root grub.pbkdf2.sha512.10000.ABCDEF0123.456789ABCDEF\n",
		  "password_pbkdf2 root [REDACTED hash]\n", 1 },
		{ "costs $5 or $1 each\n", "costs $5 or $1 each\n", 0 },
		/* shadow(5) lines: the hash field whatever its format, lock markers kept */
		{ "core:plainsecret:19000:0:99999:7:::\n", "core:[REDACTED hash]:19000:0:99999:7:::\n",
		  1 },
		{ "bin:*:19000:0:99999:7:::\nnobody:!:19000::::::\n",
		  "bin:*:19000:0:99999:7:::\nnobody:!:19000::::::\n", 0 },
	};
	RUN(s);
}

TEST(data_urls)
{
	static const struct sample s[] = {
		{ "\"source\": \"data:;base64,H4sIAAAAAAAC/0rLz1dIyi8tSS1SSM7PS0ktyczPUwhJLS5RBAQAAP//"
		  "k2l0vxYAAAA=\"\n",
		  "\"source\": \"data:[REDACTED 76 bytes]\"\n", 1 },
		{ "\"source\": \"data:,hello%20world\"\n", "\"source\": \"data:,hello%20world\"\n", 0 },
		{ "metadata:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  "metadata:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  0 },
	};
	RUN(s);
}

TEST(no_double_count)
{
	/* a second pass over redacted text changes nothing */
	static const struct sample s[] = {
		{ "PASSWORD=[REDACTED] https://[REDACTED]@h/?token=[REDACTED]\n",
		  "PASSWORD=[REDACTED] https://[REDACTED]@h/?token=[REDACTED]\n", 0 },
		{ "[REDACTED private key]\n", "[REDACTED private key]\n", 0 },
	};
	RUN(s);
}

TEST(secret_names)
{
	ASSERT_TRUE(diag_secret_name("LOCKSMITHD_ETCD_PASSWORD", 24));
	ASSERT_TRUE(diag_secret_name("Key", 3));
	ASSERT_TRUE(diag_secret_name("AUTH", 4));
	ASSERT_FALSE(diag_secret_name("author", 6));
	ASSERT_FALSE(diag_secret_name("keyboard", 8));
	ASSERT_FALSE(diag_secret_name("SERVER", 6));
}
