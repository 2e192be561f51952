/*
 * Load for an AESM socket (cocoon-quoted or aesmd): N clients each send
 * GetQuoteEx for the same app report in a loop, one connection per request
 * as Intel's client does, for S seconds. Prints one JSON line: quotes/s,
 * p50/p99/max latency in ms and failures. bench/quoted/run.sh drives it.
 *
 * usage: bench_quoted --socket PATH --report FILE [--clients N] [--seconds S]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cocoon/aesm.h"
#include "common/util.h"

#define MAX_SAMPLES (1u << 21)

typedef struct {
	const cocoon_aesm_options *o;
	const uint8_t *report;
	uint32_t quote_size;
	double deadline;
	double *lat_ms;       /* this client's samples */
	size_t n, cap;
	long failures;
	char last_error[256];
} client;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client_main(void *arg)
{
	client *c = arg;
	uint8_t key_id[COCOON_SGX_ATT_KEY_ID_SIZE];

	cocoon_aesm_default_att_key_id(key_id);
	while (now_s() < c->deadline) {
		uint8_t *quote = NULL;
		size_t len = 0;
		uint32_t status;
		double t0 = now_s();

		if (cocoon_aesm_get_quote_ex(&quote, &len, &status, c->o, c->report, key_id, NULL, c->quote_size) != 0) {
			c->failures++;
			snprintf(c->last_error, sizeof(c->last_error), "%.200s", cocoon_error_last()->message);
			continue;
		}
		free(quote);
		if (c->n < c->cap)
			c->lat_ms[c->n++] = (now_s() - t0) * 1000.0;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
		                              { "report", required_argument, NULL, 'r' },
		                              { "clients", required_argument, NULL, 'c' },
		                              { "seconds", required_argument, NULL, 't' },
		                              { NULL, 0, NULL, 0 } };
	cocoon_aesm_options o = COCOON_AESM_OPTIONS_INIT;
	const char *report_path = NULL;
	uint8_t *report = NULL, key_id[COCOON_SGX_ATT_KEY_ID_SIZE];
	size_t report_len = 0, total = 0, k = 0;
	uint32_t status, size;
	int clients = 1, c;
	double seconds = 3, start, elapsed, *all;
	long failures = 0;
	pthread_t *threads;
	client *cl;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			o.socket_path = optarg;
		else if (c == 'r')
			report_path = optarg;
		else if (c == 'c')
			clients = atoi(optarg);
		else if (c == 't')
			seconds = atof(optarg);
		else
			return 2;
	}
	if (!report_path || clients < 1 || clients > 1024 || seconds <= 0) {
		fprintf(stderr, "usage: bench_quoted --socket PATH --report FILE [--clients 1..1024] [--seconds S]\n");
		return 2;
	}
	if (cocoon_file_read(&report, &report_len, report_path) != 0 || report_len != COCOON_SGX_REPORT_SIZE_FULL) {
		fprintf(stderr, "bench_quoted: %s is not a 432-byte report\n", report_path);
		return 2;
	}
	cocoon_aesm_default_att_key_id(key_id);
	if (cocoon_aesm_get_quote_size_ex(&size, &status, &o, key_id) != 0) {
		fprintf(stderr, "bench_quoted: %s\n", cocoon_error_last()->message);
		return 1;
	}
	threads = calloc((size_t)clients, sizeof(*threads));
	cl = calloc((size_t)clients, sizeof(*cl));
	if (!threads || !cl)
		return 1;
	start = now_s();
	for (int i = 0; i < clients; i++) {
		cl[i].o = &o;
		cl[i].report = report;
		cl[i].quote_size = size;
		cl[i].deadline = start + seconds;
		cl[i].cap = MAX_SAMPLES / (size_t)clients;
		if (!(cl[i].lat_ms = malloc(cl[i].cap * sizeof(double))) ||
		    pthread_create(&threads[i], NULL, client_main, &cl[i]) != 0)
			return 1;
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(threads[i], NULL);
		total += cl[i].n;
		failures += cl[i].failures;
	}
	elapsed = now_s() - start;
	if (!(all = malloc((total ? total : 1) * sizeof(double))))
		return 1;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k, cl[i].lat_ms, cl[i].n * sizeof(double));
		k += cl[i].n;
	}
	qsort(all, total, sizeof(double), cmp_double);
	printf("{\"clients\":%d,\"seconds\":%.2f,\"quotes\":%zu,\"quotes_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"failures\":%ld}\n",
	       clients, elapsed, total, (double)total / elapsed, total ? all[total / 2] : 0.0,
	       total ? all[(size_t)((double)(total - 1) * 0.99)] : 0.0, total ? all[total - 1] : 0.0, failures);
	for (int i = 0; i < clients && failures; i++)
		if (cl[i].failures) {
			fprintf(stderr, "bench_quoted: client %d: %ld failures, last: %s\n", i, cl[i].failures,
			        cl[i].last_error);
			break;
		}
	for (int i = 0; i < clients; i++)
		free(cl[i].lat_ms);
	free(all);
	free(cl);
	free(threads);
	free(report);
	return failures ? 1 : 0;
}
