// monitoring.googleapis.com/v1, Google Cloud Managed Service for Prometheus. No npm or NuGet package ships these CRDs'
// schemas, so this is a minimal model written from the published CRDs (GoogleCloudPlatform/prometheus-engine,
// charts/operator/crds): the fields of PodMonitoring, ClusterPodMonitoring, Rules and ClusterRules that a chart would
// set, with the CRDs' types, enums and required fields. A field missing here is an error, as a misplaced one is.

type Duration = `${number}${"ms" | "s" | "m" | "h"}`;

interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface SecretSelector {
  secret: { name: string; key: string; namespace?: string };
}

type TlsVersion = "TLS10" | "TLS11" | "TLS12" | "TLS13";

interface TLS {
  ca?: SecretSelector;
  cert?: SecretSelector;
  key?: SecretSelector;
  serverName?: string;
  insecureSkipVerify?: boolean;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
}

interface RelabelingRule {
  action?: "replace" | "lowercase" | "uppercase" | "keep" | "drop" | "keepequal" | "dropequal" | "hashmod" | "labeldrop" | "labelkeep";
  sourceLabels?: string[];
  separator?: string;
  regex?: string;
  modulus?: number;
  targetLabel?: string;
  replacement?: string;
}

interface ScrapeEndpoint {
  port: string | number;
  interval: Duration;
  timeout?: Duration;
  path?: string;
  scheme?: "http" | "https";
  params?: Record<string, string[]>;
  tls?: TLS;
  metricRelabeling?: RelabelingRule[];
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

interface TargetLabels {
  metadata?: ("pod" | "container" | "node" | "top_level_controller_name" | "top_level_controller_type")[];
  fromPod?: { from: string; to?: string }[];
}

interface MonitoringSpec {
  selector: LabelSelector;
  endpoints: [ScrapeEndpoint, ...ScrapeEndpoint[]];
  targetLabels?: TargetLabels;
  filterRunning?: boolean;
  limits?: { samples?: number; labels?: number; labelNameLength?: number; labelValueLength?: number };
}

type Rule =
  | { record: string; expr: string; labels?: Record<string, string> }
  | { alert: string; expr: string; for?: Duration; labels?: Record<string, string>; annotations?: Record<string, string> };

interface RulesSpec {
  groups: { name: string; interval?: Duration; rules: [Rule, ...Rule[]] }[];
}

export interface IPodMonitoring {
  apiVersion: "monitoring.googleapis.com/v1";
  kind: "PodMonitoring";
  metadata: ObjectMeta;
  spec: MonitoringSpec;
}

export interface IClusterPodMonitoring {
  apiVersion: "monitoring.googleapis.com/v1";
  kind: "ClusterPodMonitoring";
  metadata: ObjectMeta;
  spec: MonitoringSpec;
}

export interface IRules {
  apiVersion: "monitoring.googleapis.com/v1";
  kind: "Rules";
  metadata: ObjectMeta;
  spec: RulesSpec;
}

export interface IClusterRules {
  apiVersion: "monitoring.googleapis.com/v1";
  kind: "ClusterRules";
  metadata: ObjectMeta;
  spec: RulesSpec;
}
