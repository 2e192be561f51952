/* Device plugin lifecycle: sockets, registration, health, restarts; see plugin.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "common/util.h"
#include "devid.h"
#include "grpc.h"
#include "loop.h"
#include "metrics_http.h"
#include "nlog.h"
#include "plugin.h"
#include "resource.h"

#define KUBELET_SOCKET "kubelet.sock"
#define MAX_WATCHERS 8
#define MAX_CONNS 16
#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u
#define MIB ((uint64_t)1 << 20)

typedef struct cocoon_plugin plugin;

typedef struct {
	cocoon_res res;
	plugin *p;
	int enabled;
	char path[PATH_MAX];
	cocoon_watch listen;
	/* Identity of the socket we bound; ext4 reuses inode numbers at once, so ctime too. */
	dev_t sock_dev;
	ino_t sock_ino;
	struct timespec sock_ctime;
	cocoon_grpc_server *srv;
	cocoon_grpc_call *reg;
	int registered;
	unsigned backoff_ms, attempts;
	cocoon_timer reg_timer;
	cocoon_grpc_stream *watchers[MAX_WATCHERS];
	size_t nwatchers;
	int healthy;
	char labels[96]; /* resource="..." for this resource's metrics */
	cocoon_metric *m_devices, *m_healthy, *m_registered, *m_allocate, *m_allocate_err, *m_law, *m_reg_ok,
	        *m_reg_fail;
} pres;

struct cocoon_plugin {
	const cocoon_plugin_config *cfg;
	cocoon_loop *loop;
	pres res[COCOON_RES_COUNT];
	char kubelet_sock[PATH_MAX];
	int enclave_node, provision_node;
	cocoon_watch inotify;
	int wd_plugin, wd_dev;
	cocoon_timer health_timer, dir_timer;
	cocoon_watch sig;
	cocoon_metrics *metrics;
	cocoon_metric *m_kubelet_restarts;
	cocoon_mhttp *http;
};

static const char *const method_names[] = {
	"/v1beta1.DevicePlugin/GetDevicePluginOptions", "/v1beta1.DevicePlugin/ListAndWatch",
	"/v1beta1.DevicePlugin/GetPreferredAllocation", "/v1beta1.DevicePlugin/Allocate",
	"/v1beta1.DevicePlugin/PreStartContainer",
};

/* ---- health ---- */

static int is_char_device(const char *root, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

static int res_healthy(const plugin *p, const pres *r)
{
	if (r->res.kind == COCOON_RES_PROVISION)
		return p->enclave_node && p->provision_node;
	return p->enclave_node;
}

static void res_broadcast(pres *r)
{
	cocoon_grpc_msg *m = NULL;

	if (r->nwatchers == 0)
		return;
	if (cocoon_res_list(&m, &r->res, r->healthy, COCOON_GRPC_MAX_MESSAGE) != 0) {
		nlog_error("cannot build the device list", "{s:s,s:s}", "resource", r->res.name, "error",
		           cocoon_error_last()->message);
		return;
	}
	for (size_t i = 0; i < r->nwatchers; i++)
		if (cocoon_grpc_stream_send(r->watchers[i], m, 1) != 0)
			nlog_warn("cannot queue a device list update", "{s:s,s:s}", "resource", r->res.name, "error",
			          cocoon_error_last()->message);
	cocoon_grpc_msg_unref(m);
}

static void health_probe(plugin *p)
{
	int enclave = is_char_device(p->cfg->dev_root, "sgx_enclave");
	int provision = is_char_device(p->cfg->dev_root, "sgx_provision");

	if (enclave != p->enclave_node || provision != p->provision_node) {
		if (enclave && provision)
			nlog_info("SGX device nodes present", "{s:s}", "dev_root", p->cfg->dev_root);
		else
			nlog_warn("SGX device nodes missing; affected devices are Unhealthy", "{s:s,s:b,s:b}", "dev_root",
			          p->cfg->dev_root, "sgx_enclave", enclave, "sgx_provision", provision);
	}
	p->enclave_node = enclave;
	p->provision_node = provision;
	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		pres *r = &p->res[i];
		int h = res_healthy(p, r);
		if (!r->enabled || h == r->healthy)
			continue;
		r->healthy = h;
		cocoon_metric_set(r->m_healthy, h);
		nlog_info("device health changed", "{s:s,s:s,s:I}", "resource", r->res.name, "health",
		          h ? "Healthy" : "Unhealthy", "devices", (json_int_t)r->res.count);
		res_broadcast(r);
	}
}

/* ---- gRPC service ---- */

static void watcher_remove(pres *r, cocoon_grpc_stream *s)
{
	for (size_t i = 0; i < r->nwatchers; i++) {
		if (r->watchers[i] == s) {
			r->watchers[i] = r->watchers[--r->nwatchers];
			return;
		}
	}
}

static void reply_or_fail(pres *r, cocoon_grpc_stream *s, const char *method, int rc, cocoon_grpc_msg *m)
{
	if (rc == 0) {
		if (cocoon_grpc_stream_reply(s, m) != 0)
			cocoon_grpc_stream_finish(s, COCOON_GRPC_INTERNAL, "cannot queue the reply");
	} else {
		int st = cocoon_res_grpc_status(rc);
		nlog_warn("request rejected", "{s:s,s:s,s:s,s:s}", "resource", r->res.name, "method", method, "status",
		          cocoon_grpc_status_name(st), "error", cocoon_error_last()->message);
		cocoon_grpc_stream_finish(s, st, cocoon_error_last()->message);
	}
	cocoon_grpc_msg_unref(m);
}

static void on_list_and_watch(pres *r, cocoon_grpc_stream *s)
{
	cocoon_grpc_msg *m = NULL;

	if (r->nwatchers == MAX_WATCHERS) {
		cocoon_grpc_stream_finish(s, COCOON_GRPC_RESOURCE_EXHAUSTED, "too many ListAndWatch streams open");
		return;
	}
	if (cocoon_res_list(&m, &r->res, r->healthy, COCOON_GRPC_MAX_MESSAGE) != 0) {
		cocoon_grpc_stream_finish(s, COCOON_GRPC_INTERNAL, cocoon_error_last()->message);
		return;
	}
	r->watchers[r->nwatchers++] = s;
	cocoon_metric_inc(r->m_law);
	cocoon_grpc_stream_set_user(s, r);
	nlog_info("ListAndWatch started", "{s:s,s:I,s:I,s:s}", "resource", r->res.name, "devices",
	          (json_int_t)r->res.count, "bytes", (json_int_t)cocoon_grpc_msg_payload_len(m), "health",
	          r->healthy ? "Healthy" : "Unhealthy");
	if (cocoon_grpc_stream_send(s, m, 1) != 0)
		cocoon_grpc_stream_finish(s, COCOON_GRPC_INTERNAL, "cannot queue the device list");
	cocoon_grpc_msg_unref(m);
}

static void on_call(void *ctx, cocoon_grpc_stream *s, const char *method, const uint8_t *msg, size_t len)
{
	pres *r = ctx;
	cocoon_grpc_msg *m = NULL;
	int rc;

	if (strcmp(method, method_names[0]) == 0) {
		rc = cocoon_res_options(&m);
	} else if (strcmp(method, method_names[1]) == 0) {
		on_list_and_watch(r, s);
		return;
	} else if (strcmp(method, method_names[2]) == 0) {
		rc = cocoon_res_preferred(&m, &r->res, msg, len);
	} else if (strcmp(method, method_names[3]) == 0) {
		rc = cocoon_res_allocate(&m, &r->res, r->healthy, msg, len);
		cocoon_metric_inc(r->m_allocate);
		if (rc == 0)
			nlog_debug("allocated", "{s:s}", "resource", r->res.name);
		else
			cocoon_metric_inc(r->m_allocate_err);
	} else if (strcmp(method, method_names[4]) == 0) {
		rc = cocoon_res_prestart(&m, &r->res, msg, len);
	} else {
		char why[200];
		snprintf(why, sizeof(why), "unknown method %.120s", method);
		cocoon_grpc_stream_finish(s, COCOON_GRPC_UNIMPLEMENTED, why);
		return;
	}
	reply_or_fail(r, s, method, rc, m);
}

static void on_closed(void *ctx, cocoon_grpc_stream *s)
{
	pres *r = ctx;

	if (cocoon_grpc_stream_user(s) == r) {
		watcher_remove(r, s);
		nlog_info("ListAndWatch ended", "{s:s}", "resource", r->res.name);
	}
}

static const cocoon_grpc_handler handler = { on_call, on_closed };

/* ---- sockets ---- */

static void on_accept(cocoon_watch *w, uint32_t events)
{
	pres *r = w->ctx;

	(void)events;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				nlog_warn("accept failed", "{s:s,s:s}", "resource", r->res.name, "error", strerror(errno));
			return;
		}
		if (cocoon_grpc_server_adopt(r->srv, fd) != 0)
			nlog_warn("connection refused", "{s:s,s:s}", "resource", r->res.name, "error",
			          cocoon_error_last()->message);
	}
}

/* 1 when r->path is still the socket we bound. */
static int socket_is_ours(const pres *r)
{
	struct stat st;

	return r->listen.fd >= 0 && stat(r->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == r->sock_ino &&
	       st.st_dev == r->sock_dev && st.st_ctim.tv_sec == r->sock_ctime.tv_sec &&
	       st.st_ctim.tv_nsec == r->sock_ctime.tv_nsec;
}

static void listen_close(pres *r)
{
	if (r->listen.fd < 0)
		return;
	cocoon_loop_watch_del(r->p->loop, &r->listen);
	close(r->listen.fd);
	r->listen.fd = -1;
}

/* 1 when something accepts connections on path: another plugin instance. */
static int socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int listen_open(pres *r)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	listen_close(r);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(r->path) >= sizeof(sa.sun_path))
		return cocoon_error_set(COCOON_EINVAL, "socket path %s is longer than %zu bytes; use a shorter --plugin-dir",
		                        r->path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, r->path, strlen(r->path));
	if (unlink(r->path) != 0 && errno != ENOENT)
		return cocoon_error_set(COCOON_EIO, "cannot remove the stale socket %s: %s", r->path, strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cocoon_error_set(COCOON_EIO, "socket: %s", strerror(errno));
	/* Only root (the kubelet) may connect. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, 16) != 0 || stat(r->path, &st) != 0) {
		int e = errno;
		close(fd);
		return cocoon_error_set(COCOON_EIO, "cannot listen on %s: %s", r->path, strerror(e));
	}
	r->sock_dev = st.st_dev;
	r->sock_ino = st.st_ino;
	r->sock_ctime = st.st_ctim;
	r->listen.fd = fd;
	r->listen.fn = on_accept;
	r->listen.ctx = r;
	if ((rc = cocoon_loop_watch_add(r->p->loop, &r->listen, EPOLLIN)) != 0) {
		close(fd);
		r->listen.fd = -1;
		return rc;
	}
	return 0;
}

/* ---- registration ---- */

static void reg_start(pres *r);

static void reg_retry_later(pres *r)
{
	cocoon_loop_timer_arm(r->p->loop, &r->reg_timer, r->backoff_ms);
	r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void on_registered(void *ctx, int status, const char *message, const uint8_t *msg, size_t len)
{
	pres *r = ctx;

	(void)msg;
	(void)len;
	r->reg = NULL;
	if (status == COCOON_GRPC_OK) {
		r->registered = 1;
		cocoon_metric_set(r->m_registered, 1);
		cocoon_metric_inc(r->m_reg_ok);
		r->attempts = 0;
		r->backoff_ms = BACKOFF_MIN_MS;
		nlog_info("registered with the kubelet", "{s:s,s:s,s:I}", "resource", r->res.name, "endpoint",
		          r->res.socket, "devices", (json_int_t)r->res.count);
		return;
	}
	cocoon_metric_inc(r->m_reg_fail);
	nlog_error("the kubelet did not accept the registration; retrying", "{s:s,s:s,s:s,s:i}", "resource",
	           r->res.name, "status", cocoon_grpc_status_name(status), "error", message ? message : "",
	           "retry_in_ms", (int)r->backoff_ms);
	reg_retry_later(r);
}

static void reg_start(pres *r)
{
	uint8_t *req = NULL;
	size_t len = 0;
	int rc;

	if (r->reg) {
		cocoon_grpc_call_cancel(r->reg);
		r->reg = NULL;
	}
	cocoon_loop_timer_cancel(r->p->loop, &r->reg_timer);
	r->registered = 0;
	cocoon_metric_set(r->m_registered, 0);
	r->attempts++;
	if ((rc = cocoon_res_register_request(&req, &len, &r->res)) == 0)
		rc = cocoon_grpc_call_start(&r->reg, r->p->loop, r->p->kubelet_sock, "/v1beta1.Registration/Register", req,
		                            len, r->p->cfg->register_timeout_ms, on_registered, r);
	free(req);
	if (rc != 0) {
		/* Normal while the kubelet is down; kubelet.sock appearing retries at once. */
		if (r->attempts == 1 || r->backoff_ms >= BACKOFF_MAX_MS)
			nlog_warn("kubelet not reachable; will register when kubelet.sock appears", "{s:s,s:s,s:i}",
			          "resource", r->res.name, "error", cocoon_error_last()->message, "retry_in_ms",
			          (int)r->backoff_ms);
		cocoon_metric_inc(r->m_reg_fail);
		reg_retry_later(r);
	}
}

static void on_reg_timer(cocoon_timer *t)
{
	reg_start(t->ctx);
}

/* Our socket vanished (the kubelet deletes every socket when it starts): serve again, then register. */
static void res_recover(pres *r, const char *why)
{
	if (socket_is_ours(r))
		return;
	nlog_warn("plugin socket gone; recreating it and registering again", "{s:s,s:s,s:s}", "resource", r->res.name,
	          "socket", r->path, "reason", why);
	if (listen_open(r) != 0) {
		nlog_error("cannot recreate the plugin socket; retrying", "{s:s,s:s}", "resource", r->res.name, "error",
		           cocoon_error_last()->message);
		cocoon_loop_timer_arm(r->p->loop, &r->p->dir_timer, 1000);
		return;
	}
	r->backoff_ms = BACKOFF_MIN_MS;
	reg_start(r);
}

/* ---- inotify ---- */

static void watches_add(plugin *p)
{
	int fd = p->inotify.fd;

	if (p->wd_plugin < 0)
		p->wd_plugin = inotify_add_watch(fd, p->cfg->plugin_dir,
		                                 IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
		                                         IN_MOVE_SELF | IN_ONLYDIR);
	if (p->wd_dev < 0)
		p->wd_dev = inotify_add_watch(fd, p->cfg->dev_root,
		                              IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO |
		                                      IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
}

static void kubelet_restarted(plugin *p)
{
	nlog_info("kubelet.sock created: the kubelet (re)started; registering again", NULL);
	cocoon_metric_inc(p->m_kubelet_restarts);
	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		pres *r = &p->res[i];
		if (!r->enabled)
			continue;
		if (!socket_is_ours(r)) {
			res_recover(r, "kubelet restart");
		} else {
			r->backoff_ms = BACKOFF_MIN_MS;
			reg_start(r);
		}
	}
}

/* Missed events (queue overflow, watch lost): check everything. */
static void full_recheck(plugin *p, const char *why)
{
	health_probe(p);
	for (int i = 0; i < COCOON_RES_COUNT; i++)
		if (p->res[i].enabled)
			res_recover(&p->res[i], why);
}

static void on_dir_timer(cocoon_timer *t)
{
	plugin *p = t->ctx;

	watches_add(p);
	if (p->wd_plugin < 0 || p->wd_dev < 0)
		cocoon_loop_timer_arm(p->loop, &p->dir_timer, 1000);
	full_recheck(p, "directory watch restored");
}

static void on_inotify_event(plugin *p, const struct inotify_event *ev)
{
	const char *name = ev->len ? ev->name : "";

	if (ev->mask & IN_Q_OVERFLOW) {
		full_recheck(p, "inotify queue overflow");
		return;
	}
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (ev->wd == p->wd_plugin || ev->wd == p->wd_dev) {
			nlog_error("a watched directory disappeared; watching for it to return", "{s:s}", "directory",
			           ev->wd == p->wd_plugin ? p->cfg->plugin_dir : p->cfg->dev_root);
			if (ev->wd == p->wd_plugin)
				p->wd_plugin = -1;
			else
				p->wd_dev = -1;
			inotify_rm_watch(p->inotify.fd, ev->wd);
			cocoon_loop_timer_arm(p->loop, &p->dir_timer, 1000);
		}
		return;
	}
	if (ev->wd == p->wd_dev) {
		if (strcmp(name, "sgx_enclave") == 0 || strcmp(name, "sgx_provision") == 0)
			health_probe(p);
		return;
	}
	if (ev->wd != p->wd_plugin)
		return;
	if (strcmp(name, KUBELET_SOCKET) == 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
		kubelet_restarted(p);
		return;
	}
	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		pres *r = &p->res[i];
		if (r->enabled && strcmp(name, r->res.socket) == 0 && (ev->mask & (IN_DELETE | IN_MOVED_FROM)))
			res_recover(r, "socket deleted");
	}
}

static void on_inotify_record(void *ctx, const struct inotify_event *ev)
{
	on_inotify_event(ctx, ev);
}

static void on_inotify(cocoon_watch *w, uint32_t events)
{
	(void)events;
	cocoon_inotify_drain(w->fd, on_inotify_record, w->ctx);
}

static void on_health_timer(cocoon_timer *t)
{
	plugin *p = t->ctx;

	full_recheck(p, "periodic check");
	cocoon_loop_timer_arm(p->loop, &p->health_timer, p->cfg->health_interval_ms);
}

static void on_signal(cocoon_watch *w, uint32_t events)
{
	plugin *p = w->ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		nlog_info("shutting down", "{s:i}", "signal", (int)si.ssi_signo);
	cocoon_loop_stop(p->loop);
}

/* ---- setup ---- */

static uint32_t epc_mib_devices(const cocoon_sgx_info *sgx)
{
	uint64_t want = sgx->epc_bytes / MIB;
	uint32_t max = cocoon_devid_max_devices(COCOON_GRPC_MAX_MESSAGE);

	if (want <= max)
		return (uint32_t)want;
	nlog_error("EPC too large for one device per MiB; advertising what fits", "{s:I,s:I,s:I,s:I,s:s}", "epc_bytes",
	           (json_int_t)sgx->epc_bytes, "epc_mib", (json_int_t)want, "advertised_mib", (json_int_t)max,
	           "kubelet_limit_bytes", (json_int_t)COCOON_GRPC_MAX_MESSAGE, "hint",
	           "the kubelet drops ListAndWatch messages over 4 MiB; to schedule on the full EPC, run "
	           "cocoon-epc-reconciler and request sgx.intel.com/epc (bytes) with sgx.intel.com/enclave");
	return max;
}

/* ---- metrics and health (docs/sgx-plugin.md, "Metrics and health") ---- */

static void res_metrics(plugin *p, pres *r)
{
	cocoon_metrics *m = p->metrics;
	const char *l = r->labels;

	snprintf(r->labels, sizeof(r->labels), "resource=\"%s\"", r->res.name);
	r->m_devices = cocoon_metrics_gauge(m, "cocoon_sgx_plugin_devices", l, "Devices advertised to the kubelet.");
	r->m_healthy = cocoon_metrics_gauge(m, "cocoon_sgx_plugin_healthy", l,
	                                    "1 when the resource's devices are Healthy (device nodes present).");
	r->m_registered = cocoon_metrics_gauge(m, "cocoon_sgx_plugin_registered", l,
	                                       "1 while the kubelet has accepted the registration.");
	r->m_reg_ok = cocoon_metrics_counter(m, "cocoon_sgx_plugin_registrations_total", l,
	                                     "Registrations the kubelet accepted.");
	r->m_reg_fail = cocoon_metrics_counter(m, "cocoon_sgx_plugin_registration_failures_total", l,
	                                       "Registration attempts that failed (kubelet down or refusing).");
	r->m_law = cocoon_metrics_counter(m, "cocoon_sgx_plugin_list_and_watch_total", l,
	                                  "ListAndWatch streams opened.");
	r->m_allocate = cocoon_metrics_counter(m, "cocoon_sgx_plugin_allocate_total", l, "Allocate calls.");
	r->m_allocate_err = cocoon_metrics_counter(m, "cocoon_sgx_plugin_allocate_errors_total", l,
	                                           "Allocate calls refused (unknown device, unhealthy, malformed).");
	cocoon_metric_set(r->m_devices, r->res.count);
	cocoon_metric_set(r->m_healthy, r->healthy);
}

/* Live: every enabled resource has its socket. Ready: and the kubelet accepted every registration. */
static int plugin_health(void *ctx, int ready, char *why, size_t why_len)
{
	plugin *p = ctx;

	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		const pres *r = &p->res[i];
		if (!r->enabled)
			continue;
		if (r->listen.fd < 0) {
			snprintf(why, why_len, "%s: plugin socket not served", r->res.name);
			return 1;
		}
		if (ready && !r->registered) {
			snprintf(why, why_len, "%s: not registered with the kubelet", r->res.name);
			return 1;
		}
	}
	return 0;
}

static int metrics_start(plugin *p)
{
	int rc;

	p->m_kubelet_restarts = cocoon_metrics_counter(p->metrics, "cocoon_sgx_plugin_kubelet_restarts_total", NULL,
	                                               "kubelet restarts seen (kubelet.sock created).");
	cocoon_metric_set(cocoon_metrics_gauge(p->metrics, "cocoon_sgx_plugin_sgx_present", NULL,
	                                       "1 when this node has SGX and the plugin serves it."),
	                  1);
	if (!p->m_kubelet_restarts)
		return cocoon_error_set(COCOON_EINTERNAL, "metrics registry full");
	if (!p->cfg->metrics_listen)
		return 0;
	if ((rc = cocoon_mhttp_start(&p->http, p->loop, p->cfg->metrics_listen, p->metrics, plugin_health, p)) != 0)
		return rc;
	nlog_info("metrics listening", "{s:s,s:i}", "address", p->cfg->metrics_listen, "port",
	          cocoon_mhttp_port(p->http));
	return 0;
}

static int setup(plugin *p, const cocoon_sgx_info *sgx)
{
	const cocoon_plugin_config *cfg = p->cfg;
	const int enabled[COCOON_RES_COUNT] = { cfg->res_epc_mib, cfg->res_enclave, cfg->res_provision };
	sigset_t set;
	int rc, fd;

	if ((rc = cocoon_loop_new(&p->loop)) != 0 || (rc = cocoon_metrics_new(&p->metrics)) != 0)
		return rc;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return cocoon_error_set(COCOON_EINTERNAL, "signalfd: %s", strerror(errno));
	p->sig.fd = fd;
	p->sig.fn = on_signal;
	p->sig.ctx = p;
	if ((rc = cocoon_loop_watch_add(p->loop, &p->sig, EPOLLIN)) != 0)
		return rc;
	snprintf(p->kubelet_sock, sizeof(p->kubelet_sock), "%s/%s", cfg->plugin_dir, KUBELET_SOCKET);
	p->enclave_node = is_char_device(cfg->dev_root, "sgx_enclave");
	p->provision_node = is_char_device(cfg->dev_root, "sgx_provision");
	if (!p->enclave_node || !p->provision_node)
		nlog_warn("SGX device nodes missing; affected devices start Unhealthy", "{s:s,s:b,s:b}", "dev_root",
		          cfg->dev_root, "sgx_enclave", p->enclave_node, "sgx_provision", p->provision_node);

	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		pres *r = &p->res[i];
		uint32_t count = i == COCOON_RES_EPC_MIB ? 0 : i == COCOON_RES_ENCLAVE ? cfg->enclave_limit
		                                                                        : cfg->provision_limit;
		if (i == COCOON_RES_EPC_MIB && enabled[i])
			count = epc_mib_devices(sgx);
		cocoon_res_init(&r->res, (cocoon_res_kind)i, count);
		r->res.quote_helper = cfg->quote_helper;
		r->res.aesmd_dir = cfg->aesmd_dir;
		r->p = p;
		r->listen.fd = -1;
		r->enabled = enabled[i];
		r->backoff_ms = BACKOFF_MIN_MS;
		r->reg_timer.fn = on_reg_timer;
		r->reg_timer.ctx = r;
		if (!r->enabled)
			continue;
		r->healthy = res_healthy(p, r);
		res_metrics(p, r);
		snprintf(r->path, sizeof(r->path), "%s/%s", cfg->plugin_dir, r->res.socket);
		if (socket_answers(r->path))
			return cocoon_error_set(COCOON_EIO,
			                        "%s already answers: another device plugin for %s is running on this node",
			                        r->path, r->res.name);
		if ((rc = cocoon_grpc_server_new(&r->srv, p->loop, &handler, r, MAX_CONNS)) != 0 ||
		    (rc = listen_open(r)) != 0)
			return rc;
		nlog_info("serving", "{s:s,s:s,s:I,s:s,s:b}", "resource", r->res.name, "socket", r->path, "devices",
		          (json_int_t)r->res.count, "health", r->healthy ? "Healthy" : "Unhealthy", "quote_helper",
		          r->res.quote_helper && r->res.kind != COCOON_RES_PROVISION);
	}

	p->wd_plugin = p->wd_dev = -1;
	p->inotify.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->inotify.fd < 0)
		return cocoon_error_set(COCOON_EINTERNAL, "inotify_init1: %s", strerror(errno));
	p->inotify.fn = on_inotify;
	p->inotify.ctx = p;
	if ((rc = cocoon_loop_watch_add(p->loop, &p->inotify, EPOLLIN)) != 0)
		return rc;
	p->dir_timer.fn = on_dir_timer;
	p->dir_timer.ctx = p;
	p->health_timer.fn = on_health_timer;
	p->health_timer.ctx = p;
	watches_add(p);
	if (p->wd_plugin < 0)
		return cocoon_error_set(COCOON_EIO, "cannot watch %s: %s", cfg->plugin_dir, strerror(errno));
	if (p->wd_dev < 0)
		nlog_warn("cannot watch the device directory; relying on the periodic check", "{s:s,s:s}", "dev_root",
		          cfg->dev_root, "error", strerror(errno));
	cocoon_loop_timer_arm(p->loop, &p->health_timer, cfg->health_interval_ms);
	if ((rc = metrics_start(p)) != 0)
		return rc;

	for (int i = 0; i < COCOON_RES_COUNT; i++)
		if (p->res[i].enabled)
			reg_start(&p->res[i]);
	return 0;
}

static void teardown(plugin *p)
{
	for (int i = 0; i < COCOON_RES_COUNT; i++) {
		pres *r = &p->res[i];
		if (!r->enabled)
			continue;
		cocoon_grpc_call_cancel(r->reg);
		if (p->loop)
			cocoon_loop_timer_cancel(p->loop, &r->reg_timer);
		/* Remove the socket only if it is still ours, not a newer instance's. */
		if (socket_is_ours(r))
			unlink(r->path);
		if (p->loop)
			listen_close(r);
		cocoon_grpc_server_free(r->srv);
	}
	cocoon_mhttp_stop(p->http);
	cocoon_metrics_free(p->metrics);
	if (p->inotify.fd >= 0)
		close(p->inotify.fd);
	if (p->sig.fd >= 0)
		close(p->sig.fd);
	cocoon_loop_free(p->loop);
}

int cocoon_plugin_run(const cocoon_plugin_config *cfg, const cocoon_sgx_info *sgx)
{
	plugin p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.inotify.fd = p.sig.fd = -1;
	for (int i = 0; i < COCOON_RES_COUNT; i++)
		p.res[i].listen.fd = -1;
	rc = setup(&p, sgx);
	if (rc != 0) {
		nlog_error("cannot start", "{s:s}", "error", cocoon_error_last()->message);
		teardown(&p);
		return rc == COCOON_EINVAL || rc == COCOON_EUNSUPPORTED ? COCOON_PLUGIN_EXIT_CONFIG
		                                                        : COCOON_PLUGIN_EXIT_RUNTIME;
	}
	rc = cocoon_loop_run(p.loop);
	if (rc != 0)
		nlog_error("event loop failed", "{s:s}", "error", cocoon_error_last()->message);
	teardown(&p);
	return rc == 0 ? COCOON_PLUGIN_EXIT_OK : COCOON_PLUGIN_EXIT_RUNTIME;
}

int cocoon_plugin_idle(const cocoon_plugin_config *cfg)
{
	cocoon_metrics *m = NULL;
	int rc;

	if ((rc = cocoon_metrics_new(&m)) == 0) {
		cocoon_metric_set(cocoon_metrics_gauge(m, "cocoon_sgx_plugin_sgx_present", NULL,
		                                       "1 when this node has SGX and the plugin serves it."),
		                  0);
		rc = cocoon_mhttp_idle(cfg->metrics_listen, m);
	}
	cocoon_metrics_free(m);
	if (rc != 0) {
		nlog_error("cannot serve metrics", "{s:s}", "error", cocoon_error_last()->message);
		return rc == COCOON_EINVAL ? COCOON_PLUGIN_EXIT_CONFIG : COCOON_PLUGIN_EXIT_RUNTIME;
	}
	return COCOON_PLUGIN_EXIT_OK;
}
