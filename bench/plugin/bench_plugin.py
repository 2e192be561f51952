#!/usr/bin/python3
"""End-to-end benchmark of cocoon-sgx-plugin, with python3-grpcio as the kubelet.

Measures, on a fake node with 256 GiB of EPC (262,144 one-MiB devices):
  - ListAndWatch: time from the call to the complete first message (build +
    send + HTTP/2 transfer; the client keeps the raw bytes, so Python's
    protobuf decoding is not counted);
  - Allocate latency for 1 GiB (1,024 device IDs), client round trip;
  - idle RSS (VmRSS) after registration, and again with the 256 GiB stream
    open and idle.
In-process build time: build/bench/bench_sgx_plugin.

Usage: /usr/bin/python3 bench/plugin/bench_plugin.py [BIN_DIR]   (default build/bin)
Targets (issue #6): list built in <= 50 ms, idle RSS <= 5 MB.
"""
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "plugin"))
if len(sys.argv) > 1:
    os.environ["COCOON_BIN"] = os.path.abspath(sys.argv[1])
import plugintest as pt  # noqa: E402
from plugintest import GIB  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    sb = pt.Sandbox(epc_sections=(128 * GIB, 128 * GIB))
    api = pt.Api(sb.root)
    kubelet = pt.FakeKubelet(api, sb.plugin_dir)
    d = pt.plugin(sb.args() + ["--health-interval-ms", "60000"])
    try:
        kubelet.registrations_by_resource(3)
        time.sleep(0.5)
        rss_registered = rss_kib(d.proc.pid)

        client = pt.PluginClient(api, os.path.join(sb.plugin_dir, "cocoon-sgx-epc-mib.sock"))
        raw_law = client.channel.unary_stream("/v1beta1.DevicePlugin/ListAndWatch",
                                              request_serializer=api.Empty.SerializeToString,
                                              response_deserializer=lambda b: b)
        times, size = [], 0
        for _ in range(10):
            t0 = time.perf_counter()
            it = raw_law(api.Empty(), timeout=30)
            body = next(it)
            times.append((time.perf_counter() - t0) * 1000)
            size = len(body)
            it.cancel()
        ids = [d_.ID for d_ in api.ListAndWatchResponse.FromString(body).devices]

        stream = raw_law(api.Empty(), timeout=600)
        next(stream)
        time.sleep(1.0)
        rss_streaming = rss_kib(d.proc.pid)

        req_ids = ids[1000:1000 + 1024]
        lat = []
        for _ in range(300):
            t0 = time.perf_counter()
            resp = client.allocate(req_ids)
            lat.append((time.perf_counter() - t0) * 1e6)
        assert len(resp.container_responses) == 1
        lat.sort()
        stream.cancel()
        client.close()

        print("ListAndWatch 256 GiB: %d devices, %d bytes (kubelet limit %d)" % (len(ids), size, pt.KUBELET_LIMIT))
        print("  call -> full message received: median %.1f ms, min %.1f ms, max %.1f ms (n=10)" %
              (statistics.median(times), min(times), max(times)))
        print("Allocate 1,024 IDs round trip: median %.0f us, p99 %.0f us (n=300, Python client)" %
              (statistics.median(lat), lat[int(len(lat) * 0.99) - 1]))
        print("Idle RSS: %.1f MB registered (3 resources), %.1f MB with the 256 GiB stream open and idle" %
              (rss_registered / 1024, rss_streaming / 1024))
    finally:
        rc = d.stop()
        kubelet.stop()
        sb.cleanup()
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
