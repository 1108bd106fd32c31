"""The value structs and constants of _lib.py mirror the C headers.

The headers (every include/tally/*.h) are read as text: each
`typedef struct tally_x { ... } tally_x;` gives field names and C types,
each `#define TALLY_X_VERSION n` an options struct's current version, each
`typedef enum` its values. The ctypes Structure that mirrors tally_x must
have the same fields in the same order with the ctypes types of the C types,
and its VERSION must be the header's. A struct moved to another header is
still found; a field added on one side only fails here, not in a crash.
"""
import ctypes
import re

import pytest

import tally
from conftest import ROOT

HEADERS = ROOT / "include" / "tally"

# Python names that are not the C name in CamelCase.
C_NAMES = {"ErrorRecord": "tally_error"}

# Constants of _lib.py that are not enum values.
NOT_ENUMS = {"MAJOR", "NONE"}

SCALARS = {
    "int": ctypes.c_int, "unsigned int": ctypes.c_uint, "unsigned": ctypes.c_uint,
    "long": ctypes.c_long, "unsigned long": ctypes.c_ulong, "size_t": ctypes.c_size_t,
    "double": ctypes.c_double, "float": ctypes.c_float, "char": ctypes.c_char,
    "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32, "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
}


def _strip_comments(text):
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", text, flags=re.S))


def read_headers(headers_dir):
    """(structs, versions, enums, enum_values) from every header:
    structs {name: (header, [(field, base type, pointer depth)])};
    versions {macro: (header, n)}; enums {enum type name}; enum_values
    {TALLY_X: n}. A struct or macro defined in two headers is an error."""
    structs, versions, enums, values = {}, {}, set(), {}
    for path in sorted(headers_dir.glob("*.h")):
        text = _strip_comments(path.read_text(encoding="utf-8"))
        for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
            tag, body, name = m.groups()
            assert tag == name, f"{path.name}: typedef struct {tag} {{...}} {name}"
            assert name not in structs, \
                f"struct {name} is defined in {structs[name][0]} and {path.name}"
            structs[name] = (path.name, _fields(name, body))
        for m in re.finditer(r"^\s*#\s*define\s+(TALLY_\w+_VERSION)\s+(\d+)\s*$", text, re.M):
            assert m.group(1) not in versions, \
                f"{m.group(1)} is defined in {versions[m.group(1)][0]} and {path.name}"
            versions[m.group(1)] = (path.name, int(m.group(2)))
        for m in re.finditer(r"(typedef\s+)?enum\s+\w*\s*\{(.*?)\}\s*(\w*)\s*;", text, re.S):
            if m.group(1):
                enums.add(m.group(3))
            n = -1
            for item in m.group(2).split(","):
                if not item.strip():
                    continue
                k, _, v = item.partition("=")
                try:
                    n = int(v.strip(), 0) if v.strip() else n + 1
                except ValueError:
                    raise AssertionError(f"{path.name}: cannot read the enum value "
                                         f"'{item.strip()}'") from None
                values[k.strip()] = n
    return structs, versions, enums, values


def _fields(struct, body):
    """[(name, base type, pointer depth)] of a struct body, declarations in
    order; `size_t a, b;` is two fields. Anything else (arrays, bit fields,
    function pointers, nested structs) is refused, so that it is noticed."""
    out = []
    for decl in (d.strip() for d in body.split(";")):
        if not decl:
            continue
        if re.search(r"[\[\]():{}]", decl):
            raise AssertionError(f"{struct}: cannot read the declaration '{decl}'")
        first, *more = decl.split(",")
        m = re.fullmatch(r"(.*?)(\w+)", first.strip(), re.S)
        words = m.group(1).replace("*", " * ").split()
        # `const struct tally_x *` (a handle named by its tag) is tally_x.
        base = " ".join(w for w in words if w not in ("const", "*", "struct"))
        out.append((m.group(2), base, words.count("*")))
        for piece in more:
            m = re.fullmatch(r"([\s*]*)(\w+)", piece.strip())
            out.append((m.group(2), base, m.group(1).count("*")))
    return out


def _camel(c_name):
    return "".join(w.capitalize() for w in c_name[len("tally_"):].split("_"))


def c_name(cls_name):
    if cls_name in C_NAMES:
        return C_NAMES[cls_name]
    return "tally_" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls_name).lower()


def ctype(base, depth, structs, enums, module):
    """The ctypes type of a C type: strings are c_char_p, a tally handle
    (an opaque struct) is the Structure of _lib.py of that name, a value
    struct its mirror, an enum type is an int."""
    if depth and base == "char":
        t, depth = ctypes.c_char_p, depth - 1
    elif depth and base == "void":
        t, depth = ctypes.c_void_p, depth - 1
    elif base in SCALARS:
        t = SCALARS[base]
    elif base in enums:
        t = ctypes.c_int
    elif base.startswith("tally_") and hasattr(module, _camel(base)):
        t = getattr(module, _camel(base))
    else:
        raise AssertionError(f"no ctypes type for the C type '{base}'")
    for _ in range(depth):
        t = ctypes.POINTER(t)
    return t


def _type_name(t):
    return getattr(t, "__name__", repr(t))


def mirror_problems(headers_dir, module):
    """How the value structs and enum constants of `module` (_lib) differ
    from the headers, one line each."""
    structs, versions, enums, values = read_headers(headers_dir)
    mirrors = {c_name(name): cls for name, cls in vars(module).items()
               if isinstance(cls, type) and issubclass(cls, ctypes.Structure)
               and "_fields_" in vars(cls)}
    out = []
    for name in sorted(set(structs) - set(mirrors)):
        out.append(f"{structs[name][0]}: struct {name} has no mirror in _lib.py "
                   f"(a Structure named {_camel(name)})")
    for name in sorted(set(mirrors) - set(structs)):
        out.append(f"_lib.py: {mirrors[name].__name__} mirrors {name}, which no header "
                   f"in include/tally defines")
    for name in sorted(set(structs) & set(mirrors)):
        header, fields = structs[name]
        cls = mirrors[name]
        where = f"{cls.__name__} ({name}, {header})"
        want = [(f, ctype(base, depth, structs, enums, module)) for f, base, depth in fields]
        have = list(cls._fields_)
        if [f for f, _ in want] != [f for f, _ in have]:
            out.append(f"{where}: fields {[f for f, _ in have]}; the header has "
                       f"{[f for f, _ in want]}")
        else:
            for (f, t), (_, u) in zip(want, have):
                if t is not u and t != u:
                    out.append(f"{where}: field {f} is {_type_name(u)}; the header's "
                               f"type is {_type_name(t)}")
        macro = name.upper() + "_VERSION"
        if macro in versions:
            if getattr(cls, "VERSION", None) != versions[macro][1]:
                out.append(f"{where}: VERSION is {getattr(cls, 'VERSION', None)}; "
                           f"{versions[macro][0]} defines {macro} {versions[macro][1]}")
        elif hasattr(cls, "VERSION") or (fields and fields[0][0] == "version"):
            out.append(f"{where}: the headers define no {macro}")
    for const, value in sorted(vars(module).items()):
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", const) or const in NOT_ENUMS \
                or not isinstance(value, int):
            continue
        if "TALLY_" + const not in values:
            out.append(f"_lib.py: {const} = {value}; no header has an enum value TALLY_{const}")
        elif values["TALLY_" + const] != value:
            out.append(f"_lib.py: {const} = {value}; the header has TALLY_{const} = "
                       f"{values['TALLY_' + const]}")
    return out


def test_value_structs_mirror_the_headers():
    structs, versions, _, _ = read_headers(HEADERS)
    # The headers were read: the options structs and their versions are there.
    assert "tally_read_options" in structs and "TALLY_READ_OPTIONS_VERSION" in versions
    problems = mirror_problems(HEADERS, tally._lib)
    assert not problems, "\n".join(problems)


def test_read_options_are_the_current_version():
    structs, versions, _, _ = read_headers(HEADERS)
    fields = [f for f, _, _ in structs["tally_read_options"][1]]
    assert [f for f, _ in tally._lib.ReadOptions._fields_] == fields
    assert tally._lib.ReadOptions.VERSION == versions["TALLY_READ_OPTIONS_VERSION"][1]


def test_error_codes_mirror_the_header():
    values = read_headers(HEADERS)[3]
    codes = {k: v for k, v in vars(tally._errors).items() if re.fullmatch(r"E[A-Z]+|OK", k)}
    assert codes == {k[len("TALLY_"):]: v for k, v in values.items()
                     if re.fullmatch(r"TALLY_(E[A-Z]+|OK)", k)}


def test_a_disagreement_is_found(tmp_path):
    """The check itself: a header one field and one version behind, a
    field of another type, an unmirrored struct and a changed enum."""
    (tmp_path / "read.h").write_text("""
/* Options for the readers. */
typedef struct tally_read_options {
    unsigned int version;
    int on_error; /* tally_on_error */
    const char *encoding;
    size_t max_columns;
    size_t max_field_bytes;
} tally_read_options;

#define TALLY_READ_OPTIONS_VERSION 2

typedef struct tally_read_stats {
    size_t rows_read, rows_accepted;
    int rows_rejected;
} tally_read_stats;

typedef struct tally_new_thing {
    const tally_dataset *ds;
    const char *const *names;
} tally_new_thing;

typedef enum tally_format { TALLY_FORMAT_CSV, TALLY_FORMAT_JSON = 2 } tally_format;
""")

    class Module:
        class ReadOptions(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint), ("on_error", ctypes.c_int),
                        ("encoding", ctypes.c_char_p), ("max_columns", ctypes.c_size_t),
                        ("max_field_bytes", ctypes.c_size_t), ("threads", ctypes.c_uint)]
            VERSION = 3

        class ReadStats(ctypes.Structure):
            _fields_ = [("rows_read", ctypes.c_size_t), ("rows_accepted", ctypes.c_size_t),
                        ("rows_rejected", ctypes.c_size_t)]

        class Dataset(ctypes.Structure):
            pass

        FORMAT_CSV = 0
        FORMAT_JSON = 1

    assert mirror_problems(tmp_path, Module) == [
        "read.h: struct tally_new_thing has no mirror in _lib.py (a Structure named NewThing)",
        "ReadOptions (tally_read_options, read.h): fields ['version', 'on_error', 'encoding', "
        "'max_columns', 'max_field_bytes', 'threads']; the header has ['version', 'on_error', "
        "'encoding', 'max_columns', 'max_field_bytes']",
        "ReadOptions (tally_read_options, read.h): VERSION is 3; read.h defines "
        "TALLY_READ_OPTIONS_VERSION 2",
        "ReadStats (tally_read_stats, read.h): field rows_rejected is c_ulong; the header's "
        "type is c_int",
        "_lib.py: FORMAT_JSON = 1; the header has TALLY_FORMAT_JSON = 2",
    ]
    fields = read_headers(tmp_path)[0]["tally_new_thing"][1]
    assert fields == [("ds", "tally_dataset", 1), ("names", "char", 2)]
    assert ctype("tally_dataset", 1, {}, set(), Module) is ctypes.POINTER(Module.Dataset)
    assert ctype("char", 2, {}, set(), Module) is ctypes.POINTER(ctypes.c_char_p)
    with pytest.raises(AssertionError, match="cannot read the declaration 'char name\\[16\\]'"):
        _fields("tally_x", "char name[16];")
