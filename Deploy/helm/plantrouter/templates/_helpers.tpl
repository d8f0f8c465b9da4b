{{- define "plantrouter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "plantrouter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "plantrouter.labels" -}}
{{ include "plantrouter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Images are tagged by version: the chart's appVersion unless image.tag says otherwise. */}}
{{- define "plantrouter.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if eq (toString $tag) "latest" -}}{{- fail "image.tag: use a version (the chart's appVersion by default), not latest" -}}{{- end -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{/* librdkafka properties every client gets: the user's, plus SASL/TLS from the values. */}}
{{- define "plantrouter.kafkaProperties" -}}
{{- $props := deepCopy .Values.kafka.properties -}}
{{- if and .Values.kafka.sasl.enabled .Values.kafka.tls.enabled -}}{{- $_ := set $props "security.protocol" "SASL_SSL" -}}
{{- else if .Values.kafka.sasl.enabled -}}{{- $_ := set $props "security.protocol" "SASL_PLAINTEXT" -}}
{{- else if .Values.kafka.tls.enabled -}}{{- $_ := set $props "security.protocol" "SSL" -}}
{{- end -}}
{{- if .Values.kafka.sasl.enabled -}}
{{- $_ := set $props "sasl.mechanisms" .Values.kafka.sasl.mechanism -}}
{{- $_ := set $props "sasl.username" "${KAFKA_SASL_USERNAME}" -}}
{{- $_ := set $props "sasl.password" "${KAFKA_SASL_PASSWORD}" -}}
{{- end -}}
{{- if .Values.kafka.tls.enabled -}}
{{- $_ := set $props "ssl.ca.location" "/etc/plantrouter/tls/ca.crt" -}}
{{- $_ := set $props "ssl.endpoint.identification.algorithm" "https" -}}
{{- if .Values.kafka.tls.clientCertificate -}}
{{- $_ := set $props "ssl.certificate.location" "/etc/plantrouter/tls/tls.crt" -}}
{{- $_ := set $props "ssl.key.location" "/etc/plantrouter/tls/tls.key" -}}
{{- end -}}
{{- end -}}
{{- /* Quoted: plantrouter-launch escapes ${NAME} values for YAML double-quoted strings. */ -}}
{{- range $key, $value := $props }}
{{ $key }}: {{ $value | toString | quote }}
{{- end -}}
{{- end -}}

{{- define "plantrouter.quotedMap" -}}
{{- if . -}}
{{- range $key, $value := . }}
{{ $key }}: {{ $value | toString | quote }}
{{- end -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/* Environment shared by the router and the topics Job. */}}
{{- define "plantrouter.kafkaEnv" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
{{- if .Values.kafka.sasl.enabled }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: username
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: password
{{- end }}
- name: PLANTROUTER_CONFIG_TEMPLATE
  value: /etc/plantrouter/config/plantrouter.yaml
- name: PLANTROUTER_CONFIG
  value: /run/plantrouter/plantrouter.yaml
{{- end -}}

{{- define "plantrouter.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "plantrouter.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Config, Topics/ and TLS mounts shared by the router and the topics Job. */}}
{{- define "plantrouter.configMounts" -}}
- name: config
  mountPath: /etc/plantrouter/config
  readOnly: true
- name: topics
  mountPath: /etc/plantrouter/Topics
  readOnly: true
- name: topic-schemas
  mountPath: /etc/plantrouter/Topics/schemas
  readOnly: true
- name: run
  mountPath: /run/plantrouter
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.enabled }}
- name: kafka-tls
  mountPath: /etc/plantrouter/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "plantrouter.configVolumes" -}}
- name: config
  configMap:
    name: {{ include "plantrouter.fullname" . }}-config
- name: topics
  configMap:
    name: {{ include "plantrouter.fullname" . }}-topics
- name: topic-schemas
  configMap:
    name: {{ include "plantrouter.fullname" . }}-topic-schemas
# The rendered configuration may hold credentials: memory only.
- name: run
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.kafka.tls.enabled }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
{{- end }}
{{- end -}}
