#!/usr/bin/env python3
"""Validates Kubernetes manifests, for vigie's test suite.

    validate.py CRD_DIR FILE...

Every document of every FILE (multi-document YAML) is checked:
- kinds of the prometheus-operator (monitoring.coreos.com) against the
  openAPIV3Schema of the matching CRD in CRD_DIR, made strict: an object
  that lists its properties accepts no others (the API server would silently
  prune a misspelt field; here it is an error);
- every other kind with PyPI's kubernetes-validate, strict, for each
  Kubernetes version in $K8S_VERSIONS (default "1.28.0 1.33.0").

Prints one line per document and exits 1 if any is invalid.
"""
import copy
import glob
import os
import sys

import jsonschema
import kubernetes_validate
import yaml


def strict(schema):
    """A copy of an OpenAPI v3 schema in which objects with `properties`
    refuse unknown ones, unless marked x-kubernetes-preserve-unknown-fields,
    and whose patterns Python's re accepts."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            # The CRDs' patterns are Go (RE2) regular expressions: an inline
            # flag such as ^(?i)... must come first for Python's re.
            pat = node.get("pattern")
            if isinstance(pat, str) and "(?i)" in pat and not pat.startswith("(?i)"):
                node["pattern"] = "(?i)" + pat.replace("(?i)", "")
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    return s


def crd_schemas(crd_dir):
    """{(group, version, kind): strict schema} from the CRDs in crd_dir."""
    out = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for v in spec["versions"]:
                    schema = v["schema"]["openAPIV3Schema"]
                    key = (spec["group"], v["name"], spec["names"]["kind"])
                    out[key] = strict(schema)
    if not out:
        sys.exit(f"no CustomResourceDefinition in {crd_dir}")
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    crds = crd_schemas(sys.argv[1])
    versions = os.environ.get("K8S_VERSIONS", "1.28.0 1.33.0").split()
    failed = 0
    checked = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            checked += 1
            name = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            api = doc.get("apiVersion", "")
            group, _, version = api.rpartition("/")
            try:
                if group == "monitoring.coreos.com":
                    key = (group, version, doc["kind"])
                    if key not in crds:
                        raise ValueError(f"no CRD for {key} in {sys.argv[1]}")
                    jsonschema.validate(doc, crds[key])
                    print(f"ok   {name} (CRD schema)")
                else:
                    for v in versions:
                        kubernetes_validate.validate(doc, v, strict=True)
                    print(f"ok   {name} (Kubernetes {', '.join(versions)})")
            except Exception as e:  # noqa: BLE001 - report every kind of failure
                failed += 1
                msg = getattr(e, "message", str(e))
                where = "/".join(str(p) for p in getattr(e, "absolute_path", []))
                print(f"FAIL {name}: {where}: {msg}")
    print(f"validate.py: {checked} documents, {failed} invalid")
    sys.exit(1 if failed or not checked else 0)


if __name__ == "__main__":
    main()
