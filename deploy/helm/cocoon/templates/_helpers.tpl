{{/* Names, labels and images shared by every template. */}}

{{- define "cocoon.fullname" -}}
{{- if contains "cocoon" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-cocoon" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* cocoon.name: fullname-component, e.g. cocoon-webhook. */}}
{{- define "cocoon.name" -}}
{{- printf "%s-%s" (include "cocoon.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cocoon.labels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: cocoon
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "cocoon.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* An image reference from {repository, tag, digest}; the digest wins. */}}
{{- define "cocoon.imageRef" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The securityContext of every container that can run as nobody. */}}
{{- define "cocoon.restricted" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Node affinity for SGX nodes: labelled by cocoon-node-labels, by NFD's CPUID source, or by hand. */}}
{{- define "cocoon.sgxAffinity" -}}
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
      - matchExpressions:
          - key: cocoon.feature.node.kubernetes.io/sgx
            operator: In
            values: ["true"]
      - matchExpressions:
          - key: feature.node.kubernetes.io/cpu-cpuid.SGX
            operator: In
            values: ["true"]
      - matchExpressions:
          - key: cocoon.dev/sgx
            operator: In
            values: ["true"]
{{- end -}}

{{- define "cocoon.sgxTolerations" -}}
- key: kubernetes.azure.com/sgx_epc_mem_in_MiB
  operator: Exists
  effect: NoSchedule
- key: sgx.intel.com/epc
  operator: Exists
  effect: NoSchedule
{{- end -}}

{{- define "cocoon.webhookSecret" -}}
{{- if and (eq .Values.webhook.tls.mode "provided") .Values.webhook.tls.existingSecret -}}
{{- .Values.webhook.tls.existingSecret -}}
{{- else -}}
{{- include "cocoon.name" (dict "root" . "component" "webhook-tls") -}}
{{- end -}}
{{- end -}}

{{/*
The node daemons' --metrics-listen endpoint: the container port and probes on
/healthz (liveness: the event loop answers) and /readyz (readiness: the
daemon's essential action succeeded; docs/sgx-plugin.md). Call with
dict "name" <port name> "port" <number>.
*/}}
{{- define "cocoon.metricsEndpoint" -}}
ports:
  - name: {{ .name }}
    containerPort: {{ .port }}
    protocol: TCP
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .name }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 6
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .name }}
  periodSeconds: 10
  timeoutSeconds: 3
{{- end }}
