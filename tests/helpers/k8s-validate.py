#!/usr/bin/env python3
"""k8s-validate.py MANIFEST... - the Kubernetes manifests of scripts/k8s/ against the fields of
the Kubernetes API they use (Service v1, Job batch/v1 with its Pod template, PyTorchJob
kubeflow.org/v1), as a JSON schema that refuses any other field (additionalProperties false),
so a misspelt or misplaced field fails as the API server would reject it; then the rules
flightdeck's recipes rely on: podFailurePolicy with restartPolicy Never and the exit codes
69, 75 and 86 mapped; FailIndex only with backoffLimitPerIndex; a grace period longer than
flightdeck's --grace; /dev/shm from a memory emptyDir; every volume mounted exists. Prints
one line per problem ("FILE: DOC N: where: what") and exits 1 if there is any.

It also prints, for the caller, each flightdeck command line found ("FLIGHTDECK <json argv>"),
so the test can run them through the real binary.
"""
import json
import re
import sys

import jsonschema
import yaml


def obj(props, required=()):
    return {"type": "object", "properties": props, "required": list(required),
            "additionalProperties": False}


def arr(items):
    return {"type": "array", "items": items}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
QTY = {"type": ["string", "integer"]}
META = obj({"name": STR, "namespace": STR, "labels": {"type": "object"},
            "annotations": {"type": "object"}})
ENV = obj({"name": STR, "value": STR, "valueFrom": {"type": "object"}}, ["name"])
MOUNT = obj({"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR},
            ["name", "mountPath"])
CONTAINER = obj({
    "name": STR, "image": STR, "command": arr(STR), "args": arr(STR), "workingDir": STR,
    "env": arr(ENV),
    "resources": obj({"limits": {"type": "object"}, "requests": {"type": "object"}}),
    "volumeMounts": arr(MOUNT),
    "ports": arr(obj({"name": STR, "containerPort": INT, "protocol": STR}, ["containerPort"])),
    "securityContext": obj({"privileged": BOOL, "readOnlyRootFilesystem": BOOL,
                            "runAsUser": INT, "runAsNonRoot": BOOL,
                            "capabilities": obj({"add": arr(STR), "drop": arr(STR)})}),
    "terminationMessagePath": STR,
    "terminationMessagePolicy": {"enum": ["File", "FallbackToLogsOnError"]},
}, ["name", "image"])
VOLUME = obj({
    "name": STR,
    "emptyDir": obj({"medium": {"enum": ["", "Memory"]}, "sizeLimit": QTY}),
    "secret": obj({"secretName": STR, "defaultMode": INT}, ["secretName"]),
    "persistentVolumeClaim": obj({"claimName": STR, "readOnly": BOOL}, ["claimName"]),
    "hostPath": obj({"path": STR, "type": STR}, ["path"]),
    "configMap": obj({"name": STR, "defaultMode": INT}, ["name"]),
}, ["name"])
SELECTOR_TERM = obj({"matchExpressions": arr(obj(
    {"key": STR, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
     "values": arr(STR)}, ["key", "operator"]))})
POD_SPEC = obj({
    "containers": arr(CONTAINER), "initContainers": arr(CONTAINER),
    "restartPolicy": {"enum": ["Always", "OnFailure", "Never"]},
    "terminationGracePeriodSeconds": INT, "subdomain": STR, "hostname": STR,
    "serviceAccountName": STR, "nodeSelector": {"type": "object"},
    "tolerations": arr({"type": "object"}), "volumes": arr(VOLUME),
    "affinity": obj({"nodeAffinity": obj({
        "requiredDuringSchedulingIgnoredDuringExecution": obj(
            {"nodeSelectorTerms": arr(SELECTOR_TERM)}, ["nodeSelectorTerms"])})}),
}, ["containers"])
TEMPLATE = obj({"metadata": META, "spec": POD_SPEC}, ["spec"])
RULE = obj({
    "action": {"enum": ["FailJob", "FailIndex", "Ignore", "Count"]},
    "onExitCodes": obj({"containerName": STR, "operator": {"enum": ["In", "NotIn"]},
                        "values": arr(INT)}, ["operator", "values"]),
    "onPodConditions": arr(obj({"type": STR, "status": STR}, ["type"])),
}, ["action"])
JOB = obj({
    "apiVersion": {"const": "batch/v1"}, "kind": {"const": "Job"}, "metadata": META,
    "spec": obj({
        "completionMode": {"enum": ["NonIndexed", "Indexed"]},
        "completions": INT, "parallelism": INT, "backoffLimit": INT,
        "backoffLimitPerIndex": INT, "maxFailedIndexes": INT, "ttlSecondsAfterFinished": INT,
        "activeDeadlineSeconds": INT,
        "podFailurePolicy": obj({"rules": arr(RULE)}, ["rules"]),
        "template": TEMPLATE,
    }, ["template"]),
}, ["apiVersion", "kind", "metadata", "spec"])
SERVICE = obj({
    "apiVersion": {"const": "v1"}, "kind": {"const": "Service"}, "metadata": META,
    "spec": obj({"clusterIP": STR, "selector": {"type": "object"},
                 "publishNotReadyAddresses": BOOL,
                 "ports": arr(obj({"name": STR, "port": INT, "targetPort": QTY,
                                   "protocol": STR}, ["port"]))}),
}, ["apiVersion", "kind", "metadata", "spec"])
REPLICA = obj({"replicas": INT,
               "restartPolicy": {"enum": ["Always", "OnFailure", "Never", "ExitCode"]},
               "template": TEMPLATE}, ["template"])
PYTORCHJOB = obj({
    "apiVersion": {"const": "kubeflow.org/v1"}, "kind": {"const": "PyTorchJob"},
    "metadata": META,
    "spec": obj({"runPolicy": obj({"backoffLimit": INT, "cleanPodPolicy": STR,
                                   "ttlSecondsAfterFinished": INT}),
                 "pytorchReplicaSpecs": obj({"Master": REPLICA, "Worker": REPLICA})},
                ["pytorchReplicaSpecs"]),
}, ["apiVersion", "kind", "metadata", "spec"])
SCHEMAS = {"Job": JOB, "Service": SERVICE, "PyTorchJob": PYTORCHJOB}


def flightdeck_argv(container):
    """The flightdeck command line of a container: its argv, or parsed out of sh -c."""
    cmd = container.get("command", []) + container.get("args", [])
    if cmd[:1] == ["flightdeck"]:
        return cmd
    if cmd[:2] == ["sh", "-c"] and len(cmd) > 2:
        m = re.search(r"exec (flightdeck .*)", cmd[2], re.S)
        if m:
            # the shell's variables stand for values: give each a plausible one
            values = {"RANK": "1", "WORLD_SIZE": "2", "MASTER_PORT": "29500",
                      "MASTER_ADDR": "master"}
            line = re.sub(r'"?\$(\w+)"?', lambda v: values.get(v.group(1), "x"), m.group(1))
            return line.split()
    return None


def grace_of(argv):
    if "--grace" in argv:
        v = argv[argv.index("--grace") + 1]
        return int(v.rstrip("s"))
    return 30  # flightdeck run's default


def check_pod(where, spec, problems, argvs):
    names = {v["name"] for v in spec.get("volumes", [])}
    for c in spec.get("initContainers", []) + spec["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] not in names:
                problems.append(f"{where}: container {c['name']}: volume {m['name']} "
                                "is mounted but not defined")
            if m["mountPath"] == "/dev/shm":
                vol = next((v for v in spec.get("volumes", []) if v["name"] == m["name"]), {})
                if vol.get("emptyDir", {}).get("medium") != "Memory":
                    problems.append(f"{where}: /dev/shm is not an emptyDir of medium Memory")
        argv = flightdeck_argv(c)
        if argv:
            argvs.append(argv)
            if argv[1] == "run":
                grace = grace_of(argv)
                tgp = spec.get("terminationGracePeriodSeconds", 30)
                if tgp <= grace:
                    problems.append(f"{where}: terminationGracePeriodSeconds {tgp} is not "
                                    f"longer than flightdeck's --grace {grace}")


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
        for code in (69, 75, 86):
            if code not in codes:
                problems.append(f"{where}: podFailurePolicy does not map exit code {code}")
        if codes.get(86) != "FailJob":
            problems.append(f"{where}: exit 86 (gave up) should fail the Job")
        if codes.get(75) not in ("Count", "Ignore"):
            problems.append(f"{where}: exit 75 (a node lost) should be retried")
    check_pod(where, pod, problems, argvs)


def main():
    problems, argvs = [], []
    for path in sys.argv[1:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs, 1):
            where = f"{path}: doc {i}"
            schema = SCHEMAS.get(doc.get("kind"))
            if not schema:
                problems.append(f"{where}: kind {doc.get('kind')!r} is not one the schema knows")
                continue
            for e in sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=str):
                loc = "/".join(str(p) for p in e.absolute_path) or "(top)"
                problems.append(f"{where}: {loc}: {e.message}")
            if problems:
                continue
            if doc["kind"] == "Job":
                check_job(where, doc, problems, argvs)
            elif doc["kind"] == "PyTorchJob":
                for role, rep in doc["spec"]["pytorchReplicaSpecs"].items():
                    check_pod(f"{where}: {role}", rep["template"]["spec"], problems, argvs)
    for a in argvs:
        print("FLIGHTDECK " + json.dumps(a))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
