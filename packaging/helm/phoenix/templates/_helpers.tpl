{{/* Names and labels shared by every object of the release. */}}
{{- define "phoenix.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 52 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "phoenix.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "phoenix.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "phoenix.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "phoenix.tokenSecret" -}}
{{- .Values.token.existingSecret | default (printf "%s-token" (include "phoenix.fullname" .)) -}}
{{- end -}}

{{- define "phoenix.hubUrl" -}}
{{- .Values.hub.externalUrl | default (printf "ws://%s-hub.%s.svc:%d/ws/agent" (include "phoenix.fullname" .) .Release.Namespace (int .Values.hub.port)) -}}
{{- end -}}

{{/* Container security shared by the agent and the hub: nothing writable but its volumes, nothing gained. */}}
{{- define "phoenix.containerSecurity" -}}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
seccompProfile:
  type: RuntimeDefault
{{- end -}}
