#!/usr/bin/env bash
# hack/sync-chart-crds.sh copies what controller-gen generates into the Helm
# chart, so the chart installs exactly what `make manifests` produced:
#   config/crd/bases/*.yaml -> charts/authstack/crds/
#   config/rbac/role.yaml   -> charts/authstack/files/manager-role.yaml
#                              (the manager ClusterRole's rules are read from it)
#   config/rbac/*_viewer_role.yaml, *_editor_role.yaml
#                           -> charts/authstack/files/rbac/
#                              (the rules of templates/user-rbac.yaml's
#                              <release>-viewer and <release>-editor)
#   config/monitoring/grafana-dashboard.json -> charts/authstack/files/
#                              (the grafanaDashboard ConfigMap's data)
#   config/monitoring/prometheus-rules.yaml
#                           -> charts/authstack/files/prometheus-rules.yaml
#                              (templates/prometheusrule.yaml renders its spec)
# `make manifests` runs it and `make verify` fails when the copies drift.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
chart="${root}/charts/authstack"

mkdir -p "${chart}/crds" "${chart}/files/rbac"
rm -f "${chart}"/crds/*.yaml "${chart}"/files/rbac/*.yaml
cp "${root}"/config/crd/bases/*.yaml "${chart}/crds/"
cp "${root}/config/rbac/role.yaml" "${chart}/files/manager-role.yaml"
cp "${root}"/config/rbac/*_viewer_role.yaml "${root}"/config/rbac/*_editor_role.yaml "${chart}/files/rbac/"
cp "${root}/config/monitoring/grafana-dashboard.json" "${chart}/files/grafana-dashboard.json"
cp "${root}/config/monitoring/prometheus-rules.yaml" "${chart}/files/prometheus-rules.yaml"
