/*
 * The device plugin daemon: one gRPC server socket per resource in the
 * kubelet's device-plugin directory, registration with the kubelet, health
 * of the SGX device nodes, and recovery from kubelet restarts (inotify on
 * the directory: our socket deleted, or kubelet.sock created).
 */
#ifndef COCOON_PLUGIN_H
#define COCOON_PLUGIN_H

#include "config.h"
#include "sgx.h"

/* Runs until SIGTERM/SIGINT; returns a process exit code (config.h).
 * SIGTERM and SIGINT must already be blocked in every thread. */
int cocoon_plugin_run(const cocoon_plugin_config *cfg, const cocoon_sgx_info *sgx);

/* Idles until SIGTERM/SIGINT (a node without SGX, --wait-without-sgx), serving
 * --metrics-listen with /healthz and /readyz 200 so probes leave the pod alone. */
int cocoon_plugin_idle(const cocoon_plugin_config *cfg);

#endif
