{{- /* trivyDatabase: the volume holding trivy's cache, and the download that fills it (CronJob, operator init container). */ -}}

{{- /* Where the volume is mounted: the trivy plugin's cacheDir. */ -}}
{{- define "opendepot.trivyCacheDir" -}}/var/cache/trivy{{- end -}}

{{- /* Where the mirror's CA certificate is mounted (trivyDatabase.caConfigMap). */ -}}
{{- define "opendepot.trivyCaDir" -}}/etc/opendepot/trivy-ca{{- end -}}

{{- define "opendepot.trivyCacheClaimName" -}}
{{ .Values.trivyDatabase.persistence.existingClaim | default (printf "%s-trivy-cache" (include "opendepot.fullname" .)) }}
{{- end -}}

{{- /*
config.plugins (given as .plugins) with the trivy plugin's cacheDir set to the volume. Refuses what
cannot work: no trivy plugin to use the volume, another cacheDir, or a dbRepository (the operator
would download too, racing the CronJob).
*/ -}}
{{- define "opendepot.pluginsWithTrivyDatabase" -}}
{{- $dir := include "opendepot.trivyCacheDir" .root -}}
{{- $found := false -}}
{{- $out := list -}}
{{- range .plugins -}}
{{- if eq (toString .package) "@opendepot/plugin-trivy" -}}
{{- $found = true -}}
{{- $config := deepCopy (.config | default dict) -}}
{{- if and $config.cacheDir (ne (toString $config.cacheDir) $dir) -}}
{{- fail (printf "trivyDatabase.enabled mounts the database volume at %s and sets the trivy plugin's cacheDir to it: drop cacheDir (%s) from its config in config.plugins" $dir (toString $config.cacheDir)) -}}
{{- end -}}
{{- if $config.dbRepository -}}
{{- fail "trivyDatabase.enabled: the CronJob downloads the database and the operator only reads it, so drop dbRepository from the trivy plugin's config in config.plugins (the mirror goes in trivyDatabase.repository)" -}}
{{- end -}}
{{- $_ := set $config "cacheDir" $dir -}}
{{- $out = append $out (merge (dict "config" $config) (deepCopy .)) -}}
{{- else -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail "trivyDatabase.enabled needs @opendepot/plugin-trivy in config.plugins (the database is for its provider scans)" -}}
{{- end -}}
{{- toYaml (dict "plugins" $out) -}}
{{- end -}}

{{- /*
The download script, shared by the CronJob and the operator's init container. trivy downloads into
a staging directory on the volume; renames within the volume then swap trivy.db and metadata.json
in atomically, so a scan that has the old file open keeps reading it. ONLY_WHEN_MISSING (the init
container): do nothing when a database is there, and never fail the pod.
*/ -}}
{{- define "opendepot.trivyDbScript" -}}
set -eu
db="$CACHE_DIR/db"
if [ "${ONLY_WHEN_MISSING:-}" = true ] && [ -s "$db/trivy.db" ] && [ -s "$db/metadata.json" ]; then
  echo "trivy DB already in $db: the CronJob keeps it fresh"
  exit 0
fi
staging="$CACHE_DIR/.download-$POD_NAME"
# A run killed mid-download (activeDeadlineSeconds: 30 min) leaves its staging directory behind.
find "$CACHE_DIR" -maxdepth 1 -name '.download-*' -mmin +60 -exec rm -rf {} +
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
if ! trivy image --download-db-only --no-progress --skip-version-check --disable-telemetry \
  --cache-dir "$staging" --db-repository "$DB_REPOSITORY" ${CA_FILE:+--cacert "$CA_FILE"} ${INSECURE:+--insecure}; then
  if [ "${ONLY_WHEN_MISSING:-}" = true ]; then
    echo "could not download the trivy DB from $DB_REPOSITORY; provider scans report ScannerDatabaseMissing until the CronJob succeeds" >&2
    exit 0
  fi
  echo "could not download the trivy DB from $DB_REPOSITORY" >&2
  exit 1
fi
mkdir -p "$db"
mv -f "$staging/db/trivy.db" "$db/trivy.db"
mv -f "$staging/db/metadata.json" "$db/metadata.json"
echo "trivy DB from $DB_REPOSITORY now in $db: $(cat "$db/metadata.json")"
{{- end -}}

{{- /* The download container (CronJob and init container alike); .onlyWhenMissing for the init container. */ -}}
{{- define "opendepot.trivyDbContainer" -}}
{{- $root := .root -}}
{{- $values := $root.Values.trivyDatabase -}}
name: {{ .name }}
image: {{ include "opendepot.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
command:
  - sh
  - -c
  - |
    {{- include "opendepot.trivyDbScript" $root | nindent 4 }}
env:
  - { name: CACHE_DIR, value: {{ include "opendepot.trivyCacheDir" $root | quote }} }
  - { name: DB_REPOSITORY, value: {{ required "trivyDatabase.repository is required when trivyDatabase.enabled is true: your OCI mirror of the trivy DB, e.g. registry.example.com/mirror/trivy-db:2" $values.repository | quote }} }
  - name: POD_NAME
    valueFrom: { fieldRef: { fieldPath: metadata.name } }
  {{- if $values.caConfigMap.name }}
  - { name: CA_FILE, value: {{ printf "%s/%s" (include "opendepot.trivyCaDir" $root) $values.caConfigMap.key | quote }} }
  {{- end }}
  {{- if $values.insecure }}
  - { name: INSECURE, value: "true" }
  {{- end }}
  {{- if .onlyWhenMissing }}
  - { name: ONLY_WHEN_MISSING, value: "true" }
  {{- end }}
securityContext: {{- toYaml $root.Values.securityContext | nindent 2 }}
resources: {{- toYaml $values.resources | nindent 2 }}
volumeMounts:
  - { name: trivy-cache, mountPath: {{ include "opendepot.trivyCacheDir" $root }} }
  - { name: tmp, mountPath: /tmp }
  {{- if $values.caConfigMap.name }}
  - { name: trivy-ca, mountPath: {{ include "opendepot.trivyCaDir" $root }}, readOnly: true }
  {{- end }}
{{- end -}}

{{- /* The volumes the download container needs besides tmp. */ -}}
{{- define "opendepot.trivyDbVolumes" -}}
- name: trivy-cache
  persistentVolumeClaim: { claimName: {{ include "opendepot.trivyCacheClaimName" . }} }
{{- if .Values.trivyDatabase.caConfigMap.name }}
- name: trivy-ca
  configMap: { name: {{ .Values.trivyDatabase.caConfigMap.name }} }
{{- end }}
{{- end -}}
