{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "cutover.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: fullnameOverride, or <release>-<chart> unless the release already contains the chart name. */}}
{{- define "cutover.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cutover.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The recommended labels (app.kubernetes.io/*, helm.sh/chart) plus commonLabels. */}}
{{- define "cutover.labels" -}}
helm.sh/chart: {{ include "cutover.chart" . }}
{{ include "cutover.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cutover
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cutover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cutover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one role: include "cutover.componentSelectorLabels" (dict "ctx" $ "component" "api") */}}
{{- define "cutover.componentSelectorLabels" -}}
{{ include "cutover.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cutover.componentLabels" -}}
{{ include "cutover.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of a pod template: every recommended label, the component, then podLabels. */}}
{{- define "cutover.podLabels" -}}
{{ include "cutover.componentLabels" . }}
{{- with .ctx.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cutover.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cutover.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cutover.secretName" -}}
{{- default (include "cutover.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
The evaluator key of the chart-managed Secret: secrets.evaluatorKey, else the one the Secret
already holds (so that upgrades keep it), else a new one.
*/}}
{{- define "cutover.evaluatorKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "cutover.fullname" .) -}}
{{- $kept := dig "data" .Values.secrets.keys.evaluatorKey "" $existing | b64dec -}}
{{- coalesce .Values.secrets.evaluatorKey $kept (printf "co_%s_%s" (randAlphaNum 8 | lower) (randAlphaNum 32)) -}}
{{- end -}}

{{- define "cutover.adminKey" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "cutover.fullname" .) -}}
{{- $kept := dig "data" .Values.secrets.keys.adminKey "" $existing | b64dec -}}
{{- coalesce .Values.secrets.adminKey $kept (printf "co_%s_%s" (randAlphaNum 8 | lower) (randAlphaNum 32)) -}}
{{- end -}}

{{- define "cutover.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The BullMQ wait list of the migration queue (src/core/queue: prefix `<REDIS_PREFIX>:bull`). */}}
{{- define "cutover.migrationWaitList" -}}
{{- if .Values.worker.keda.redis.cluster -}}
{{- printf "%s:{bull}:migration:wait" (default "cutover" .Values.config.REDIS_PREFIX) -}}
{{- else -}}
{{- printf "%s:bull:migration:wait" (default "cutover" .Values.config.REDIS_PREFIX) -}}
{{- end -}}
{{- end -}}

{{- define "cutover.workerShutdownGraceMs" -}}
{{- mul .Values.worker.shutdown.longestBatchSeconds 1000 -}}
{{- end -}}

{{- define "cutover.workerTerminationGraceSeconds" -}}
{{- add .Values.worker.shutdown.longestBatchSeconds .Values.worker.shutdown.extraSeconds -}}
{{- end -}}

{{/* Refuses settings that would break the product's guarantees; rendered by the ConfigMap. */}}
{{- define "cutover.validate" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if not .Values.secrets.databaseUrl -}}
{{- fail "secrets.databaseUrl is required when secrets.existingSecret is empty" -}}
{{- end -}}
{{- if not .Values.secrets.redisUrl -}}
{{- fail "secrets.redisUrl is required when secrets.existingSecret is empty" -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.worker.shutdown.longestBatchSeconds) 600 -}}
{{- fail "worker.shutdown.longestBatchSeconds may be at most 600 (WORKER_SHUTDOWN_GRACE_MS is at most 600000)" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (lt (int .Values.worker.keda.minReplicas) 1) -}}
{{- fail "worker.keda.minReplicas must be at least 1: the control, ramp and progress queues have no KEDA trigger of their own" -}}
{{- end -}}
{{- $leaseMs := default "60000" .Values.config.MIGRATION_LEASE_MS | int64 -}}
{{- $graceMs := include "cutover.workerShutdownGraceMs" . | int64 -}}
{{- if le $leaseMs $graceMs -}}
{{- fail (printf "config.MIGRATION_LEASE_MS (%d) must exceed worker.shutdown.longestBatchSeconds in ms (%d): the reaper would recover batches that are still running" $leaseMs $graceMs) -}}
{{- end -}}
{{- $backend := toString .Values.config.BACKEND_KIND -}}
{{- if not (or (eq $backend "http") (eq $backend "simulated")) -}}
{{- fail "config.BACKEND_KIND is required: http (with config.BACKEND_HTTP_URL) for real users, or simulated (demos and load tests, with allowSimulatedBackend: true)" -}}
{{- end -}}
{{- if and (eq $backend "http") (not .Values.config.BACKEND_HTTP_URL) -}}
{{- fail "config.BACKEND_HTTP_URL is required when config.BACKEND_KIND is http" -}}
{{- end -}}
{{- if and (eq $backend "simulated") (not .Values.allowSimulatedBackend) -}}
{{- fail "config.BACKEND_KIND=simulated marks users enabled without a real backend: set allowSimulatedBackend: true if this is a demo or a load test" -}}
{{- end -}}
{{- $heartbeatMs := default "120000" .Values.config.WORKER_HEARTBEAT_TIMEOUT_MS | int64 -}}
{{- if le $heartbeatMs $graceMs -}}
{{- fail (printf "config.WORKER_HEARTBEAT_TIMEOUT_MS (%d) must exceed worker.shutdown.longestBatchSeconds in ms (%d): a worker busy with long batches would be restarted" $heartbeatMs $graceMs) -}}
{{- end -}}
{{- if and .Values.api.ingress.enabled (not .Values.api.ingress.hosts) -}}
{{- fail "api.ingress.hosts is required when api.ingress.enabled" -}}
{{- end -}}
{{- if ge (int .Values.api.preStopSleepSeconds) (int .Values.api.terminationGracePeriodSeconds) -}}
{{- fail "api.terminationGracePeriodSeconds must exceed api.preStopSleepSeconds, or the API is killed before it closes" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (not (or (eq .Values.worker.keda.trigger "demand") (eq .Values.worker.keda.trigger "queue"))) -}}
{{- fail "worker.keda.trigger must be demand (Prometheus) or queue (the BullMQ wait list)" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (eq .Values.worker.keda.trigger "queue") (not .Values.worker.keda.redis.address) -}}
{{- fail "worker.keda.redis.address (host:port of the Redis in REDIS_URL) is required with worker.keda.trigger queue" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (eq .Values.worker.keda.trigger "demand") (not .Values.worker.keda.prometheus.serverAddress) -}}
{{- fail "worker.keda.prometheus.serverAddress (the Prometheus that scrapes Cutover) is required with worker.keda.trigger demand" -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by API and worker: ConfigMap, Secret, extras, then per-role overrides. */}}
{{- define "cutover.env" -}}
{{- $ctx := .ctx -}}
envFrom:
  - configMapRef:
      name: {{ include "cutover.fullname" $ctx }}
{{- with $ctx.Values.extraEnvFrom }}
{{ toYaml . | indent 2 }}
{{- end }}
env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "cutover.secretName" $ctx }}
        key: {{ $ctx.Values.secrets.keys.databaseUrl }}
  - name: REDIS_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "cutover.secretName" $ctx }}
        key: {{ $ctx.Values.secrets.keys.redisUrl }}
  - name: AUTH_ADMIN_KEY
    valueFrom:
      secretKeyRef:
        name: {{ include "cutover.secretName" $ctx }}
        key: {{ $ctx.Values.secrets.keys.adminKey }}
        optional: true
  - name: AUTH_EVALUATOR_KEY
    valueFrom:
      secretKeyRef:
        name: {{ include "cutover.secretName" $ctx }}
        key: {{ $ctx.Values.secrets.keys.evaluatorKey }}
        optional: true
{{- with $ctx.Values.extraEnv }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- range $name, $value := .roleEnv }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "cutover.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "cutover.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}
