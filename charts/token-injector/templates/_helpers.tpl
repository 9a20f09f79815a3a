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
token-injector.clusterScopedName: the name of a cluster-scoped object (the MutatingWebhookConfiguration, the RBAC
ClusterRole and its binding): the full name, a component suffix when one is given, and the release namespace, so that
one release name in two namespaces does not collide. Past 63 characters it is cut and ends with a hash of the whole,
so that two long names stay apart. Call with (list $ "suffix"), the suffix possibly empty.
*/}}
{{- define "token-injector.clusterScopedName" -}}
{{- $root := index . 0 }}
{{- $parts := list (include "token-injector.fullname" $root) (index . 1) $root.Release.Namespace | compact }}
{{- $name := join "-" $parts }}
{{- if gt (len $name) 63 }}
{{- printf "%s-%s" ($name | trunc 54 | trimSuffix "-") ($name | sha256sum | trunc 8) }}
{{- else }}
{{- $name }}
{{- end }}
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
token-injector.image: an image reference from a {repository, tag, digest} dict: repository@digest when only a digest
is given, repository:tag@digest when both are (the tag is then shown, the digest pins), else repository:tag, the tag
defaulting to the chart's appVersion. Call with (list $ imageDict).
*/}}
{{- define "token-injector.image" -}}
{{- $root := index . 0 }}
{{- $image := index . 1 }}
{{- if and $image.digest $image.tag }}
{{- printf "%s:%s@%s" $image.repository $image.tag $image.digest }}
{{- else if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
token-injector.sidecarImage: the injected sidecar's image. With no sidecar.image repository, tag or digest it is the
webhook's image. Otherwise it is built from its own fields, the repository falling back to image.repository and,
unless it has a digest, the tag to image.tag; image.digest is never borrowed, because a digest names one image of one repository (a sidecar with
another repository or tag and the webhook's digest would be another image, or none).
*/}}
{{- define "token-injector.sidecarImage" -}}
{{- $own := .Values.sidecar.image }}
{{- if or $own.repository $own.tag $own.digest }}
{{- $tag := $own.tag }}
{{- if not (or $tag $own.digest) }}
{{- $tag = .Values.image.tag }}
{{- end }}
{{- include "token-injector.image" (list . (dict "repository" (default .Values.image.repository $own.repository) "tag" $tag "digest" $own.digest)) }}
{{- else }}
{{- include "token-injector.image" (list . .Values.image) }}
{{- end }}
{{- end }}

{{/*
token-injector.tlsSecretName: the Secret that holds the webhook's serving certificate. Each certificate mode has its
own: selfManaged, the one the webhook creates and keeps (never rendered by Helm); certManager, the one cert-manager
writes; secret, certificate.existingSecret. Separate names let a release switch modes without two owners fighting over
one Secret.
*/}}
{{- define "token-injector.tlsSecretName" -}}
{{- $mode := .Values.certificate.mode }}
{{- if eq $mode "secret" }}
{{- required "certificate.existingSecret is required when certificate.mode is secret: name the kubernetes.io/tls Secret that holds the webhook's certificate" .Values.certificate.existingSecret }}
{{- else }}
{{- include "token-injector.componentName" (list . (ternary "webhook-cert-manager-tls" "webhook-tls" (eq $mode "certManager"))) }}
{{- end }}
{{- end }}

{{/*
token-injector.webhookConfigurationName: the name of the MutatingWebhookConfiguration and of the
ValidatingWebhookConfiguration (two kinds, one name), which the self-managed webhook writes its caBundle into.
*/}}
{{- define "token-injector.webhookConfigurationName" -}}
{{- include "token-injector.clusterScopedName" (list . "") }}
{{- end }}

{{/*
token-injector.webhookConfigurationMetadata: name, labels and annotations of both webhook configurations. With
certManager, cert-manager's cainjector writes the Certificate's CA into every caBundle of the object.
*/}}
{{- define "token-injector.webhookConfigurationMetadata" -}}
name: {{ include "token-injector.webhookConfigurationName" . }}
labels:
  {{- include "token-injector.labels" . | nindent 2 }}
  app.kubernetes.io/component: webhook
{{- if eq .Values.certificate.mode "certManager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "token-injector.webhookName" .) }}
{{- end }}
{{- end }}

{{/*
token-injector.webhookClientConfig: how the API server reaches the webhook: its Service on 443 and the path given. Only
the secret mode renders a caBundle: selfManaged, the webhook writes it (so the render holds no key material and is the
same every time); certManager, cainjector does. Call with (list $ "/path").
*/}}
{{- define "token-injector.webhookClientConfig" -}}
{{- $root := index . 0 -}}
service:
  name: {{ include "token-injector.webhookName" $root }}
  namespace: {{ $root.Release.Namespace }}
  path: {{ index . 1 }}
  port: 443
{{- if eq $root.Values.certificate.mode "secret" }}
caBundle: {{ $root.Values.certificate.caBundle }}
{{- end }}
{{- end }}

{{/*
token-injector.webhookNamespaceSelector: never kube-system, never the webhook's own namespace (its pods must start
without it), never webhook.excludeNamespaces.
*/}}
{{- define "token-injector.webhookNamespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- include "token-injector.excludedNamespaces" . | fromJsonArray | toYaml | nindent 6 }}
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
token-injector.durationMs: a duration of the schema's form (a whole number and ms, s, m or h) in milliseconds, to
compare two of them.
*/}}
{{- define "token-injector.durationMs" -}}
{{- $number := regexFind "^[0-9]+" . }}
{{- $factors := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- mul (int64 $number) (index $factors (trimPrefix $number .)) }}
{{- end }}

{{/*
token-injector.checkCertificate: fails the render when the certificate values cannot work together: a renewal point
not before the end of a lifetime it applies to (the certificate would be renewed all the time), or the secret mode
without its Secret or CA.
*/}}
{{- define "token-injector.checkCertificate" -}}
{{- $certificate := .Values.certificate }}
{{- $renew := include "token-injector.durationMs" $certificate.renewBefore | int64 }}
{{- $lifetimes := dict "servingLifetime" $certificate.servingLifetime }}
{{- if eq $certificate.mode "selfManaged" }}
{{- $_ := set $lifetimes "caLifetime" $certificate.caLifetime }}
{{- end }}
{{- if eq $certificate.mode "selfManaged" }}
{{- /* The webhook's own bounds (--ca-lifetime, --serving-certificate-lifetime: 1m to 3650 days; --renew-before: more
than the two 30 s waits of a CA rotation at the default --tls-reload-interval), so that what renders also starts. */}}
{{- range $name, $lifetime := $lifetimes }}
{{- $ms := include "token-injector.durationMs" $lifetime | int64 }}
{{- if or (lt $ms 60000) (gt $ms 315360000000) }}
{{- fail (printf "certificate.%s (%s) must be from 1m to 87600h: the webhook refuses other certificate lifetimes" $name $lifetime) }}
{{- end }}
{{- end }}
{{- if le $renew 60000 }}
{{- fail (printf "certificate.renewBefore (%s) must be more than 60s: a CA rotation waits twice 30s for every replica to follow" $certificate.renewBefore) }}
{{- end }}
{{- end }}
{{- if ne $certificate.mode "secret" }}
{{- range $name, $lifetime := $lifetimes }}
{{- if ge $renew (include "token-injector.durationMs" $lifetime | int64) }}
{{- fail (printf "certificate.renewBefore (%s) must be less than certificate.%s (%s): a certificate is renewed that long before it expires" $certificate.renewBefore $name $lifetime) }}
{{- end }}
{{- end }}
{{- else }}
{{- if not $certificate.caBundle }}
{{- fail "certificate.caBundle is required when certificate.mode is secret: the base64-encoded PEM of the CA that signed certificate.existingSecret's certificate" }}
{{- end }}
{{- $_ := include "token-injector.tlsSecretName" . }}
{{- end }}
{{- end }}

{{/*
token-injector.testNamespace: where helm test's dry-run pod goes: test.namespace, or else default, or kube-public when
the release is in default (both exist in every cluster; the webhook never injects into its own namespace).
*/}}
{{- define "token-injector.testNamespace" -}}
{{- .Values.test.namespace | default (ternary "kube-public" "default" (eq .Release.Namespace "default")) }}
{{- end }}

{{/*
token-injector.excludedNamespaces: the namespaces the webhook never injects into, as a JSON list: kube-system, the
release namespace (the webhook's own pods must start without it) and webhook.excludeNamespaces.
*/}}
{{- define "token-injector.excludedNamespaces" -}}
{{- concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq | toJson }}
{{- end }}

{{/*
token-injector.requireApi: fails the install with a clear message when the cluster does not serve a kind that a value
asks for (the CRDs of cert-manager, the Prometheus Operator or Managed Service for Prometheus are missing), rather
than letting the API server refuse an unknown kind halfway through. helm template knows no cluster: pass the kinds
with --api-versions there. Call with (list $ "group/version/Kind" "the value that asks for it" "what provides it").
*/}}
{{- define "token-injector.requireApi" -}}
{{- $root := index . 0 }}
{{- $api := index . 1 }}
{{- if not ($root.Capabilities.APIVersions.Has $api) }}
{{- fail (printf "%s needs the %s API, which this cluster does not serve: install %s first (with helm template, pass --api-versions %s)" (index . 2) $api (index . 3) $api) }}
{{- end }}
{{- end }}

{{/*
token-injector.quantityValue: a Kubernetes quantity (10m, 0.5, 64Mi, 1G) as a float, to compare two of them; empty
for what is not a quantity (the schema refuses those).
*/}}
{{- define "token-injector.quantityValue" -}}
{{- if regexMatch "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$" . }}
{{- $number := regexFind "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" . }}
{{- $factors := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- mulf (float64 $number) (index $factors (trimPrefix $number .)) }}
{{- end }}
{{- end }}

{{/*
token-injector.injectLabel: the label that asks for injection, which the webhook's objectSelector and the sidecar
monitors select on.
*/}}
{{- define "token-injector.injectLabel" -}}
token-injector.dev/inject: "true"
{{- end }}

{{/*
token-injector.sidecarMetricsPort: the name the webhook gives the injected sidecar's admin port (/metrics), which the
sidecar monitors scrape.
*/}}
{{- define "token-injector.sidecarMetricsPort" -}}
ti-admin
{{- end }}

{{/*
token-injector.alertGroups: "groups:" with the named groups of files/alerts.yaml, as they are. Call with
(list $ "group" ...).
*/}}
{{- define "token-injector.alertGroups" -}}
{{- $names := rest . }}
{{- $groups := list }}
{{- range ((index . 0).Files.Get "files/alerts.yaml" | fromYaml).groups }}
{{- if has .name $names }}
{{- $groups = append $groups . }}
{{- end }}
{{- end }}
{{- toYaml (dict "groups" $groups) }}
{{- end }}
