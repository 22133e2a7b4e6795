//! The Kubernetes manifests of `deploy/kubernetes/`: validated against the
//! Kubernetes schemas (PyPI's kubernetes-validate) and, for the ServiceMonitor
//! and PrometheusRule, the prometheus-operator CRD schemas
//! (`../shared/fixtures/crds`), alone and through kustomize; misspelt copies
//! fail; the kustomization sets what kube-prometheus-stack needs; the
//! generated PrometheusRule and dashboard ConfigMaps are fresh.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{absent, shared_fixture};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The Python of target/tools/venv, which scripts/test fills with
/// kubernetes-validate, jsonschema and PyYAML; None (skip) when absent.
fn validator_python() -> Option<PathBuf> {
    let py = repo("target/tools/venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import kubernetes_validate, jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    absent(
        &py,
        "scripts/test installs kubernetes-validate and jsonschema there",
        "run scripts/test once to install kubernetes-validate",
    );
    None
}

/// `kubectl kustomize deploy/kubernetes` (offline: no cluster needed).
fn kustomize() -> Option<String> {
    let out = match Command::new("kubectl")
        .args(["kustomize"])
        .arg(repo("deploy/kubernetes"))
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            absent(
                Path::new("kubectl"),
                "scripts/test installs kubectl",
                "kubectl is not installed",
            );
            return None;
        }
    };
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Runs tests/k8s/validate.py on `files`; (success, output).
fn validate(py: &Path, crds: &Path, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(py)
        .arg(repo("tests/k8s/validate.py"))
        .arg(crds)
        .args(files)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

const MANIFESTS: [&str; 5] = [
    "daemonset.yaml",
    "service.yaml",
    "servicemonitor.yaml",
    "vigie-prometheusrule.yaml",
    "vigie-dashboards-configmap.yaml",
];

/// The YAML documents of a multi-document stream, as JSON values.
fn documents(yaml: &str) -> Vec<serde_json::Value> {
    yaml.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

#[test]
fn kubernetes_manifests_are_valid_alone_and_through_kustomize() {
    let Some(crds) = shared_fixture("crds") else {
        return;
    };
    let Some(py) = validator_python() else {
        return;
    };
    let Some(rendered) = kustomize() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("kustomized.yaml");
    std::fs::write(&all, &rendered).unwrap();
    let mut files: Vec<PathBuf> = MANIFESTS
        .iter()
        .map(|m| repo("deploy/kubernetes").join(m))
        .collect();
    files.push(all);
    let (ok, out) = validate(&py, &crds, &files);
    assert!(ok, "{out}");
    // Each manifest alone and once more through kustomize.
    assert!(
        out.contains("validate.py: 12 documents, 0 invalid"),
        "{out}"
    );
    assert!(out.contains("PrometheusRule/vigie (CRD schema)"), "{out}");
    assert!(out.contains("ServiceMonitor/vigie (CRD schema)"), "{out}");
}

#[test]
fn a_misspelt_manifest_fails_validation() {
    let Some(crds) = shared_fixture("crds") else {
        return;
    };
    let Some(py) = validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("servicemonitor.yaml", "relabelings:", "relabellings:"),
        ("servicemonitor.yaml", "port: metrics", "port: 7361"),
        ("vigie-prometheusrule.yaml", "    - alert: ", "    - alrt: "),
        (
            "daemonset.yaml",
            "hostNetwork: true",
            "hostNetwork: yes-please",
        ),
        ("daemonset.yaml", "mountPropagation:", "mountPropagaton:"),
        (
            "service.yaml",
            "targetPort: metrics",
            "targetPort: [metrics]",
        ),
    ];
    for (i, (file, from, to)) in cases.iter().enumerate() {
        let text = read(&format!("deploy/kubernetes/{file}"));
        assert!(text.contains(from), "{file} has no {from:?}");
        let broken = dir.path().join(format!("{i}-{file}"));
        std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
        let (ok, out) = validate(&py, &crds, &[broken]);
        assert!(!ok, "{file} with {to:?} passed:\n{out}");
    }
}

#[test]
fn kustomization_sets_namespace_release_label_host_mounts_and_node_name() {
    let Some(rendered) = kustomize() else {
        return;
    };
    let docs = documents(&rendered);
    let kind = |k: &str| -> &serde_json::Value {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    for d in &docs {
        assert_eq!(d["metadata"]["namespace"], "monitoring", "{}", d["kind"]);
    }
    for k in ["PrometheusRule", "ServiceMonitor"] {
        assert_eq!(
            kind(k)["metadata"]["labels"]["release"],
            "kube-prometheus-stack",
            "{k}"
        );
    }
    let pod = &kind("DaemonSet")["spec"]["template"]["spec"];
    let args: Vec<&str> = pod["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "--path.procfs=/host/proc",
        "--path.sysfs=/host/sys",
        "--path.rootfs=/host/root",
    ] {
        assert!(args.contains(&a), "{args:?}");
    }
    let host_paths: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["hostPath"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(host_paths, ["/proc", "/sys", "/", "/dev"]);
    assert_eq!(
        pod["containers"][0]["securityContext"]["privileged"], true,
        "smartctl needs the disks"
    );
    let tolerations = serde_json::to_string(&pod["tolerations"]).unwrap();
    assert!(
        tolerations.contains("node-role.kubernetes.io/control-plane"),
        "{tolerations}"
    );
    let relabel = &kind("ServiceMonitor")["spec"]["endpoints"][0]["relabelings"][0];
    assert_eq!(
        relabel["sourceLabels"][0],
        "__meta_kubernetes_pod_node_name"
    );
    assert_eq!(relabel["targetLabel"], "instance");
    // The rules' selector is job="vigie": the job label is the Service's name.
    assert_eq!(kind("Service")["metadata"]["name"], "vigie");
    // The vigie binary's own defaults say the same port.
    assert_eq!(kind("Service")["spec"]["ports"][0]["port"], 7361);
}

#[test]
fn kubernetes_generated_files_are_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "gen-rules",
            "--format",
            "prometheus-operator",
            "--thresholds",
        ])
        .arg(repo("rules/thresholds.yaml"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "vigie-prometheusrule.yaml",
        "vigie-dashboards-configmap.yaml",
    ] {
        let fresh = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(
            fresh == read(&format!("deploy/kubernetes/{f}")),
            "deploy/kubernetes/{f} is out of date: regenerate it (deploy/kubernetes/kustomization.yaml says how)"
        );
    }
}

/// `gen-rules --format prometheus-operator --namespace --rule-label`: the
/// PrometheusRule carries the namespace and labels (kube-prometheus-stack's
/// `release` selector), the ConfigMaps the namespace, and both still pass
/// the Kubernetes and CRD schemas.
#[test]
fn gen_rules_sets_the_operator_objects_namespace_and_labels() {
    let out = tempfile::tempdir().unwrap();
    let status = assert_cmd::Command::cargo_bin("vigie")
        .unwrap()
        .args(["gen-rules", "--thresholds"])
        .arg(repo("rules/thresholds.yaml"))
        .arg("--out")
        .arg(out.path())
        .args([
            "--format=prometheus-operator",
            "--namespace=monitoring",
            "--rule-label=release=kube-prometheus-stack",
            "--rule-label=example.org/team=",
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let rule_path = out.path().join("vigie-prometheusrule.yaml");
    let rule = &documents(&std::fs::read_to_string(&rule_path).unwrap())[0];
    let meta = &rule["metadata"];
    assert_eq!(meta["namespace"], "monitoring", "{meta}");
    assert_eq!(meta["labels"]["release"], "kube-prometheus-stack", "{meta}");
    assert_eq!(meta["labels"]["example.org/team"], "", "{meta}");
    assert_eq!(meta["labels"]["app.kubernetes.io/name"], "vigie", "{meta}");
    let cm_path = out.path().join("vigie-dashboards-configmap.yaml");
    let cms = documents(&std::fs::read_to_string(&cm_path).unwrap());
    assert_eq!(cms.len(), 2);
    for cm in &cms {
        assert_eq!(cm["metadata"]["namespace"], "monitoring", "{cm}");
        assert!(cm["metadata"]["labels"].get("release").is_none(), "{cm}");
    }
    let Some(crds) = shared_fixture("crds") else {
        return;
    };
    let Some(py) = validator_python() else {
        return;
    };
    let (ok, report) = validate(&py, &crds, &[rule_path, cm_path]);
    assert!(ok, "{report}");
    assert!(
        report.contains("PrometheusRule/vigie (CRD schema)"),
        "{report}"
    );
}

/// Bad metadata is refused before anything is written, exit 2, saying why.
#[test]
fn gen_rules_refuses_bad_operator_metadata() {
    for (args, says) in [
        (
            vec!["--namespace=Monitoring"],
            "is not a Kubernetes namespace",
        ),
        (vec!["--namespace=-x"], "is not a Kubernetes namespace"),
        (vec!["--rule-label=release"], "is not KEY=VALUE"),
        (vec!["--rule-label=a b=c"], "is not a Kubernetes label key"),
        (
            vec!["--rule-label=Example.org/x=y"],
            "is not a Kubernetes label key",
        ),
        (
            vec!["--rule-label=release=kube prometheus"],
            "is not a Kubernetes label value",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let o = assert_cmd::Command::cargo_bin("vigie")
            .unwrap()
            .args(["gen-rules", "--format=prometheus-operator", "--thresholds"])
            .arg(repo("rules/thresholds.yaml"))
            .arg("--out")
            .arg(out.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "{args:?}"
        );
    }
    // Without the operator's format the flags mean nothing: say so.
    let out = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::cargo_bin("vigie")
        .unwrap()
        .args(["gen-rules", "--namespace=monitoring", "--thresholds"])
        .arg(repo("rules/thresholds.yaml"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only apply with --format prometheus-operator")
    );
}
