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
{{- /* Pods of a stuck StatefulSet rollback: named in the reason, deleted only when enabled. */}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"{{ if (((.Values.config).policy).deleteStuckPods) }}, "delete"{{ end }}]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.gitops.flux.enabled }}
{{ include "rollback-controller.helmReleaseRules" . }}
{{- end }}
{{- if .Values.argoRollouts.enabled }}
{{ include "rollback-controller.argoRolloutsRules" . }}
{{- end }}
{{- end }}

{{/* Argo Rollouts: read a Rollout, undo its template (patch), abort or promote it (status). */}}
{{- define "rollback-controller.argoRolloutsRules" -}}
- apiGroups: ["argoproj.io"]
  resources: ["rollouts"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["argoproj.io"]
  resources: ["rollouts/status"]
  verbs: ["patch"]
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
A chart-managed secret value: the one given, else the one already in the cluster (helm `lookup`,
so upgrades keep it), else a new random one. Called with (list $ valueGiven key).
*/}}
{{- define "rollback-controller.keptSecret" -}}
{{- $root := index . 0 }}
{{- $given := index . 1 }}
{{- $key := index . 2 }}
{{- if $given }}
{{- $given }}
{{- else }}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace (include "rollback-controller.fullname" $root) }}
{{- if and $existing $existing.data (hasKey $existing.data $key) }}
{{- index $existing.data $key | b64dec }}
{{- else }}
{{- randAlphaNum 40 }}
{{- end }}
{{- end }}
{{- end }}

{{/* The webhook secret (Alertmanager's credential). */}}
{{- define "rollback-controller.webhookSecret" -}}
{{- include "rollback-controller.keptSecret" (list . .Values.secret.webhookSecret .Values.secret.keys.webhookSecret) }}
{{- end }}

{{/* The operator secret (a human's credential for approve and resume). */}}
{{- define "rollback-controller.operatorSecret" -}}
{{- include "rollback-controller.keptSecret" (list . .Values.secret.operatorSecret .Values.secret.keys.operatorSecret) }}
{{- end }}

{{/*
The V8 heap in MiB: nodeHeapPercentOfLimit of resources.limits.memory (a Kubernetes quantity:
plain bytes or k/M/G/T, Ki/Mi/Gi/Ti). Empty when there is no limit or the percentage is 0.
*/}}
{{- define "rollback-controller.heapMiB" -}}
{{- $limit := toString (dig "limits" "memory" "" (.Values.resources | default dict)) -}}
{{- $percent := .Values.nodeHeapPercentOfLimit | default 0 | float64 -}}
{{- if and $limit (gt $percent 0.0) -}}
{{- $digits := regexFind "^[0-9]+(\\.[0-9]+)?" $limit -}}
{{- $unit := trimPrefix $digits $limit -}}
{{- $factors := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- if or (not $digits) (not (hasKey $factors $unit)) -}}
{{- fail (printf "resources.limits.memory %q is not a memory quantity: use bytes or a k, M, G, Ki, Mi or Gi suffix (e.g. 256Mi)" $limit) -}}
{{- end -}}
{{- $mib := divf (mulf (float64 $digits) (get $factors $unit)) 1048576.0 -}}
{{- mulf $mib (divf $percent 100.0) | floor | int -}}
{{- end -}}
{{- end -}}
