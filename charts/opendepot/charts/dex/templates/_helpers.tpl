{{- define "dex.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "dex.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dex.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- /* Dex's configuration: memory storage (by default), the public client of tofu login, the password database when users are listed, and the connectors as given. */ -}}
{{- define "dex.config" -}}
{{- $issuer := required "dex.issuer is required: the URL users' browsers reach Dex at, exactly as tokens carry it in iss (e.g. https://dex.example.com/dex)" .Values.issuer -}}
{{- if not (or .Values.staticPasswords .Values.connectors) -}}{{ fail "dex: set dex.staticPasswords or dex.connectors: Dex does not start with no way to log in" }}{{- end -}}
{{- $ports := .Values.loginPorts -}}
{{- if ge (int (index $ports 0)) (int (index $ports 1)) -}}{{ fail "dex.loginPorts must be [min, max] with min < max (tofu login panics when they are equal)" }}{{- end -}}
{{- $redirects := list -}}
{{- range $p := untilStep (int (index $ports 0)) (int (add1 (index $ports 1))) 1 -}}
{{- $redirects = append $redirects (printf "http://localhost:%d/login" $p) -}}
{{- end -}}
{{- /* The web UI signs browsers in as the same client: its callback, <externalUrl>/ui/callback. */ -}}
{{- $redirects = concat $redirects (.Values.browserRedirectURIs | default list) -}}
{{- $client := dict "id" .Values.clientId "name" "OpenDepot" "public" true "redirectURIs" $redirects -}}
{{- $config := dict
  "issuer" $issuer
  "storage" .Values.storage
  "web" (dict "http" (printf "0.0.0.0:%d" (int .Values.port)))
  "telemetry" (dict "http" (printf "0.0.0.0:%d" (int .Values.telemetryPort)))
  "logger" (dict "level" .Values.logLevel "format" "json")
  "oauth2" (dict "skipApprovalScreen" true "responseTypes" (list "code"))
  "staticClients" (concat (list $client) .Values.extraStaticClients)
  "enablePasswordDB" (gt (len .Values.staticPasswords) 0)
-}}
{{- with .Values.staticPasswords }}{{- $_ := set $config "staticPasswords" . }}{{- end }}
{{- with .Values.connectors }}{{- $_ := set $config "connectors" . }}{{- end }}
{{- with .Values.expiry }}{{- $_ := set $config "expiry" . }}{{- end }}
{{- toYaml (merge (deepCopy .Values.extraConfig) $config) }}
{{- end -}}
