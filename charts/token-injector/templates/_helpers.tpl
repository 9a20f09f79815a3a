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
token-injector.tlsSecretName: the Secret that holds the webhook's serving certificate (tls.crt, tls.key, ca.crt). Each
certificate mode has its own: the Secret cert-manager writes carries no Helm ownership, so a Helm-rendered Secret of
the same name would fail the upgrade from cert-manager back to the generated certificate.
*/}}
{{- define "token-injector.tlsSecretName" -}}
{{- include "token-injector.componentName" (list . (ternary "webhook-cert-manager-tls" "webhook-tls" .Values.certManager.enabled)) }}
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
