#!/usr/bin/env bash
# hack/dashboard-screenshot.sh draws docs/images/dashboard.png (and .svg)
# from a real run: a real Prometheus (hack/setup-prometheus.sh prometheus)
# scrapes, every 5 s, a short soak (hack/soak: three `authstack server`
# replicas on a redis-server, driven by the soak's mix of logins, /verify,
# refreshes, revocations and user changes, and the manager on a real
# kube-apiserver), then hack/dashshot evaluates the dashboard's queries in
# that Prometheus over the run's window and draws them (Chromium renders
# the PNG). make dashboard-screenshot runs it.
#
# Environment: BIN (the authstack binary, default bin/authstack),
# DASHBOARD_SOAK_DURATION (default 3m), DASHBOARD_PROMETHEUS_ADDR (default
# 127.0.0.1:19090), DASHBOARD_OUT (default docs/images/dashboard).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "${root}"
bin="${BIN:-bin/authstack}"
duration="${DASHBOARD_SOAK_DURATION:-3m}"
addr="${DASHBOARD_PROMETHEUS_ADDR:-127.0.0.1:19090}"
out="${DASHBOARD_OUT:-docs/images/dashboard}"
log() { echo "dashboard-screenshot: $*" >&2; }

prometheus="$(hack/setup-prometheus.sh prometheus)"
export KUBEBUILDER_ASSETS="${KUBEBUILDER_ASSETS:-$(hack/setup-envtest.sh)}"
work="$(mktemp -d)"
cat >"${work}/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: authstack
    file_sd_configs:
      - files: [${work}/targets.json]
        refresh_interval: 5s
YAML
"${prometheus}" --config.file="${work}/prometheus.yml" --storage.tsdb.path="${work}/data" \
	--web.listen-address="${addr}" --log.level=warn >"${work}/prometheus.log" 2>&1 &
prometheus_pid=$!
cleanup() {
	kill "${prometheus_pid}" 2>/dev/null || true
	wait "${prometheus_pid}" 2>/dev/null || true
	rm -rf "${work}"
}
trap cleanup EXIT
for _ in $(seq 100); do
	curl -fsS "http://${addr}/-/ready" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://${addr}/-/ready" >/dev/null || {
	log "Prometheus did not start on ${addr}:"
	cat "${work}/prometheus.log" >&2
	exit 1
}

start="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "soak of ${duration} from ${start}, scraped by ${prometheus} on ${addr}"
# The picture is wanted even when one of the soak's checks (RSS drift over
# a short run, say) fails: the report says which.
if ! go run ./hack/soak -binary "${bin}" -duration "${duration}" -warmup 30s -manager \
	-scrape-config "${work}/targets.json" -out "${work}/soak-report.md" >/dev/null; then
	log "a check of the soak failed (its report follows); drawing the run anyway"
fi
cat "${work}/soak-report.md" >&2 || true
end="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
mkdir -p "$(dirname "${out}")"
go run ./hack/dashshot -prometheus "http://${addr}" -from "${start}" -to "${end}" -scrape-interval 5s \
	-namespace authstack -o "${out}.svg" -png "${out}.png"
log "wrote ${out}.svg and ${out}.png"
