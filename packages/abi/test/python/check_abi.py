"""Builds ctypes structures from abi.json and checks them against the JSON's own numbers.

Usage: python3 check_abi.py ABI_JSON [SAMPLES_JSON]

Prints {"<name>": {"size": N, "fields": {"<field>": [offset, size]}}} as ctypes laid them out,
plus, when SAMPLES_JSON ({"<name>": "<hex bytes>"}) is given, "decoded": the non-reserved
scalar and string fields of each sample read through ctypes. Exits 1 on any mismatch.
"""

import ctypes
import json
import sys

SCALARS = {
    "u16": ctypes.c_uint16,
    "u32": ctypes.c_uint32,
    "i32": ctypes.c_int32,
    "u64": ctypes.c_uint64,
    "bytes": ctypes.c_uint8,
    "cstring": ctypes.c_char,
}


def build(struct):
    """A little-endian ctypes Structure for one struct description."""
    fields = []
    for f in struct["fields"]:
        ctype = SCALARS[f["type"]]
        fields.append((f["name"], ctype * f["count"] if f["array"] else ctype))
    return type(struct["name"], (ctypes.LittleEndianStructure,), {"_fields_": fields})


def decode(cls, struct, raw):
    """Reads every non-reserved scalar or string field of one sample through ctypes."""
    value = cls.from_buffer_copy(raw)
    out = {}
    for f in struct["fields"]:
        if f["reserved"] or (f["array"] and f["type"] != "cstring"):
            continue
        v = getattr(value, f["name"])
        out[f["name"]] = v.decode("utf-8") if isinstance(v, bytes) else str(v)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        abi = json.load(fh)
    samples = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as fh:
            samples = json.load(fh)
    if abi["endianness"] != "little":
        raise SystemExit("abi.json: unexpected endianness %r" % abi["endianness"])
    report, decoded, errors = {}, {}, []
    for struct in abi["structs"]:
        cls = build(struct)
        size = ctypes.sizeof(cls)
        if size != struct["size"]:
            errors.append("%s: ctypes size %d, abi.json %d" % (struct["name"], size, struct["size"]))
        fields = {}
        for f in struct["fields"]:
            desc = getattr(cls, f["name"])
            fields[f["name"]] = [desc.offset, desc.size]
            if (desc.offset, desc.size) != (f["offset"], f["size"]):
                errors.append("%s.%s: ctypes %d+%d, abi.json %d+%d" % (struct["name"], f["name"], desc.offset, desc.size, f["offset"], f["size"]))
        report[struct["name"]] = {"size": size, "fields": fields}
        if struct["name"] in samples:
            decoded[struct["name"]] = decode(cls, struct, bytes.fromhex(samples[struct["name"]]))
    print(json.dumps({"structs": report, "decoded": decoded, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
