{{- define "helpdesk.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "helpdesk.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "helpdesk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "helpdesk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "helpdesk.labels" -}}
{{ include "helpdesk.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The container environment shared by the bot and the migration Job. */}}
{{- define "helpdesk.env" -}}
- name: HELPDESK_SERVER__HOST
  value: "0.0.0.0"
- name: HELPDESK_SERVER__PORT
  value: "8080"
- name: HELPDESK_SERVER__PUBLIC_URL
  value: {{ required "publicUrl is required" .Values.publicUrl | quote }}
- name: HELPDESK_DATABASE__AUTO_MIGRATE
  value: "false"
- name: HELPDESK_PATHS__VAR_DIR
  value: /tmp/helpdesk
{{- range .Values.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required "existingSecret is required" $.Values.existingSecret }}
      key: {{ .key }}
      optional: {{ .optional }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "helpdesk.securityContext" -}}
runAsNonRoot: true
runAsUser: 10001
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The claim holding the shared intent models (sharedModels.enabled). */}}
{{- define "helpdesk.modelsClaim" -}}
{{- .Values.sharedModels.existingClaim | default (printf "%s-models" (include "helpdesk.fullname" .)) -}}
{{- end -}}
