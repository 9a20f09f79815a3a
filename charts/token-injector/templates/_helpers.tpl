{{/*
token-injector.name: the chart name, or nameOverride; cut to 63 characters (the DNS label limit of names and label values).
*/}}
{{- define "token-injector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
token-injector.fullname: the prefix of every resource name: fullnameOverride, or the release name followed by the
chart name unless the release name already contains it; cut to 63 characters.
*/}}
{{- define "token-injector.fullname" -}}
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

{{/*
token-injector.componentName: the full name with a component suffix (webhook, tls, ...), cut so that the whole
stays within 63 characters. Call with (list $ "suffix").
*/}}
{{- define "token-injector.componentName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $prefix := include "token-injector.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix $suffix }}
{{- end }}

{{/*
token-injector.webhookName: name of the webhook's Deployment, Service, PDB and RBAC objects.
*/}}
{{- define "token-injector.webhookName" -}}
{{- include "token-injector.componentName" (list . "webhook") }}
{{- end }}

{{/*
token-injector.chart: chart name and version, for the helm.sh/chart label.
*/}}
{{- define "token-injector.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
token-injector.labels: the common labels of every object.
*/}}
{{- define "token-injector.labels" -}}
helm.sh/chart: {{ include "token-injector.chart" . }}
app.kubernetes.io/name: {{ include "token-injector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: token-injector
{{- end }}

{{/*
token-injector.webhookSelectorLabels: the labels that select the webhook pods (stable across upgrades).
*/}}
{{- define "token-injector.webhookSelectorLabels" -}}
app.kubernetes.io/name: {{ include "token-injector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{/*
token-injector.serviceAccountName: the webhook's service account, created or existing.
*/}}
{{- define "token-injector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "token-injector.webhookName" .) .Values.serviceAccount.name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
token-injector.image: an image reference from a {repository, tag, digest} dict: repository@digest when a digest is
given, else repository:tag, the tag defaulting to the chart's appVersion. Call with (list $ imageDict).
*/}}
{{- define "token-injector.image" -}}
{{- $root := index . 0 }}
{{- $image := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
token-injector.sidecarImage: the injected sidecar's image; each empty sidecar.image field falls back to image.
*/}}
{{- define "token-injector.sidecarImage" -}}
{{- $image := dict "repository" (default .Values.image.repository .Values.sidecar.image.repository) "tag" (default .Values.image.tag .Values.sidecar.image.tag) "digest" (default .Values.image.digest .Values.sidecar.image.digest) }}
{{- include "token-injector.image" (list . $image) }}
{{- end }}

{{/*
token-injector.tlsSecretName: the Secret that holds the webhook's serving certificate (tls.crt, tls.key, ca.crt).
*/}}
{{- define "token-injector.tlsSecretName" -}}
{{- include "token-injector.componentName" (list . "webhook-tls") }}
{{- end }}

{{/*
token-injector.serviceDnsNames: the names the serving certificate must cover, as a list.
*/}}
{{- define "token-injector.serviceDnsNames" -}}
{{- $service := include "token-injector.webhookName" . }}
{{- $ns := .Release.Namespace }}
{{- list $service (printf "%s.%s" $service $ns) (printf "%s.%s.svc" $service $ns) (printf "%s.%s.svc.cluster.local" $service $ns) | toJson }}
{{- end }}

{{/*
token-injector.generatedTls: the serving certificate when cert-manager is off, as a dict of base64 PEM values
(caCrt, tlsCrt, tlsKey). An existing Secret is reused so that upgrades keep the CA the API server trusts; otherwise a
CA and a certificate signed by it are generated. Helm renders each template file separately, and the Secret and the
webhook's caBundle must agree, so the first caller keeps the result in the chart's shared values map under the
internal key "tokenInjectorGeneratedTls" (not a user value; the schema is checked before rendering) and later
callers read it from there.
*/}}
{{- define "token-injector.generatedTls" -}}
{{- $cached := index .Values "tokenInjectorGeneratedTls" | default dict }}
{{- if not $cached }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "token-injector.tlsSecretName" .) }}
{{- $data := dict }}
{{- if $existing }}
{{- $data = $existing.data | default dict }}
{{- end }}
{{- if and (hasKey $data "ca.crt") (hasKey $data "tls.crt") (hasKey $data "tls.key") }}
{{- $cached = dict "caCrt" (index $data "ca.crt") "tlsCrt" (index $data "tls.crt") "tlsKey" (index $data "tls.key") }}
{{- else }}
{{- $days := int .Values.certificate.validityDays }}
{{- $names := include "token-injector.serviceDnsNames" . | fromJsonArray }}
{{- $ca := genCA (printf "%s-ca" (include "token-injector.fullname" .)) $days }}
{{- $cert := genSignedCert (index $names 2) nil $names $days $ca }}
{{- $cached = dict "caCrt" ($ca.Cert | b64enc) "tlsCrt" ($cert.Cert | b64enc) "tlsKey" ($cert.Key | b64enc) }}
{{- end }}
{{- $_ := set .Values "tokenInjectorGeneratedTls" $cached }}
{{- end }}
{{- toYaml $cached }}
{{- end }}
