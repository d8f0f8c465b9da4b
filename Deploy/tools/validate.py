#!/usr/bin/env python3
"""Offline checks of Deploy/ (run by Deploy/tools/check.sh; each check prints PASS/FAIL/SKIP).

  yaml        every *.yaml/*.yml under Deploy/ parses (multi-document), every *.json too
  config      router configs render with plantrouter-launch and use only keys that
              RouterConfiguration/LaneSettings decode, and only lanes from the catalog
  kustomize   base and overlays build (kubectl kustomize, else a minimal emulation)
  k8s-schema  built core objects validate with kubernetes-validate --strict
  keda        ScaledObject/TriggerAuthentication against Deploy/tools/schemas/keda.json
  semantics   scaling never above the smallest partition count, one trigger per lane group,
              probes, grace period vs drain timeout, references between objects
  topic-files every kustomization's Topics ConfigMaps hold exactly the files of Topics/ (a
              schema missing there fails the router's catalog load in the pod)
  metrics     rules and dashboards reference only names in MetricNames.swift (quick
              duplicate of Tests/DeployTests, which is authoritative)
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "Deploy")
KUSTOMIZATIONS = ["Deploy/kubernetes/base"] + sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(DEPLOY, "kubernetes/overlays/*")) if os.path.isdir(p))
# Secrets that operators create out of band (documented in Deploy/README.md).
EXTERNAL_SECRETS = {"plantrouter-admin-tokens", "plantrouter-kafka", "plantrouter-kafka-tls"}

results = []


def report(name, ok, detail=""):
    status = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
    results.append(status)
    print(f"{status} {name}" + (f": {detail}" if detail else ""))


def deploy_files(*exts):
    return sorted(p for ext in exts for p in glob.glob(os.path.join(DEPLOY, "**", "*." + ext), recursive=True))


def check_yaml():
    errors = []
    # Helm templates are YAML only once rendered: helm_check.py renders and checks them.
    files = [p for p in deploy_files("yaml", "yml") if "/templates/" not in os.path.relpath(p, DEPLOY)]
    for path in files:
        try:
            with open(path) as f:
                list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            errors.append(f"{os.path.relpath(path, ROOT)}: {e}")
    jsons = deploy_files("json")
    for path in jsons:
        try:
            with open(path) as f:
                json.load(f)
        except ValueError as e:
            errors.append(f"{os.path.relpath(path, ROOT)}: {e}")
    report("yaml", not errors, "; ".join(errors) or f"{len(files)} YAML and {len(jsons)} JSON files parse")


def swift_source(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def catalog():
    with open(os.path.join(ROOT, "Topics/catalog.yaml")) as f:
        return yaml.safe_load(f)


def render(template, extra_env=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PLANTROUTER_INSTANCE_ID": "plantrouter-0",
           "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "KAFKA_SASL_USERNAME": "router",
           "KAFKA_SASL_PASSWORD": 'p"a\\ss:w#rd', "PLANTROUTER_RENDER_ONLY": "1"}
    env.update(extra_env or {})
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "plantrouter.yaml")
        env.update(PLANTROUTER_CONFIG_TEMPLATE=template, PLANTROUTER_CONFIG=out)
        proc = subprocess.run(["sh", os.path.join(DEPLOY, "bin/plantrouter-launch")], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ValueError(f"plantrouter-launch failed: {proc.stderr.strip()}")
        with open(out) as f:
            text = f.read()
    if "${" in "".join(l for l in text.splitlines() if not l.lstrip().startswith("#")):
        raise ValueError("unrendered placeholder left")
    return yaml.safe_load(text)


def check_configs():
    known = set(re.search(r"knownKeys: Set<String> = \[([^\]]*)\]",
                          swift_source("Sources/Routing/Configuration/RouterConfiguration.swift")).group(1)
                .replace('"', "").replace(" ", "").split(","))
    lane_keys = set(re.findall(r"public var (\w+) = ", swift_source("Sources/Routing/Lanes/LaneSettings.swift")))
    lanes = {l["name"] for l in catalog()["lanes"]}
    errors = []
    configs = [os.path.join(DEPLOY, "plantrouter.yaml")] + sorted(
        glob.glob(os.path.join(DEPLOY, "kubernetes/**/plantrouter.yaml"), recursive=True))
    for path in configs:
        rel = os.path.relpath(path, ROOT)
        try:
            config = render(path)
            if config["cluster"]["properties"] and "sasl.password" in config["cluster"]["properties"]:
                if config["cluster"]["properties"]["sasl.password"] != 'p"a\\ss:w#rd':
                    errors.append(f"{rel}: password not rendered verbatim")
        except (ValueError, KeyError, TypeError) as e:
            errors.append(f"{rel}: {e}")
            continue
        unknown = set(config) - known
        if unknown:
            errors.append(f"{rel}: unknown keys {sorted(unknown)} (RouterConfiguration knows {sorted(known)})")
        if not isinstance(config.get("cluster", {}).get("bootstrapServers"), str):
            errors.append(f"{rel}: cluster.bootstrapServers missing")
        for key, value in (config.get("cluster", {}).get("properties") or {}).items():
            if not isinstance(value, str):
                errors.append(f"{rel}: cluster.properties.{key} must be a string (librdkafka properties are strings)")
        for lane, settings in (config.get("lanes") or {}).items():
            if lane not in lanes:
                errors.append(f"{rel}: lane '{lane}' is not in Topics/catalog.yaml")
            for key in settings or {}:
                if key not in lane_keys:
                    errors.append(f"{rel}: lanes.{lane}.{key} is not a LaneSettings field")
        for key in ("topics", "database"):
            if not str(config.get(key, "")).startswith("/"):
                errors.append(f"{rel}: {key} should be absolute in a deployment")
        admin = config.get("admin") or {}
        if not isinstance(admin.get("port", 8080), int):
            errors.append(f"{rel}: admin.port must be an integer")
    # The renderer refuses an unset variable.
    try:
        render(os.path.join(DEPLOY, "kubernetes/overlays/plant-hamburg/plantrouter.yaml"), {"KAFKA_SASL_PASSWORD": ""})
        errors.append("plantrouter-launch accepted an unset ${KAFKA_SASL_PASSWORD}")
    except ValueError:
        pass
    report("config", not errors, "; ".join(errors) or f"{len(configs)} configs render and decode-check")


def kustomize_command():
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def emulate_kustomize(rel):
    """Minimal stand-in when no kustomize binary exists: resources and patch targets only."""
    docs = []
    folder = os.path.join(ROOT, rel)
    with open(os.path.join(folder, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(folder, res))
        if os.path.isdir(path):
            docs.extend(emulate_kustomize(os.path.relpath(path, ROOT)))
        else:
            with open(path) as f:
                docs.extend(d for d in yaml.safe_load_all(f) if d)
    for gen in k.get("configMapGenerator", []):
        for file in gen.get("files", []):
            if not os.path.exists(os.path.join(folder, file)):
                raise ValueError(f"{rel}: configMapGenerator file {file} missing")
        if gen.get("behavior") in (None, "create"):
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": {}})
    for gen in k.get("secretGenerator", []):
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": gen["name"]}, "data": {}})
    for patch in k.get("patches", []):
        with open(os.path.join(folder, patch["path"])) as f:
            p = yaml.safe_load(f)
        if not any(d["kind"] == p["kind"] and d["metadata"]["name"] == p["metadata"]["name"] for d in docs):
            raise ValueError(f"{rel}: patch {patch['path']} targets nothing")
    if k.get("namespace"):
        for d in docs:
            d["metadata"]["namespace"] = k["namespace"]
    return docs


def build_all():
    built = {}
    command = kustomize_command()
    errors = []
    for rel in KUSTOMIZATIONS:
        try:
            if command:
                proc = subprocess.run(command + [os.path.join(ROOT, rel)], capture_output=True, text=True)
                if proc.returncode != 0:
                    raise ValueError(proc.stderr.strip())
                built[rel] = [d for d in yaml.safe_load_all(proc.stdout) if d]
            else:
                built[rel] = emulate_kustomize(rel)
        except (ValueError, OSError, KeyError) as e:
            errors.append(f"{rel}: {e}")
    how = " ".join(command) if command else "minimal emulation (no kustomize binary: resources, generators, patch targets)"
    report("kustomize", not errors, "; ".join(errors) or f"{len(built)} kustomizations built with {how}")
    return built, bool(command)


def check_k8s_schema(built):
    exe = shutil.which("kubernetes-validate")
    if not exe:
        report("k8s-schema", None, "kubernetes-validate not installed")
        return
    errors = []
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel, docs in built.items():
            core = [d for d in docs if not d["apiVersion"].startswith("keda.sh/")]
            count += len(core)
            path = os.path.join(tmp, rel.replace("/", "_") + ".yaml")
            with open(path, "w") as f:
                yaml.safe_dump_all(core, f)
            proc = subprocess.run([exe, "--strict", "--quiet", path], capture_output=True, text=True)
            if proc.returncode != 0 or "fail" in proc.stdout.lower() + proc.stderr.lower():
                errors.append(f"{rel}: {(proc.stdout + proc.stderr).strip()}")
        # Self-test: strict validation must reject an unknown field.
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
                            "spec": {"ports": [{"port": 80}], "bogusField": 1}}, f)
        if subprocess.run([exe, "--strict", "--quiet", bad], capture_output=True).returncode == 0:
            errors.append("kubernetes-validate --strict accepted an unknown field (self-test)")
    report("k8s-schema", not errors, "; ".join(errors) or f"{count} core objects valid (strict, Kubernetes schemas)")


def check_keda(built):
    try:
        import jsonschema
    except ImportError:
        report("keda", None, "jsonschema not installed")
        return
    with open(os.path.join(DEPLOY, "tools/schemas/keda.json")) as f:
        schemas = json.load(f)
    errors = []
    count = 0
    for rel, docs in built.items():
        for d in docs:
            if not d["apiVersion"].startswith("keda.sh/"):
                continue
            schema = dict(schemas[d["kind"]], **{"$defs": schemas["$defs"]})
            count += 1
            for e in jsonschema.Draft202012Validator(schema).iter_errors(d):
                errors.append(f"{rel} {d['kind']}/{d['metadata']['name']} {'/'.join(map(str, e.path))}: {e.message}")
    report("keda", not errors and count > 0, "; ".join(errors) or f"{count} KEDA objects match the structural schema")


def check_semantics(built, real_kustomize):
    cat = catalog()
    lanes_with_sources = {}
    for lane in cat["lanes"]:
        parts = [t["partitions"] for t in cat["topics"] if t.get("lane") == lane["name"] and t.get("role") == "source"]
        if parts:
            lanes_with_sources[lane["name"]] = min(parts)
    limit = min(lanes_with_sources.values())
    drain_ms = []
    errors = []
    for rel, docs in built.items():
        by_kind = {}
        for d in docs:
            by_kind.setdefault(d["kind"], []).append(d)
        names = {(d["kind"], d["metadata"]["name"]) for d in docs}
        sts = by_kind.get("StatefulSet", [None])[0]
        so = by_kind.get("ScaledObject", [None])[0]
        if not sts or not so:
            errors.append(f"{rel}: StatefulSet or ScaledObject missing")
            continue
        spec = so["spec"]
        if spec["maxReplicaCount"] > limit:
            errors.append(f"{rel}: maxReplicaCount {spec['maxReplicaCount']} above the smallest lane partition count {limit}")
        if not 1 <= spec.get("minReplicaCount", 1) <= spec["maxReplicaCount"]:
            errors.append(f"{rel}: minReplicaCount outside 1...maxReplicaCount")
        if spec["scaleTargetRef"].get("kind") != "StatefulSet" or spec["scaleTargetRef"]["name"] != sts["metadata"]["name"]:
            errors.append(f"{rel}: ScaledObject does not target the StatefulSet")
        groups = sorted(t["metadata"]["consumerGroup"] for t in spec["triggers"])
        expected = sorted(f"plantrouter-{l}" for l in lanes_with_sources)
        if groups != expected:
            errors.append(f"{rel}: triggers {groups}, expected one per lane group {expected}")
        cluster_cm = next((d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"].startswith("plantrouter-cluster")), None)
        if real_kustomize and cluster_cm:
            for t in spec["triggers"]:
                if t["metadata"]["bootstrapServers"] != cluster_cm["data"]["bootstrapServers"]:
                    errors.append(f"{rel}: trigger {t.get('name')} bootstrapServers differ from plantrouter-cluster")
            for t in spec["triggers"]:
                ref = t.get("authenticationRef", {}).get("name")
                if ref and ("TriggerAuthentication", ref) not in names:
                    errors.append(f"{rel}: authenticationRef {ref} missing")
        pod = sts["spec"]["template"]
        c = pod["spec"]["containers"][0]
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            errors.append(f"{rel}: readiness probe is not /readyz")
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            errors.append(f"{rel}: liveness probe is not /healthz")
        pdb = by_kind.get("PodDisruptionBudget", [None])[0]
        if not pdb or any(pod["metadata"]["labels"].get(k) != v for k, v in pdb["spec"]["selector"]["matchLabels"].items()):
            errors.append(f"{rel}: PodDisruptionBudget does not select the pods")
        for svc in by_kind.get("Service", []):
            if any(pod["metadata"]["labels"].get(k) != v for k, v in svc["spec"]["selector"].items()):
                errors.append(f"{rel}: Service {svc['metadata']['name']} does not select the pods")
        if sts["spec"]["serviceName"] not in {s["metadata"]["name"] for s in by_kind.get("Service", [])}:
            errors.append(f"{rel}: StatefulSet serviceName has no Service")
        # References to Secrets/ConfigMaps.
        if real_kustomize:
            refs = set()
            for env in c.get("env", []):
                src = env.get("valueFrom", {})
                for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                    if key in src:
                        refs.add((kind, src[key]["name"]))
            for v in pod["spec"].get("volumes", []):
                if "configMap" in v:
                    refs.add(("ConfigMap", v["configMap"]["name"]))
                if "secret" in v:
                    refs.add(("Secret", v["secret"]["secretName"]))
            for ta in by_kind.get("TriggerAuthentication", []):
                for r in ta["spec"].get("secretTargetRef", []):
                    refs.add(("Secret", r["name"]))
            for kind, name in sorted(refs):
                if (kind, name) not in names and not (kind == "Secret" and name in EXTERNAL_SECRETS):
                    errors.append(f"{rel}: {kind} {name} is referenced but neither generated nor documented as external")
            # The rendered router config: lane drain timeouts vs the grace period.
            cfg = next(d for d in by_kind["ConfigMap"] if d["metadata"]["name"].startswith("plantrouter-config"))
            template = yaml.safe_load(cfg["data"]["plantrouter.yaml"].replace("${", "x{"))
            drains = [s.get("drainTimeoutMs", 10000) for s in (template.get("lanes") or {}).values()] or [10000]
            drain_ms.append(max(drains + [10000]))
            if pod["spec"]["terminationGracePeriodSeconds"] < max(drains + [10000]) / 1000 + 15:
                errors.append(f"{rel}: terminationGracePeriodSeconds below drain timeout + 15 s")
    # systemd stop timeout vs the default drain timeout.
    with open(os.path.join(DEPLOY, "systemd/plantrouter.service")) as f:
        unit = f.read()
    stop = int(re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.M).group(1))
    cfg = yaml.safe_load(open(os.path.join(DEPLOY, "plantrouter.yaml")).read().replace("${", "x{"))
    drain = max([s.get("drainTimeoutMs", 10000) for s in (cfg.get("lanes") or {}).values()] + [10000])
    if stop < drain / 1000 + 15:
        errors.append(f"systemd TimeoutStopSec={stop} below the drain timeout ({drain} ms) + 15 s")
    report("semantics", not errors, "; ".join(errors) or
           f"maxReplicaCount <= {limit} (smallest lane partition count), one trigger per lane group, probes, "
           f"PDB/Service selectors, references, grace periods vs drain timeout")


def check_topic_files(built):
    shipped = {"plantrouter-topics": {"catalog.yaml", "policy.yaml"},
               "plantrouter-topic-schemas": set(os.listdir(os.path.join(ROOT, "Topics/schemas")))}
    errors = []
    for rel, docs in built.items():
        maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
        for name, files in shipped.items():
            found = [m for n, m in maps.items() if n == name or n.startswith(name + "-")]
            if len(found) != 1:
                errors.append(f"{rel}: no single ConfigMap {name}")
                continue
            keys = set(found[0].get("data", {}))
            if keys != files:
                errors.append(f"{rel}: {name} lacks {sorted(files - keys)} and has extra {sorted(keys - files)} "
                              f"(list Topics/ files in Deploy/kubernetes/base/kustomization.yaml)")
    report("topic-files", not errors and bool(built), "; ".join(errors) or
           f"{len(built)} kustomizations ship every file of Topics/ ({len(shipped['plantrouter-topic-schemas'])} schemas)")


def check_metrics():
    source = swift_source("Sources/Routing/Metrics/MetricNames.swift")
    exported = set(re.findall(r'"(plantrouter_[a-z0-9_]+)"', source))
    files = sorted(glob.glob(os.path.join(DEPLOY, "prometheus/*.yaml")) + glob.glob(os.path.join(DEPLOY, "grafana/*.json")))
    unknown = []
    for path in files:
        with open(path) as f:
            for name in set(re.findall(r"plantrouter_[A-Za-z0-9_]+", f.read())):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if base not in exported:
                    unknown.append(f"{os.path.relpath(path, ROOT)}: {name}")
    report("metrics", not unknown and bool(exported), "; ".join(unknown) or
           f"{len(files)} files use only the {len(exported)} names in MetricNames.swift")


def main():
    check_yaml()
    check_configs()
    built, real = build_all()
    check_k8s_schema(built)
    check_keda(built)
    check_semantics(built, real)
    check_topic_files(built)
    check_metrics()
    return 1 if "FAIL" in results else 0


if __name__ == "__main__":
    sys.exit(main())
