{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "rollback-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "rollback-controller.fullname" -}}
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

{{- define "rollback-controller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rollback-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollback-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rollback-controller.labels" -}}
helm.sh/chart: {{ include "rollback-controller.chart" . }}
{{ include "rollback-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rollback-controller
{{- end }}

{{- define "rollback-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rollback-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "rollback-controller.secretName" -}}
{{- default (include "rollback-controller.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{- define "rollback-controller.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* "true" when the replicas elect a leader: more than one replica, or leaderElection.enabled. */}}
{{- define "rollback-controller.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* Namespaces the workload Roles are created in (list as JSON, for fromJsonArray). */}}
{{- define "rollback-controller.rbacNamespaces" -}}
{{- if .Values.rbac.namespaces }}
{{- .Values.rbac.namespaces | uniq | toJson }}
{{- else }}
{{- list .Release.Namespace | toJson }}
{{- end }}
{{- end }}

{{/*
The permissions the executors use and nothing more: read workloads and their revision history
(ReplicaSets for Deployments, ControllerRevisions for StatefulSets and DaemonSets), patch the
workload template back, and record an Event on it.
*/}}
{{- define "rollback-controller.workloadRules" -}}
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["apps"]
  resources: ["replicasets", "controllerrevisions"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.gitops.flux.enabled }}
{{ include "rollback-controller.helmReleaseRules" . }}
{{- end }}
{{- end }}

{{/* Flux: read a workload's HelmRelease and suspend it (spec.suspend) before a rollback. */}}
{{- define "rollback-controller.helmReleaseRules" -}}
- apiGroups: ["helm.toolkit.fluxcd.io"]
  resources: ["helmreleases"]
  verbs: ["get", "patch"]
{{- end }}

{{/* Where the pod reaches the controller's webhook, for the AlertmanagerConfig example. */}}
{{- define "rollback-controller.webhookUrl" -}}
{{- printf "http://%s.%s.svc:%d/api/admin/rollback/trigger" (include "rollback-controller.fullname" .) .Release.Namespace (int .Values.service.port) }}
{{- end }}

{{/*
The webhook secret: the value given, else the one already in the cluster (so upgrades keep it),
else a new random one.
*/}}
{{- define "rollback-controller.webhookSecret" -}}
{{- if .Values.secret.webhookSecret }}
{{- .Values.secret.webhookSecret }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "rollback-controller.fullname" .) }}
{{- $key := .Values.secret.keys.webhookSecret }}
{{- if and $existing $existing.data (hasKey $existing.data $key) }}
{{- index $existing.data $key | b64dec }}
{{- else }}
{{- randAlphaNum 40 }}
{{- end }}
{{- end }}
{{- end }}
