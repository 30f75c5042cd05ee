{{- /*
The operator's and the server's Deployment: one definition, rendered by deployment-operator.yaml and
deployment-server.yaml with (dict "root" $ "component" "operator"|"server").
*/ -}}
{{- define "opendepot.deployment" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- $isServer := eq $component "server" -}}
{{- $values := index $root.Values $component -}}
{{- $tls := and $isServer $root.Values.server.tls.secretName -}}
{{- $scheme := ternary "HTTPS" "HTTP" (not (empty $tls)) -}}
{{- $plugins := $root.Values.pluginInstall.packages -}}
{{- $trivyDb := and (not $isServer) $root.Values.trivyDatabase.enabled -}}
{{- $trivyDbInit := and $trivyDb $root.Values.trivyDatabase.populateOnStart -}}
{{- $selector := dict "root" $root "component" $component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "opendepot.fullname" $root }}-{{ $component }}
  labels: {{- include "opendepot.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $component }}
spec:
  replicas: {{ $values.replicas }}
  {{- with $values.strategy }}
  strategy: {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels: {{- include "opendepot.selector" $selector | nindent 6 }}
  template:
    metadata:
      labels: {{- include "opendepot.selector" $selector | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "opendepot.fullname" $root }}-{{ $component }}
      # Service links would put OPENDEPOT_SERVER_PORT=tcp://... and friends (for the Service
      # <release>-server) into the environment, where OpenDepot reads OPENDEPOT_* as configuration.
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $spread := list }}
      {{- range ($values.spreadTopologyKeys | default list) }}
      {{- $spread = append $spread (dict "maxSkew" 1 "topologyKey" . "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" (dict "matchLabels" (fromYaml (include "opendepot.selector" $selector)))) }}
      {{- end }}
      {{- $spread = concat $spread ($values.topologySpreadConstraints | default list) }}
      {{- with $spread }}
      topologySpreadConstraints: {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext: {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- /* No root step: the data volume is handed to group 65532 by the kubelet (fsGroup). */}}
      {{- if or $plugins $trivyDbInit }}
      initContainers:
      {{- end }}
      {{- if $plugins }}
        # Installs pluginInstall.packages (each pinned by its integrity) into the plugins emptyDir;
        # a mismatching integrity fails the pod here, naming the package.
        - name: install-plugins
          image: {{ include "opendepot.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [node, /app/packages/operator/dist/install-plugins.js]
          args:
            - --prefix
            - {{ include "opendepot.pluginsDir" $root }}
            - --registry
            - {{ $root.Values.pluginInstall.registry | default "https://registry.npmjs.org/" | quote }}
            {{- range $plugins }}
            - {{ printf "%s@%s=%s" .name .version .integrity | quote }}
            {{- end }}
          env:
            - { name: HOME, value: /tmp }
            - { name: NPM_CONFIG_CACHE, value: /tmp/.npm }
            {{- with $root.Values.pluginInstall.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          securityContext: {{- toYaml $root.Values.securityContext | nindent 12 }}
          resources: {{- toYaml $root.Values.pluginInstall.resources | nindent 12 }}
          volumeMounts:
            - { name: plugins, mountPath: {{ include "opendepot.pluginsDir" $root }} }
            - { name: tmp, mountPath: /tmp }
      {{- end }}
      {{- if $trivyDbInit }}
        # trivyDatabase: downloads the database when the volume has none yet (best effort).
        - {{ include "opendepot.trivyDbContainer" (dict "root" $root "name" "trivy-database" "onlyWhenMissing" true) | indent 10 | trim }}
      {{- end }}
      containers:
        - name: {{ $component }}
          image: {{ include "opendepot.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [node{{ range $values.nodeArgs }}, {{ . | quote }}{{ end }}, /app/packages/{{ $component }}/dist/main.js]
          args: [--config, /etc/opendepot/config.yaml]
          securityContext: {{- toYaml $root.Values.securityContext | nindent 12 }}
          resources: {{- toYaml $values.resources | nindent 12 }}
          ports:
            # The operator serves /healthz, /readyz and /metrics on 8081 (OPENDEPOT_HEALTH_PORT);
            # the server serves the registry, /healthz and /readyz on server.port, /metrics on server.metricsPort.
            - { name: http, containerPort: {{ if $isServer }}{{ $root.Values.server.port }}{{ else }}8081{{ end }} }
            {{- if $isServer }}
            - { name: metrics, containerPort: {{ $root.Values.server.metricsPort }} }
            {{- end }}
          # Up to 60 s (30 × 2 s) to start before liveness counts; a slow start is never killed.
          startupProbe:
            httpGet: { path: /healthz, port: http, scheme: {{ $scheme }} }
            periodSeconds: 2
            timeoutSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet: { path: /healthz, port: http, scheme: {{ $scheme }} }
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: http, scheme: {{ $scheme }} }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          {{- /* The sleep action is on by default from Kubernetes 1.30 (alpha in 1.29, where the API server would drop it). */}}
          {{- if and $isServer $root.Values.server.preStopSleepSeconds (semverCompare ">=1.30-0" $root.Capabilities.KubeVersion.Version) }}
          # Keep serving while the endpoint is removed from Services and ingresses, then SIGTERM
          # stops listening and lets requests in flight finish.
          lifecycle:
            preStop:
              sleep: { seconds: {{ $root.Values.server.preStopSleepSeconds }} }
          {{- end }}
          volumeMounts:
            - { name: config, mountPath: /etc/opendepot/config.yaml, subPath: config.yaml }
            - { name: tmp, mountPath: /tmp }
            {{- if $root.Values.persistence.enabled }}
            - { name: data, mountPath: {{ $root.Values.persistence.mountPath | quote }}{{ if $isServer }}, readOnly: true{{ end }} }
            {{- end }}
            {{- if $plugins }}
            - { name: plugins, mountPath: {{ include "opendepot.pluginsDir" $root }}, readOnly: true }
            {{- end }}
            {{- if $trivyDb }}
            # trivy's cache: the database the CronJob refreshes (read), and trivy's scan cache (written).
            - { name: trivy-cache, mountPath: {{ include "opendepot.trivyCacheDir" $root }} }
            {{- end }}
            {{- if $tls }}
            - { name: tls, mountPath: /etc/opendepot/tls, readOnly: true }
            {{- end }}
            {{- if and $isServer $root.Values.server.gpg.secretName }}
            - { name: gpg, mountPath: /etc/opendepot/gpg, readOnly: true }
            {{- end }}
            {{- if and $isServer (include "opendepot.downloadUrlSecretName" $root) }}
            - { name: download-url, mountPath: /etc/opendepot/download-url, readOnly: true }
            {{- end }}
      volumes:
        - name: config
          configMap: { name: {{ include "opendepot.fullname" $root }}-config }
        - name: tmp
          emptyDir: { sizeLimit: {{ $values.tmpSizeLimit | quote }} }
        {{- if $root.Values.persistence.enabled }}
        - name: data
          persistentVolumeClaim: { claimName: {{ include "opendepot.claimName" $root }} }
        {{- end }}
        {{- if $plugins }}
        - name: plugins
          emptyDir: {}
        {{- end }}
        {{- if $trivyDb }}
        {{- include "opendepot.trivyDbVolumes" $root | nindent 8 }}
        {{- end }}
        {{- if $tls }}
        - name: tls
          secret: { secretName: {{ $root.Values.server.tls.secretName }} }
        {{- end }}
        {{- if and $isServer $root.Values.server.gpg.secretName }}
        - name: gpg
          secret: { secretName: {{ $root.Values.server.gpg.secretName }} }
        {{- end }}
        {{- if and $isServer (include "opendepot.downloadUrlSecretName" $root) }}
        - name: download-url
          secret: { secretName: {{ include "opendepot.downloadUrlSecretName" $root }} }
        {{- end }}
{{- end -}}
