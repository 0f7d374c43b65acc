#!/usr/bin/env python3
"""k8s-validate.py [-k VERSION]... MANIFEST... - the Kubernetes manifests of scripts/k8s/
against the real OpenAPI schemas of each Kubernetes VERSION (kubernetes-validate, strict: a
field the API does not know is an error, as the API server's strict field validation makes
it), then the rules flightdeck's recipes rely on. Prints one line per problem on stderr
("FILE: doc N: where: what") and exits 1 if there is any.

Custom resources have no schema there: a PyTorchJob's pod templates are validated as the
core PodTemplate they are, its own fields by the rules below, and the line
"SKIPPED FILE: doc N: KIND: ..." on stdout says what was not validated.

It also prints, for the caller, each flightdeck command line found ("FLIGHTDECK <json argv>"),
so the test can run them through the real binary.
"""
import argparse
import json
import re
import sys

import kubernetes_validate
import yaml

# The exit codes of `flightdeck run` the recipes map (docs/run.md).
UNFIT, LOST, GAVE_UP = 69, 75, 86
LABEL = "flightdeck.io/unfit"
# What the training-operator's ExitCode policy treats as retryable: 128 and above.
KUBEFLOW_RETRYABLE = 128


def schema_errors(doc, versions):
    """[(version, where, message)] from the real schemas; None when the kind has none."""
    out = []
    for v in versions:
        try:
            kubernetes_validate.validate(doc, v, strict=True)
        except kubernetes_validate.ValidationError as e:
            loc = ".".join(str(p) for p in e.path) or "(top)"
            out.append((v, loc, e.message))
        except kubernetes_validate.SchemaNotFoundError:
            return None
    return out


def shell_lines(script):
    """The lines of a shell script, backslash continuations joined."""
    return script.replace("\\\n", " ").splitlines()


def flightdeck_argv(container):
    """The flightdeck command line of a container: its argv, or the line of its sh -c script
    that runs flightdeck (after exec or set --, before a trailing &)."""
    cmd = container.get("command", []) + container.get("args", [])
    if cmd[:1] == ["flightdeck"]:
        return cmd
    if cmd[:2] == ["sh", "-c"] and len(cmd) > 2:
        for line in shell_lines(cmd[2]):
            m = re.match(r"\s*(?:exec |set -- )?(flightdeck (?:run|check)\b[^&;|]*)", line)
            if m:
                # the shell's variables stand for values: give each a plausible one
                values = {"RANK": "1", "WORLD_SIZE": "2", "MASTER_PORT": "29500",
                          "MASTER_ADDR": "master"}
                line = re.sub(r'"?\$\{?(\w+)\}?"?', lambda v: values.get(v.group(1), "x"),
                              m.group(1))
                return line.split()
    return None


def opt(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def grace_of(argv):
    return int(opt(argv, "--grace", "30").rstrip("s"))  # flightdeck run's default: 30


def mount_of(container, path):
    """The volumeMount whose mountPath holds path, the longest."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if (path == mp or path.startswith(mp + "/")) and (not best or len(mp) > len(best["mountPath"])):
            best = m
    return best


def check_pod(where, spec, problems, argvs):
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    psc = spec.get("securityContext") or {}
    for c in spec.get("initContainers", []) + spec["containers"]:
        cw = f"{where}: container {c['name']}"
        for m in c.get("volumeMounts", []):
            vol = vols.get(m["name"])
            if vol is None:
                problems.append(f"{cw}: volume {m['name']} is mounted but not defined")
                continue
            if m["mountPath"] == "/dev/shm" and vol.get("emptyDir", {}).get("medium") != "Memory":
                problems.append(f"{where}: /dev/shm is not an emptyDir of medium Memory")
            if m["mountPath"].rstrip("/") == "/etc/flightdeck":
                problems.append(f"{cw}: a volume mounted at /etc/flightdeck hides the default "
                                "config file /etc/flightdeck/flightdeck.conf")
            if "secret" in vol:
                mode = vol["secret"].get("defaultMode", 0o644)
                if not mode & 0o044:
                    problems.append(f"{cw}: secret {m['name']} mode {mode:04o} is its owner's only "
                                    "(root): give it 0440 and the pod an fsGroup")
                elif not mode & 0o004 and "fsGroup" not in psc:
                    problems.append(f"{cw}: secret {m['name']} mode {mode:04o} needs the pod's "
                                    "fsGroup to be readable by a non-root user")
        script = "\n".join(c.get("command", []))
        if "flightdeck-label-node.sh" in script:
            env = {e["name"]: e for e in c.get("env", [])}
            if env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get(
                    "fieldPath") != "spec.nodeName":
                problems.append(f"{cw}: NODE_NAME is not the pod's node (downward API)")
            if not spec.get("serviceAccountName"):
                problems.append(f"{cw}: labels nodes without a ServiceAccount of its own")
        argv = flightdeck_argv(c)
        if not argv:
            continue
        argvs.append(argv)
        for flag in ("--token-file", "--prom-file", "--kmsg", "--checkpoint-dir"):
            path = opt(argv, flag)
            if path and path.startswith("/") and not path.startswith(("/dev/", "/proc/", "/sys/")):
                if not mount_of(c, path):
                    problems.append(f"{cw}: {flag} {path} is on no volume of the pod")
        prom = opt(argv, "--prom-file")
        if prom and argv[1] == "run":
            m = mount_of(c, prom)
            vol = vols.get(m["name"], {}) if m else {}
            if "hostPath" not in vol:
                problems.append(f"{cw}: --prom-file {prom} is not on the node's textfile "
                                "directory (a hostPath): no node_exporter reads it")
            if not prom.endswith(".prom") or "$(POD_NAME)" not in prom:
                problems.append(f"{cw}: --prom-file {prom} is not a per-pod name ending in .prom")
            env = {e["name"]: e for e in c.get("env", [])}
            if env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get(
                    "fieldPath") != "metadata.name":
                problems.append(f"{cw}: POD_NAME is not the pod's name (downward API)")
            if "$(POD_NAME)" not in env.get("FLIGHTDECK_NODE", {}).get("value", ""):
                problems.append(f"{cw}: the textfile's node label (FLIGHTDECK_NODE) does not "
                                "name the pod: two pods' files on one node would clash")
        if argv[1] == "run":
            grace = grace_of(argv)
            tgp = spec.get("terminationGracePeriodSeconds", 30)
            if tgp <= grace:
                problems.append(f"{where}: terminationGracePeriodSeconds {tgp} is not "
                                f"longer than flightdeck's --grace {grace}")


def avoids_unfit(spec):
    terms = (spec.get("affinity", {}).get("nodeAffinity", {})
             .get("requiredDuringSchedulingIgnoredDuringExecution", {})
             .get("nodeSelectorTerms", []))
    return bool(terms) and all(
        any(e["key"] == LABEL and e["operator"] == "DoesNotExist"
            for e in t.get("matchExpressions", [])) for t in terms)


def check_job(where, job, problems, argvs):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    pfp = spec.get("podFailurePolicy")
    if pfp:
        if pod.get("restartPolicy") != "Never":
            problems.append(f"{where}: podFailurePolicy needs restartPolicy Never")
        codes = {}
        for r in pfp["rules"]:
            for v in r.get("onExitCodes", {}).get("values", []):
                codes[v] = r["action"]
            if r["action"] == "FailIndex" and "backoffLimitPerIndex" not in spec:
                problems.append(f"{where}: FailIndex needs backoffLimitPerIndex")
        for code in (UNFIT, LOST, GAVE_UP):
            if code not in codes:
                problems.append(f"{where}: podFailurePolicy does not map exit code {code}")
        if codes.get(GAVE_UP) != "FailJob":
            problems.append(f"{where}: exit 86 (gave up) should fail the Job")
        if codes.get(LOST) not in ("Count", "Ignore"):
            problems.append(f"{where}: exit 75 (a node lost) should be retried")
        if codes.get(UNFIT) == "Ignore" and not avoids_unfit(pod):
            problems.append(f"{where}: exit 69 is retried but the pods do not avoid nodes "
                            f"labelled {LABEL}")
    check_pod(where, pod, problems, argvs)


def check_pytorchjob(where, doc, problems, argvs, versions):
    spec = doc.get("spec", {})
    reps = spec.get("pytorchReplicaSpecs", {})
    extra = set(spec) - {"runPolicy", "pytorchReplicaSpecs", "elasticPolicy", "nprocPerNode"}
    if extra:
        problems.append(f"{where}: spec: fields a PyTorchJob (kubeflow.org/v1) lacks: {sorted(extra)}")
    for role, rep in reps.items():
        rw = f"{where}: {role}"
        if role not in ("Master", "Worker"):
            problems.append(f"{rw}: not a PyTorchJob replica type (Master, Worker)")
        extra = set(rep) - {"replicas", "restartPolicy", "template"}
        if extra:
            problems.append(f"{rw}: fields a ReplicaSpec lacks: {sorted(extra)}")
        if rep.get("restartPolicy") != "ExitCode":
            problems.append(f"{rw}: restartPolicy {rep.get('restartPolicy')} restarts exit 69 "
                            "and 86 too: use ExitCode")
        tmpl = rep.get("template", {})
        wrapped = {"apiVersion": "v1", "kind": "PodTemplate",
                   "metadata": {"name": f"{doc['metadata']['name']}-{role.lower()}"},
                   "template": tmpl}
        for v, loc, msg in schema_errors(wrapped, versions) or []:
            problems.append(f"{rw}: Kubernetes {v}: {loc}: {msg}")
        if "spec" in tmpl:
            check_pod(rw, tmpl["spec"], problems, argvs)
            for c in tmpl["spec"]["containers"]:
                script = "\n".join(c.get("command", []) + c.get("args", []))
                if "flightdeck run" not in script:
                    continue
                m = re.search(r"^\s*75\)\s*exit\s+(\d+)", script, re.M)
                if not m or int(m.group(1)) < KUBEFLOW_RETRYABLE:
                    problems.append(f"{rw}: exit 75 (a node lost) is not mapped to a code of "
                                    f"{KUBEFLOW_RETRYABLE} or more: ExitCode would fail the job")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", "--kubernetes-version", action="append", dest="versions")
    ap.add_argument("manifests", nargs="+")
    a = ap.parse_args()
    versions = a.versions or [kubernetes_validate.latest_version()]
    problems, argvs, skipped = [], [], []
    for path in a.manifests:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs, 1):
            where = f"{path}: doc {i}"
            before = len(problems)
            errs = schema_errors(doc, versions)
            if errs is None:
                if doc.get("kind") != "PyTorchJob":
                    problems.append(f"{where}: kind {doc.get('kind')!r} ({doc.get('apiVersion')}) "
                                    "has no schema and no rules here")
                    continue
                skipped.append(f"SKIPPED {where}: PyTorchJob ({doc.get('apiVersion')}): no "
                               "schema for a custom resource; its pod templates were validated "
                               "as core PodTemplates, its own fields by rules only")
                check_pytorchjob(where, doc, problems, argvs, versions)
                continue
            for v, loc, msg in errs:
                problems.append(f"{where}: Kubernetes {v}: {loc}: {msg}")
            if len(problems) > before:
                continue
            kind = doc["kind"]
            if kind == "Job":
                check_job(where, doc, problems, argvs)
            elif kind == "DaemonSet":
                check_pod(where, doc["spec"]["template"]["spec"], problems, argvs)
            elif kind == "ClusterRole":
                for r in doc.get("rules", []):
                    if (r.get("apiGroups") != [""] or r.get("resources") != ["nodes"]
                            or not set(r.get("verbs", [])) <= {"get", "patch"}):
                        problems.append(f"{where}: rule {r} grants more than get and patch "
                                        "on nodes")
    for s in skipped:
        print(s)
    for argv in argvs:
        print("FLIGHTDECK " + json.dumps(argv))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
