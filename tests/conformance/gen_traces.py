"""Small CTF traces written on the fly for view_vs_babeltrace.py, covering
value forms the corpora lack: integer bases and odd sizes, big-endian
fields, strings with quotes, backslashes, control bytes and invalid UTF-8,
text arrays with an embedded NUL, floats, empty and nested structs,
variants, enums with several or no matching labels (babeltrace 1.5 orders
them: single values, then ranges in reverse declaration order), and the
host part with and without hostname/procname/vpid."""
import os
import struct

PREAMBLE = """/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
trace { major = 1; minor = 8; byte_order = le; };
"""

CLOCK = """clock { name = c; freq = 1000000000; offset_s = 1457113582; };
typealias integer { size = 32; align = 8; signed = false;
                    map = clock.c.value; } := clk32;
stream { event.header := struct { uint8_t id; clk32 timestamp; };
         event.context := struct { uint8_t _cpu; }; };
"""

VALUES_EVENTS = """
event { name = "ints"; id = 0; fields := struct {
  integer { size = 5; align = 8; signed = true; base = 16; } s5x;
  integer { size = 13; align = 8; signed = true; base = 8; } s13o;
  integer { size = 6; align = 8; signed = false; base = 2; } u6b;
  integer { size = 33; align = 8; signed = true; base = 10; } s33;
  integer { size = 16; align = 8; signed = false; base = 16;
            byte_order = be; } be16;
  integer { size = 8; align = 8; signed = true; base = 2; } s8b;
  integer { size = 64; align = 8; signed = true; base = 16; } s64x;
  integer { size = 64; align = 8; signed = false; base = 10; } u64;
}; };
event { name = "strs"; id = 1; fields := struct {
  string s1; string _s2;
  integer { size = 8; align = 8; signed = false; encoding = UTF8; } txt[6];
  uint8_t __n;
  integer { size = 8; align = 8; signed = false; encoding = ASCII; } seq[__n];
  uint32_t arr[2];
  struct { } empty;
  struct { uint8_t a; struct { uint8_t b; } inner; } nested;
  uint8_t zero[0];
}; };
event { name = "flt"; id = 2; fields := struct {
  floating_point { exp_dig = 8; mant_dig = 24; align = 8; } f;
  floating_point { exp_dig = 11; mant_dig = 53; align = 8; } d;
}; };
event { name = "var"; id = 3; fields := struct {
  enum : uint8_t { INT, STR, _NONE } tag;
  variant <tag> { uint32_t INT; string STR; struct { } _NONE; } v;
}; };
event { name = "enums"; id = 4; fields := struct {
  enum : uint8_t { A = 1, C = 0 ... 5, B = 1, D = 1 ... 3, E = 7 } e;
  enum : integer { size = 8; align = 8; signed = true; } { NEG = -3 ... -1, Z = 0 } s;
  enum : integer { size = 8; align = 8; signed = false; base = 16; } { X = 1, Y = 2 } hx;
}; };
"""


def _s(v, bits):
    return v & ((1 << bits) - 1)


def _hdr(ev_id, ts):
    return struct.pack("<BI", ev_id, ts) + bytes([3])


def _values_stream():
    out = _hdr(0, 1000)
    out += (bytes([_s(-1, 5)]) + struct.pack("<H", _s(-2, 13)) + bytes([5]) +
            _s(-5, 33).to_bytes(5, "little") + struct.pack(">H", 0x1234) +
            bytes([_s(-3, 8)]) + struct.pack("<q", -2) +
            struct.pack("<Q", 2**64 - 1))
    out += (_hdr(1, 2000) +
            b'he said "hi" \\ back\n\ttab\x01\xc3\xa9\xff?\x00' +
            b'two\x00' + b'ab\x00cde' + bytes([3]) + b'xyz' +
            struct.pack("<II", 7, 8) + bytes([1, 2]))
    out += (_hdr(1, 2000) + b'\x00' + b'\x00' + b'\x00' * 6 + bytes([0]) +
            struct.pack("<II", 0, 0) + bytes([0, 0]))
    for f, d in ((0.5, 2222.0), (1e20, -0.0), (float("inf"), float("nan")),
                 (3.14159, 1e-7), (-1.5e-38, 123456789.0)):
        out += _hdr(2, 3000) + struct.pack("<f", f) + struct.pack("<d", d)
    out += _hdr(3, 4000) + bytes([0]) + struct.pack("<I", 77)
    out += _hdr(3, 4001) + bytes([1]) + b"variant string\x00"
    out += _hdr(3, 4002) + bytes([2])
    for e, sv, hx in ((1, -2, 1), (7, 0, 2), (3, 5, 9), (9, -1, 1)):
        out += _hdr(4, 5000 + e) + bytes([e, _s(sv, 8), hx])
    return out


TRACES = {
    # name: (env block, extra metadata, stream bytes)
    "values": ('env { hostname = "gen"; procname = "app"; vpid = 42; };\n',
               CLOCK + VALUES_EVENTS, _values_stream),
    "no-hostname": ('env { procname = "app"; vpid = 7; domain = "ust"; };\n',
                    CLOCK + VALUES_EVENTS, _values_stream),
    "empty-env": ("env { };\n", CLOCK + VALUES_EVENTS, _values_stream),
}


def write_all(root):
    """Writes every trace under root; returns their directory names."""
    names = []
    for name, (env, body, stream) in sorted(TRACES.items()):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "metadata"), "w", encoding="ascii") as f:
            f.write(PREAMBLE + env + body)
        with open(os.path.join(d, "stream"), "wb") as f:
            f.write(stream())
        names.append(name)
    return names
