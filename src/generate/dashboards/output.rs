//! Dashboards as files: pretty JSON, and ConfigMaps for Grafana's sidecar.

use serde_json::Value;

use crate::generate::GenerateError;

/// A dashboard as written to disk: two-space indented, keys sorted, ending
/// with a newline.
pub fn to_json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value always serializes");
    s.push('\n');
    s
}

/// The dashboards as ConfigMaps for the Grafana sidecar of kube-prometheus
/// and the Grafana Helm chart (label `grafana_dashboard: "1"`), one per
/// dashboard so each stays well under the 256 KiB that client-side
/// `kubectl apply` can store in its annotation.
pub fn configmaps(
    dashboards: &[(&str, Value)],
    namespace: Option<&str>,
) -> Result<String, GenerateError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ConfigMap<'a> {
        api_version: &'static str,
        kind: &'static str,
        metadata: Metadata<'a>,
        data: std::collections::BTreeMap<&'a str, String>,
    }
    #[derive(serde::Serialize)]
    struct Metadata<'a> {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        labels: std::collections::BTreeMap<&'a str, &'a str>,
        annotations: std::collections::BTreeMap<&'a str, &'a str>,
    }
    let mut docs = Vec::new();
    for (file, d) in dashboards {
        let name = format!(
            "vigie-dashboard-{}",
            file.trim_end_matches(".json").trim_start_matches("vigie-")
        );
        let cm = ConfigMap {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: Metadata {
                name,
                namespace,
                labels: [
                    ("grafana_dashboard", "1"),
                    ("app.kubernetes.io/name", "vigie"),
                    ("app.kubernetes.io/part-of", "vigie"),
                ]
                .into(),
                // The folder, for sidecars run with folderAnnotation set to
                // this key (kube-prometheus-stack's usual setting).
                annotations: [("grafana_folder", "vigie")].into(),
            },
            data: [(
                *file,
                serde_json::to_string(d).map_err(|e| GenerateError::json("a dashboard", e))?,
            )]
            .into(),
        };
        docs.push(serde_saphyr::to_string(&cm).map_err(|e| GenerateError::yaml("a ConfigMap", e))?);
    }
    Ok(docs.join("---\n"))
}
