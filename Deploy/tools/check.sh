#!/usr/bin/env bash
# Deploy/ checks that run without a cluster or a container engine (called by .ci/run).
# Installs what it needs, quietly, when missing: PyYAML, jsonschema, kubernetes-validate and
# helm-python-sdk (Helm's Go SDK as a library: helm lint and helm template without a helm
# binary, which no registry here ships) from PyPI; systemd (systemd-analyze) and prometheus
# (promtool) from Debian.
# Prints one PASS/FAIL/SKIP line per check and a closing "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
passed=0; failed=0; skipped=0
pass() { echo "PASS $1${2:+: $2}"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
skip() { echo "SKIP $1${2:+: $2}"; skipped=$((skipped + 1)); }

PY=${PYTHON:-python3}
py_need=()
$PY -c 'import yaml' 2>/dev/null || py_need+=(PyYAML)
$PY -c 'import jsonschema' 2>/dev/null || py_need+=(jsonschema)
command -v kubernetes-validate >/dev/null || py_need+=(kubernetes-validate)
$PY -c 'import helm_python' 2>/dev/null || py_need+=(helm-python-sdk)
if [ ${#py_need[@]} -gt 0 ]; then
    $PY -m pip install -q --disable-pip-version-check "${py_need[@]}" >/dev/null 2>&1 \
        || echo "note: pip install ${py_need[*]} failed; dependent checks will skip or fail"
fi
apt_need=()
command -v systemd-analyze >/dev/null || apt_need+=(systemd)
command -v promtool >/dev/null || apt_need+=(prometheus)
if [ ${#apt_need[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_need[@]}"; } \
        >/dev/null 2>&1 || echo "note: apt-get install ${apt_need[*]} failed; dependent checks will skip"
fi

# 1. Generated files (alert thresholds, dashboard, ScaledObject, Topics copy) match Topics/catalog.yaml.
if out=$($PY Deploy/tools/generate.py --check 2>&1); then pass generated "in sync with Topics/catalog.yaml"
else fail generated "$out"; fi

# 2. YAML/JSON, router configs, kustomize, Kubernetes and KEDA schemas, semantics, metric names.
out=$($PY Deploy/tools/validate.py 2>&1); rc=$?
before=$failed
while IFS= read -r line; do
    case "$line" in
        PASS\ *) pass "${line#PASS }" ;;
        FAIL\ *) fail "${line#FAIL }" ;;
        SKIP\ *) skip "${line#SKIP }" ;;
        *) echo "$line" ;;
    esac
done <<<"$out"
if [ $rc -ne 0 ] && [ "$failed" -eq "$before" ]; then fail validate "validate.py exited $rc"; fi

# 2b. Helm chart: helm lint --strict and helm template (Helm SDK), the rendered manifests through
#     kubernetes-validate, the KEDA schema and promtool; runbooks, version tags, secrets.
out=$($PY Deploy/tools/helm_check.py 2>&1); rc=$?
before=$failed
while IFS= read -r line; do
    case "$line" in
        PASS\ *) pass "${line#PASS }" ;;
        FAIL\ *) fail "${line#FAIL }" ;;
        SKIP\ *) skip "${line#SKIP }" ;;
        *) echo "$line" ;;
    esac
done <<<"$out"
if [ $rc -ne 0 ] && [ "$failed" -eq "$before" ]; then fail helm "helm_check.py exited $rc"; fi

# 2c. Images are tagged by the version the binary reports, never latest.
version=$(sed -n 's/.*static let number = "\(.*\)".*/\1/p' Sources/plantrouter/PlantRouterVersion.swift)
if grep -q "newTag: \"\?$version\"\?$" Deploy/kubernetes/base/kustomization.yaml && ! grep -rqE '(newTag: *latest|:latest\b)' Deploy --include=*.yaml --include=*.md --include=Containerfile; then
    pass image-tags "kustomize base and docs use plantrouter:$version, nowhere latest"
else fail image-tags "Deploy/kubernetes/base/kustomization.yaml newTag must be $version (PlantRouterVersion.number), and no :latest in Deploy/"; fi

# 3. Shell syntax of the launcher (it runs under /bin/sh in the image).
if sh -n Deploy/bin/plantrouter-launch && bash -n Deploy/tools/check.sh; then pass shell "sh -n plantrouter-launch"
else fail shell "syntax error"; fi

# 4. systemd unit: systemd-analyze verify in a scratch root (the unit's binaries are stubs there).
if command -v systemd-analyze >/dev/null; then
    root=$(mktemp -d)
    mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
    cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null || true
    printf '#!/bin/sh\n' > "$root/usr/local/bin/plantrouter-launch"; chmod +x "$root/usr/local/bin/plantrouter-launch"
    cp Deploy/systemd/plantrouter.service "$root/etc/systemd/system/"
    out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$root" plantrouter.service 2>&1); rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then
        pass systemd "systemd-analyze verify: no warnings"
    elif grep -q "sysinit.target not found\|Failed to initialize manager\|Operation not permitted" <<<"$out"; then
        skip systemd "systemd-analyze verify cannot run in this sandbox: $(head -1 <<<"$out")"
    else
        fail systemd "$out"
    fi
    rm -rf "$root"
else
    skip systemd "systemd-analyze not installed"
fi
if grep -q '^NoNewPrivileges=yes' Deploy/systemd/plantrouter.service && grep -q '^ProtectSystem=strict' Deploy/systemd/plantrouter.service \
   && grep -q '^StateDirectory=plantrouter' Deploy/systemd/plantrouter.service && grep -q '^Restart=on-failure' Deploy/systemd/plantrouter.service; then
    pass systemd-hardening "Restart=on-failure, NoNewPrivileges, ProtectSystem=strict, StateDirectory"
else fail systemd-hardening "a required directive is missing"; fi

# 5. Prometheus rules: syntax and unit tests (the per-lane objectives fire at the catalog thresholds).
if command -v promtool >/dev/null; then
    if out=$(promtool check rules Deploy/prometheus/*.yaml 2>&1); then pass promtool-check "$(grep -c SUCCESS <<<"$out") rule files"
    else fail promtool-check "$out"; fi
    if out=$(cd Deploy/prometheus/tests && promtool test rules *.test.yaml 2>&1); then pass promtool-test "alert unit tests"
    else fail promtool-test "$out"; fi
else
    skip promtool "promtool not installed (Debian package prometheus)"
fi

echo "deploy checks took $(( $(date +%s) - start )) s"
echo "deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
