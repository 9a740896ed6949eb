{{/* Name of the chart, or nameOverride. */}}
{{- define "authstack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: <release>-<chart> unless the release name holds the chart name. */}}
{{- define "authstack.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "authstack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "authstack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: include with (list $ "server"). */}}
{{- define "authstack.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "authstack.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "authstack.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The Secret and key holding the Redis URL. */}}
{{- define "authstack.redisURLSecret" -}}
{{- if and (not .Values.redis.bundled.enabled) .Values.redis.existingSecret }}
{{- .Values.redis.existingSecret }}
{{- else }}
{{- printf "%s-redis-url" (include "authstack.fullname" .) }}
{{- end }}
{{- end }}

{{- define "authstack.redisURLKey" -}}
{{- if and (not .Values.redis.bundled.enabled) .Values.redis.existingSecret }}
{{- .Values.redis.existingSecretKey }}
{{- else }}url{{- end }}
{{- end }}

{{- define "authstack.redisPasswordSecret" -}}
{{- default (printf "%s-redis" (include "authstack.fullname" .)) .Values.redis.bundled.existingSecret }}
{{- end }}

{{/* Restricted Pod Security: the pod level. */}}
{{- define "authstack.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Restricted Pod Security: every container. */}}
{{- define "authstack.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop:
  - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Fails the render when no Redis is configured. */}}
{{- define "authstack.checkRedis" -}}
{{- if and (not .Values.redis.bundled.enabled) (not .Values.redis.url) (not .Values.redis.existingSecret) }}
{{- fail "redis: set redis.url, redis.existingSecret or redis.bundled.enabled=true" }}
{{- end }}
{{- end }}

{{/* Fails the render of an Ingress without trusted proxies: the token
servers would see every client at the ingress's address, so one client
guessing passwords would use up the throttle budget of all of them. */}}
{{- define "authstack.checkIngress" -}}
{{- if and .Values.ingress.enabled (empty .Values.server.trustedProxies) }}
{{- fail "ingress.enabled=true needs server.trustedProxies: set it to the CIDRs of the ingress controller pods (their node CIDRs with externalTrafficPolicy: Local). Without them every client shares the ingress's address and throttle budget, and one client guessing passwords locks out everyone (docs/operations.md, Behind a proxy)" }}
{{- end }}
{{- end }}

{{/* AUTHSTACK_REDIS_URL: from the URL Secret, or composed from the bundled Redis's password (alphanumeric, so URL-safe). */}}
{{- define "authstack.redisEnv" -}}
{{- if .Values.redis.bundled.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "authstack.redisPasswordSecret" . }}
      key: password
- name: AUTHSTACK_REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s-redis:6379/0" (include "authstack.fullname" .) | quote }}
{{- else }}
- name: AUTHSTACK_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "authstack.redisURLSecret" . }}
      key: {{ include "authstack.redisURLKey" . }}
{{- end }}
{{- end }}

{{/* One document of files/manager-role.yaml (config/rbac/role.yaml) by kind: include with (list $ "Role"). */}}
{{- define "authstack.managerRole" -}}
{{- $ := index . 0 }}
{{- $kind := index . 1 }}
{{- range regexSplit "(?m)^---[ \t]*$" ($.Files.Get "files/manager-role.yaml") -1 }}
{{- $doc := fromYaml . }}
{{- if eq (get $doc "kind") $kind }}
{{- toYaml $doc }}
{{- end }}
{{- end }}
{{- end }}

{{/*
authstack.splitRules splits the manager ClusterRole's rules into those on
cluster-scoped resources (namespaces, tenancypolicies: read cluster-wide)
and the rest, which manager.namespaces grants per namespace with Roles.
Input: the rules; output: YAML {cluster: [...], namespaced: [...]}.
*/}}
{{- define "authstack.splitRules" -}}
{{- $clusterScoped := list "namespaces" "tenancypolicies" }}
{{- $cluster := list }}
{{- $namespaced := list }}
{{- range $rule := . }}
{{- $c := list }}
{{- $n := list }}
{{- range $res := $rule.resources }}
{{- if has $res $clusterScoped }}{{ $c = append $c $res }}{{ else }}{{ $n = append $n $res }}{{ end }}
{{- end }}
{{- if $c }}{{ $cluster = append $cluster (merge (dict "resources" $c) (omit $rule "resources")) }}{{ end }}
{{- if $n }}{{ $namespaced = append $namespaced (merge (dict "resources" $n) (omit $rule "resources")) }}{{ end }}
{{- end }}
{{- toYaml (dict "cluster" $cluster "namespaced" $namespaced) }}
{{- end }}

{{/* The kubernetes.io/tls Secret the token server serves HTTPS with: tls.existingSecret, or the Secret of the Certificate the chart renders; empty: plain HTTP. */}}
{{- define "authstack.tlsSecret" -}}
{{- if and .Values.tls.existingSecret .Values.tls.certManager.issuerRef.name }}
{{- fail "tls: set tls.existingSecret or tls.certManager.issuerRef.name, not both" }}
{{- else if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else if .Values.tls.certManager.issuerRef.name }}
{{- printf "%s-server-tls" (include "authstack.fullname" .) }}
{{- end }}
{{- end }}

{{/* Name of the token server's API port: https with TLS, http without. */}}
{{- define "authstack.apiPortName" -}}
{{- if include "authstack.tlsSecret" . }}https{{ else }}http{{ end }}
{{- end }}

{{/* The Service's API port: server.service.port, or 443 with TLS and 80 without. */}}
{{- define "authstack.servicePort" -}}
{{- if .Values.server.service.port }}{{ .Values.server.service.port }}{{ else if include "authstack.tlsSecret" . }}443{{ else }}80{{ end }}
{{- end }}
