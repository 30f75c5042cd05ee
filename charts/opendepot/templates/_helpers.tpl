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

{{- /* The Dex subchart's Service (its dex.fullname). */ -}}
{{- define "opendepot.dexServiceName" -}}
{{- if contains "dex" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-dex" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- /*
The server's @opendepot/plugin-dex entry: for the bundled Dex (dex.enabled) written from the `dex:`
values (the subchart's), for a Dex of yours (auth.dex.enabled) from auth.dex.issuerUrl and
clientId; auth.dex.config is merged over either. Nothing when both are off.
*/ -}}
{{- define "opendepot.dexPlugin" -}}
{{- $auth := .Values.auth.dex | default dict -}}
{{- if or .Values.dex.enabled $auth.enabled -}}
{{- range .Values.config.plugins }}{{ if eq (toString .package) "@opendepot/plugin-dex" }}{{ fail "config.plugins lists @opendepot/plugin-dex while dex.enabled or auth.dex.enabled is true: the chart writes its entry; drop it from config.plugins (more plugin config goes in auth.dex.config)" }}{{ end }}{{ end -}}
{{- $config := dict -}}
{{- if .Values.dex.enabled -}}
{{- if or $auth.issuerUrl $auth.clientId -}}{{ fail "auth.dex.issuerUrl and auth.dex.clientId are for a Dex of yours; with dex.enabled the chart takes them from dex.issuer and dex.clientId: set one or the other" }}{{- end -}}
{{- $issuer := required "dex.issuer is required when dex.enabled is true: Dex's public URL, exactly as tokens carry it in iss (e.g. https://dex.example.com/dex)" .Values.dex.issuer -}}
{{- $config = dict "issuerUrl" $issuer "clientId" .Values.dex.clientId "groupsClaim" "groups" "loginPorts" .Values.dex.loginPorts -}}
{{- if .Values.dex.internalIssuer -}}
{{- /* The subchart's Service, on the issuer's own path. */ -}}
{{- $_ := set $config "internalIssuerUrl" (printf "http://%s.%s.svc:%d%s" (include "opendepot.dexServiceName" .) .Release.Namespace (int .Values.dex.service.port) (urlParse $issuer).path) -}}
{{- $_ := set $config "allowInsecureHttp" true -}}
{{- else if hasPrefix "http:" $issuer -}}
{{- $_ := set $config "allowInsecureHttp" true -}}
{{- end -}}
{{- else -}}
{{- $issuer := required "auth.dex.issuerUrl is required when auth.dex.enabled is true: your Dex's issuer URL, exactly as tokens carry it in iss (e.g. https://dex.example.com/dex)" $auth.issuerUrl -}}
{{- $client := required "auth.dex.clientId is required when auth.dex.enabled is true: the Dex static public client tofu login uses" $auth.clientId -}}
{{- $config = dict "issuerUrl" $issuer "clientId" $client -}}
{{- end -}}
{{- toYaml (dict "package" "@opendepot/plugin-dex" "config" (merge (deepCopy ($auth.config | default dict)) $config)) -}}
{{- end -}}
{{- end -}}
