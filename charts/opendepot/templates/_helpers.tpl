{{- define "opendepot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "opendepot.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "opendepot.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "opendepot.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "opendepot.claimName" -}}
{{ .Values.persistence.existingClaim | default (printf "%s-data" (include "opendepot.fullname" .)) }}
{{- end -}}

{{- /* Where pluginInstall puts third-party plugins (an emptyDir, filled by the install-plugins init container). */ -}}
{{- define "opendepot.pluginsDir" -}}/opt/opendepot/plugins{{- end -}}

{{- /* The server's URL scheme: https when it terminates TLS itself. */ -}}
{{- define "opendepot.serverScheme" -}}{{ if .Values.server.tls.secretName }}https{{ else }}http{{ end }}{{- end -}}

{{/* The Secret whose download-url-secret signs download URLs: the one named in values, else (anonymous access off) the chart's own. Empty: none needed. */}}
{{- define "opendepot.downloadUrlSecretName" -}}
{{- if .Values.auth.downloadUrlSecretName -}}{{ .Values.auth.downloadUrlSecretName }}{{- else if not .Values.auth.anonymous.enabled -}}{{ include "opendepot.fullname" . }}-download-url{{- end -}}
{{- end -}}
