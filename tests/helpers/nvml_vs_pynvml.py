"""nvml_vs_pynvml.py - holds flightdeck's hand-declared NVML slice to NVIDIA's own bindings.

Usage: nvml_vs_pynvml.py LAYOUT-FILE NVML-HEADER

LAYOUT-FILE is what tests/helpers/nvml_layout.c printed: the sizes, offsets, constants and
symbol names as the compiler sees checks/hw/nvml.h. Each is compared with pynvml (nvidia-ml-py):
its ctypes Structure classes, its module constants, and the names its source passes to
_nvmlGetFunctionPointer. NVML-HEADER is read for names only, so that a struct or constant the
header gains without a line in nvml_layout.c fails here instead of going unchecked.

Prints one line per mismatch, naming the field, and exits 1 if there was any; exits 0 with a
summary line otherwise.
"""

import ctypes
import re
import sys

import pynvml

# Names the header resolves that pynvml does not call, each with why it is still right. Every
# other entry point must have a name that pynvml calls.
NOT_CALLED = {
    "nvmlInit_v2": "the symbol NVIDIA's nvml.h maps nvmlInit to; pynvml calls nvmlInitWithFlags(0)",
    "nvmlInit": "the pre-v2 symbol, for older drivers",
    "nvmlDeviceGetCount": "the pre-v2 symbol, for older drivers",
    "nvmlDeviceGetHandleByIndex": "the pre-v2 symbol, for older drivers",
    "nvmlDeviceGetPciInfo_v2": "the pre-v3 symbol, for older drivers",
}
# The entry points whose every name is in NOT_CALLED.
NO_CALLED_NAME = {"Init"}

problems = []


def bad(msg):
    problems.append(msg)
    print("MISMATCH: " + msg)


def pynvml_value(name):
    if not hasattr(pynvml, name):
        bad("%s: pynvml has no such name" % name)
        return None
    return getattr(pynvml, name)


def check_type(c_name, py_name, size):
    t = pynvml_value(py_name)
    if t is not None and ctypes.sizeof(t) != size:
        bad("type %s: sizeof %d, pynvml's %s is %d" % (c_name, size, py_name, ctypes.sizeof(t)))


def check_struct(c_name, py_name, size, fields):
    cls = pynvml_value(py_name)
    if cls is None:
        return
    if ctypes.sizeof(cls) != size:
        bad("struct %s: sizeof %d, pynvml's %s is %d" % (c_name, size, py_name, ctypes.sizeof(cls)))
    theirs = {name: t for name, t in cls._fields_}
    for name in theirs:
        if name not in fields:
            bad("struct %s: lacks field %s of pynvml's %s" % (c_name, name, py_name))
    for name, (off, fsize, esize, count) in fields.items():
        where = "%s.%s" % (py_name, name)
        if name not in theirs:
            bad("%s: pynvml's %s has no field %s" % (where, py_name, name))
            continue
        t = theirs[name]
        desc = getattr(cls, name)
        if desc.offset != off:
            bad("%s: offset %d, pynvml's is %d" % (where, off, desc.offset))
        if desc.size != fsize:
            bad("%s: size %d, pynvml's is %d" % (where, fsize, desc.size))
        if issubclass(t, ctypes.Array):
            if count != t._length_ or esize != ctypes.sizeof(t._type_):
                bad("%s: %d elements of %d bytes, pynvml's are %d of %d"
                    % (where, count, esize, t._length_, ctypes.sizeof(t._type_)))
        elif count != 0 or esize != ctypes.sizeof(t):
            bad("%s: %s, pynvml's is a %d-byte scalar"
                % (where, "an array of %d" % count if count else "%d bytes" % esize,
                   ctypes.sizeof(t)))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: nvml_vs_pynvml.py LAYOUT-FILE NVML-HEADER")
    with open(sys.argv[1]) as f:
        lines = [l.split() for l in f if l.strip()]
    with open(sys.argv[2]) as f:
        header = f.read()
    with open(pynvml.__file__) as f:
        called = set(re.findall(r'_nvmlGetFunctionPointer\("(\w+)"\)', f.read()))
    if len(called) < 100:
        sys.exit("pynvml's source names only %d entry points: not the bindings expected" % len(called))

    structs, fields, consts, symbols = {}, {}, set(), {}
    n = 0
    for l in lines:
        kind, rest = l[0], l[1:]
        if kind == "type" and len(rest) == 3:
            check_type(rest[0], rest[1], int(rest[2]))
        elif kind == "struct" and len(rest) == 3:
            structs[rest[0]] = (rest[1], int(rest[2]))
        elif kind == "field" and len(rest) == 6:
            fields.setdefault(rest[0], {})[rest[1]] = tuple(int(x) for x in rest[2:])
        elif kind == "const" and len(rest) == 3:
            consts.add(rest[0])
            v = pynvml_value(rest[1])
            if v is not None and v != int(rest[2]):
                bad("const %s: %s, pynvml's %s is %d" % (rest[0], rest[2], rest[1], v))
        elif kind == "symbol" and len(rest) == 2:
            symbols.setdefault(rest[0], []).append(rest[1])
        else:
            sys.exit("%s: cannot read line %r" % (sys.argv[1], " ".join(l)))
        n += 1

    for c_name, (py_name, size) in structs.items():
        check_struct(c_name, py_name, size, fields.pop(py_name, {}))
    for py_name in fields:
        bad("fields of %s given without its struct line" % py_name)

    for entry, names in symbols.items():
        for name in names:
            if name in called:
                if name in NOT_CALLED:
                    bad("symbol %s (%s): pynvml calls it now; take it out of NOT_CALLED"
                        % (name, entry))
            elif name not in NOT_CALLED:
                bad("symbol %s (%s): pynvml never calls it" % (name, entry))
        if entry not in NO_CALLED_NAME and not any(nm in called for nm in names):
            bad("entry point %s: none of %s is a name pynvml calls" % (entry, ", ".join(names)))

    # Every struct and constant of the header must have been checked above.
    for name in re.findall(r"^#define\s+(FD_NVML_\w+)[ \t]+\S", header, re.M):
        if name not in consts:
            bad("const %s: declared in the header but not checked (add it to nvml_layout.c)" % name)
    for name in re.findall(r"^struct\s+(fd_nvml\w+)\s*\{", header, re.M):
        if name != "fd_nvml" and name not in structs:
            bad("struct %s: declared in the header but not checked (add it to nvml_layout.c)" % name)
    if "FD_NVML_SYMBOLS" not in header or not symbols:
        bad("no entry points checked: the header lost FD_NVML_SYMBOLS")

    if problems:
        print("%d mismatches against pynvml %s" % (len(problems), pynvml_version()))
        sys.exit(1)
    print("%d facts: %d structs, %d constants, %d symbol names agree with pynvml %s"
          % (n, len(structs), len(consts), sum(len(v) for v in symbols.values()), pynvml_version()))


def pynvml_version():
    try:
        from importlib.metadata import version

        return version("nvidia-ml-py")
    except Exception:
        return "(version unknown)"


if __name__ == "__main__":
    main()
