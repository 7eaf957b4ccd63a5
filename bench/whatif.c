/*
 * whatif.c - LD_PRELOAD shim to try libcurl settings on the unchanged
 * responder (bench/run --whatif; never for production):
 *   WHATIF_MAXCONNECTS=N   CURLMOPT_MAXCONNECTS on every multi handle
 *                          (libcurl 7.88 caps a shared connection cache
 *                          at 4 x the easy handles of the returning multi)
 *   WHATIF_BUFFERSIZE=N    CURLOPT_BUFFERSIZE on every easy handle
 *                          (default 16 KiB receive buffer per transfer)
 *
 * Build: cc -O2 -Wall -Wextra -shared -fPIC -o whatif.so whatif.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include <curl/curl.h>

CURLM *
curl_multi_init(void)
{
	static CURLM	*(*real)(void);
	CURLM		*m;
	const char	*s = getenv("WHATIF_MAXCONNECTS");

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "curl_multi_init");
	m = real();
	if (m != NULL && s != NULL)
		curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, atol(s));
	return m;
}

CURL *
curl_easy_init(void)
{
	static CURL	*(*real)(void);
	CURL		*e;
	const char	*s = getenv("WHATIF_BUFFERSIZE");

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "curl_easy_init");
	e = real();
	if (e != NULL && s != NULL)
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, atol(s));
	return e;
}
