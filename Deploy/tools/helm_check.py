#!/usr/bin/env python3
"""Checks the Helm chart in Deploy/helm/plantrouter (called by Deploy/tools/check.sh).

helm here is Helm's own Go SDK (v4) through the PyPI package helm-python-sdk (`helm_python`):
`lint` is `helm lint`, `Chart.render` is `helm template` (offline, no cluster). The rendered
manifests then go through the same validators as the kustomize base: kubernetes-validate
--strict for core kinds, Deploy/tools/schemas/keda.json for KEDA, promtool for the
PrometheusRule's groups; plus the chart's own promises (version tags, runbook URLs, secrets
referenced not embedded). Prints PASS/FAIL/SKIP lines like validate.py.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "Deploy", "helm", "plantrouter")
failed = False


def report(name, ok, detail=""):
    global failed
    word = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
    failed |= ok is False
    print(f"{word} helm-{name}" + (f": {detail}" if detail else ""))


def plantrouter_version():
    with open(os.path.join(ROOT, "Sources/plantrouter/PlantRouterVersion.swift")) as f:
        return re.search(r'static let number = "([^"]+)"', f.read()).group(1)


# Every optional part on, as a production install with SASL over TLS would have it.
FULL = {
    "kafka": {"bootstrapServers": "kafka.plant:9093", "consumer": {"fetch.wait.max.ms": "100"},
              "producer": {"linger.ms": "10"},
              "sasl": {"enabled": True, "mechanism": "SCRAM-SHA-512"},
              "tls": {"enabled": True, "clientCertificate": True}},
    "topicsApply": {"enabled": True, "replicationFactor": 3},
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "prometheusRule": {"enabled": True, "runbookBaseURL": "https://docs.plant.internal/plantrouter/Runbooks.md"},
    "grafanaDashboard": {"enabled": True},
}


def documents(manifests):
    docs = []
    for path, text in sorted(manifests.items()):
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append((path, doc))
    return docs


def main():
    try:
        import helm_python as helm
    except ImportError:
        report("sdk", None, "helm-python-sdk (Helm's Go SDK for Python) not installed and not installable here: "
                            "the chart is not linted or rendered; Deploy/kubernetes is still validated")
        return 0
    report("sdk", True, f"Helm SDK {helm.helm_sdk_version()} through helm-python-sdk")

    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart_meta = yaml.safe_load(f)
    version = plantrouter_version()
    report("app-version", chart_meta["appVersion"] == version,
           f"Chart.yaml appVersion {chart_meta['appVersion']} {'=' if chart_meta['appVersion'] == version else '!='} "
           f"PlantRouterVersion.number {version}")

    for name, values in (("defaults", None), ("full", FULL)):
        lint = helm.lint(CHART, values, strict=True)
        problems = [m for m in lint.get("messages", []) if m.get("severity", 0) >= 2] + lint.get("errors", [])
        report(f"lint-{name}", not problems, "; ".join(map(str, problems)) or f"helm lint --strict: {lint.get('total_charts_linted')} chart, no warnings")

    rendered = {}
    with helm.Chart.load(CHART) as chart:
        for name, values in (("defaults", None), ("full", FULL)):
            rendered[name] = documents(chart.render(values, name="plantrouter", namespace="plant", is_install=True))
        try:
            chart.render({"image": {"tag": "latest"}}, name="plantrouter", namespace="plant")
            report("no-latest", False, "image.tag=latest rendered")
        except Exception as error:  # noqa: BLE001 - the SDK raises HelmRenderError
            report("no-latest", "not latest" in str(error), "image.tag=latest is refused: " + str(error).splitlines()[0][:120])

    kinds = {name: sorted({d["kind"] for _, d in docs}) for name, docs in rendered.items()}
    report("template", all(kinds.values()), "; ".join(f"{n}: {', '.join(k)}" for n, k in kinds.items()))

    # Core kinds against the Kubernetes schemas.
    exe = shutil.which("kubernetes-validate")
    crd_groups = ("keda.sh/", "monitoring.coreos.com/")
    if exe:
        errors, count = [], 0
        with tempfile.TemporaryDirectory() as tmp:
            for name, docs in rendered.items():
                core = [d for _, d in docs if not d["apiVersion"].startswith(crd_groups)]
                count += len(core)
                path = os.path.join(tmp, f"{name}.yaml")
                with open(path, "w") as f:
                    yaml.safe_dump_all(core, f)
                proc = subprocess.run([exe, "--strict", "--quiet", path], capture_output=True, text=True)
                if proc.returncode != 0 or "fail" in (proc.stdout + proc.stderr).lower():
                    errors.append(f"{name}: {(proc.stdout + proc.stderr).strip()}")
        report("k8s-schema", not errors, "; ".join(errors) or f"{count} rendered core objects valid (kubernetes-validate --strict)")
    else:
        report("k8s-schema", None, "kubernetes-validate not installed")

    # KEDA objects against the same structural schema as the kustomize base.
    try:
        import jsonschema
        with open(os.path.join(ROOT, "Deploy/tools/schemas/keda.json")) as f:
            schemas = json.load(f)
        errors, count = [], 0
        for name, docs in rendered.items():
            for _, d in docs:
                if d["apiVersion"].startswith("keda.sh/"):
                    count += 1
                    schema = dict(schemas[d["kind"]], **{"$defs": schemas["$defs"]})
                    errors += [f"{name} {d['kind']} {'/'.join(map(str, e.path))}: {e.message}"
                               for e in jsonschema.Draft202012Validator(schema).iter_errors(d)]
        report("keda", not errors and count > 0, "; ".join(errors) or f"{count} KEDA objects match the schema")
    except ImportError:
        report("keda", None, "jsonschema not installed")

    full = [d for _, d in rendered["full"]]
    by_kind = {}
    for d in full:
        by_kind.setdefault(d["kind"], []).append(d)

    # PrometheusRule: the groups are real Prometheus rules (promtool), every alert has its runbook.
    rules = by_kind.get("PrometheusRule", [])
    alerts = [r for rule in rules for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    base = FULL["prometheusRule"]["runbookBaseURL"]
    missing = [a["alert"] for a in alerts if not a.get("annotations", {}).get("runbook_url", "").startswith(base + "#")]
    with open(os.path.join(ROOT, "Docs/Runbooks.md")) as f:
        sections = {h.strip().lower() for h in re.findall(r"^## (.+)$", f.read(), re.M)}
    undocumented = sorted({a["annotations"]["runbook_url"].split("#")[1] for a in alerts
                           if "runbook_url" in a.get("annotations", {})} - sections)
    report("runbooks", alerts and not missing and not undocumented,
           f"no runbook_url: {missing}; no section in Docs/Runbooks.md: {undocumented}" if missing or undocumented
           else f"{len(alerts)} alerts, each with a runbook_url into its Docs/Runbooks.md section")
    if shutil.which("promtool") and rules:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rules.yaml")
            with open(path, "w") as f:
                yaml.safe_dump({"groups": rules[0]["spec"]["groups"]}, f)
            proc = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        report("prometheusrule", proc.returncode == 0, (proc.stdout + proc.stderr).strip().splitlines()[-1])
    else:
        report("prometheusrule", None, "promtool not installed")

    # ServiceMonitor selects the headless Service by labels and scrapes a port it has.
    monitors = by_kind.get("ServiceMonitor", [])
    services = by_kind.get("Service", [])
    ok = bool(monitors)
    for monitor in monitors:
        selected = [s for s in services
                    if all(s["metadata"].get("labels", {}).get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())]
        ports = {p["name"] for s in selected for p in s["spec"]["ports"]}
        ok &= len(selected) == 1 and all(e["port"] in ports for e in monitor["spec"]["endpoints"])
    report("servicemonitor", ok, f"{len(monitors)} ServiceMonitor selects exactly the headless Service and scrapes its http-admin port")

    # Images tagged by version; Secrets referenced, not embedded; the dashboard is valid JSON.
    images = [c["image"] for d in full for spec in [d.get("spec", {}).get("template", {}).get("spec", {})]
              for c in spec.get("containers", [])]
    report("image-tags", images and all(i.endswith(":" + version) for i in images),
           f"{len(images)} containers use plantrouter:{version}" if images and all(i.endswith(":" + version) for i in images) else str(images))
    secrets = [d["metadata"]["name"] for d in full if d["kind"] == "Secret"]
    report("secrets", secrets == ["plantrouter-keda-kafka-mode"],
           "only the non-sensitive KEDA mode Secret is rendered; credentials are referenced (existingSecret)" if secrets == ["plantrouter-keda-kafka-mode"] else str(secrets))
    dashboards = [d for d in by_kind.get("ConfigMap", []) if d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    try:
        panels = len(json.loads(dashboards[0]["data"]["plantrouter-overview.json"])["panels"])
        report("dashboard", True, f"sidecar ConfigMap with the dashboard ({panels} panels)")
    except (IndexError, KeyError, ValueError) as error:
        report("dashboard", False, str(error))
    config = next(d for d in by_kind["ConfigMap"] if d["metadata"]["name"].endswith("-config"))
    router = yaml.safe_load(config["data"]["plantrouter.yaml"])
    report("router-config", router["cluster"]["properties"].get("security.protocol") == "SASL_SSL"
           and router["cluster"]["consumer"] == {"fetch.wait.max.ms": "100"} and router["cluster"]["producer"] == {"linger.ms": "10"},
           "SASL_SSL from the values; consumer/producer sections kept apart")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
