"""Loads libtally and declares every function the bindings call, once.

The library is looked for, in order:

1. ``$TALLY_LIBRARY`` (when set and not empty): a path to ``libtally.so``,
   or a name for the dynamic loader. When it is set nothing else is tried,
   so a wrong setting fails loudly instead of silently loading another copy;
2. the directory ``meson install`` put the library in, recorded in
   ``_paths.py`` when the package was installed with it;
3. ``pkg-config --variable=libdir tally``, when pkg-config is installed and
   finds ``tally.pc`` (a library installed elsewhere, or under another
   prefix);
4. the system's dynamic loader: ``libtally.so.<major>`` by name, then what
   ``ctypes.util.find_library("tally")`` finds.

A source tree is not searched: tests and scripts run against a build say
which library they mean with ``TALLY_LIBRARY``.

The library's major version must be the one these bindings were written
for, and it must have every function they declare. A library that is not
usable is passed over (unless it is ``$TALLY_LIBRARY``); when none is, the
import fails with one message that lists every place tried and why each
was refused.

Each function is declared with ``argtypes`` and ``restype``; those that
return a status get an ``errcheck`` that turns a negative code into an
exception built from ``tally_error_last()`` at once, on the calling thread
(the record is thread-local and overwritten by the next failing call).
"""

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import typing
from ctypes import (POINTER, Structure, c_char_p, c_double, c_int, c_size_t, c_uint,
                    c_ulong, c_void_p)

from . import _errors
from ._guard import refusing_nul, text_args

try:
    from . import _paths  # type: ignore[attr-defined]  # written by meson install
except ImportError:  # a source tree
    _paths = None

# The library major version these bindings are written against (the
# project's major version; its soname follows it).
MAJOR = 0
SONAME = f"libtally.so.{MAJOR}"

NONE = ctypes.c_size_t(-1).value  # TALLY_NONE


# ---- handle types: one empty structure each, used through POINTER ----

class Hierarchy(Structure):
    pass


class Definitions(Structure):
    pass


class Dataset(Structure):
    pass


class Rejects(Structure):
    pass


class XlsxSheet(Structure):
    pass


class Result(Structure):
    pass


class Targets(Structure):
    pass


class TargetFindings(Structure):
    pass


class Progress(Structure):
    pass


class Households(Structure):
    pass


class Poverty(Structure):
    pass


class Thresholds(Structure):
    pass


class Findings(Structure):
    pass


class Crosswalk(Structure):
    pass


class Partial(Structure):
    pass


# ---- plain value structs of the public API ----
# Each mirrors the C struct tally_<its name in snake case> (ErrorRecord:
# tally_error) field for field, and VERSION is the headers'
# TALLY_<NAME>_VERSION: tests/python/test_structs.py compares them with
# include/tally/*.h.

class ErrorRecord(Structure):
    _fields_ = [("code", c_int), ("message", c_char_p), ("path", c_char_p),
                ("line", c_ulong), ("column", c_ulong), ("text", c_char_p)]


class HierarchyOptions(Structure):
    _fields_ = [("version", c_uint), ("level_names", POINTER(c_char_p)),
                ("level_count", c_size_t), ("encoding", c_char_p), ("max_columns", c_size_t),
                ("max_field_bytes", c_size_t), ("definitions", POINTER(Definitions)),
                ("max_input_bytes", c_size_t), ("sheet", POINTER(XlsxSheet))]
    VERSION = 4


class Period(Structure):
    _fields_ = [("year", c_int), ("kind", c_int), ("index", c_int), ("end", c_int)]


class CrosswalkOptions(Structure):
    _fields_ = [("version", c_uint)]
    VERSION = 1


class ReadOptions(Structure):
    _fields_ = [("version", c_uint), ("on_error", c_int), ("encoding", c_char_p),
                ("max_columns", c_size_t), ("max_field_bytes", c_size_t), ("threads", c_uint),
                ("max_input_bytes", c_size_t), ("max_dataset_bytes", c_size_t),
                ("sheet", POINTER(XlsxSheet))]
    VERSION = 5


class ReadStats(Structure):
    _fields_ = [("rows_read", c_size_t), ("rows_accepted", c_size_t),
                ("rows_rejected", c_size_t)]


class RollupOptions(Structure):
    _fields_ = [("version", c_uint), ("prefer", c_int), ("compare", c_int),
                ("periods", POINTER(c_char_p)), ("period_count", c_size_t),
                ("coverage", c_int)]
    VERSION = 2


class WriteOptions(Structure):
    _fields_ = [("version", c_uint), ("format", c_int), ("levels", POINTER(c_int)),
                ("level_count", c_size_t), ("bom", c_int), ("names", c_int), ("layout", c_int),
                ("under", c_char_p), ("indicators", POINTER(c_char_p)),
                ("indicator_count", c_size_t), ("all_regions", c_int)]
    VERSION = 3


class ProgressOptions(Structure):
    _fields_ = [("version", c_uint), ("year", c_int), ("month", c_int), ("prefer", c_int),
                ("schedule", POINTER(c_double))]
    VERSION = 1


class ProgressSvgOptions(Structure):
    _fields_ = [("version", c_uint), ("level", c_int), ("indicator", c_size_t),
                ("title", c_char_p)]
    VERSION = 1


class PovertyOptions(Structure):
    _fields_ = [("version", c_uint), ("year", c_int), ("line", c_double),
                ("monitoring_line", c_double)]
    VERSION = 1


class ThresholdsOptions(Structure):
    _fields_ = [("version", c_uint), ("indicators", POINTER(c_size_t)),
                ("indicator_count", c_size_t)]
    VERSION = 1


class ThresholdStatus(Structure):
    _fields_ = [("value", c_double), ("threshold", c_double), ("is_max", c_int),
                ("inclusive", c_int), ("meets", c_int), ("margin", c_double)]


class CheckOptions(Structure):
    _fields_ = [("version", c_uint), ("prefer", c_int), ("periods", POINTER(c_char_p)),
                ("period_count", c_size_t), ("targets", POINTER(Targets))]
    VERSION = 1


class CheckSummary(Structure):
    _fields_ = [("check", c_char_p), ("kind", c_int), ("severity", c_int), ("items", c_size_t),
                ("passes", c_size_t), ("warnings", c_size_t), ("fails", c_size_t),
                ("missing", c_size_t)]


PERIOD_YEAR = 0
PERIOD_QUARTER = 1
PERIOD_MONTH = 2
PERIOD_HALF = 3
PERIOD_MONTHS = 4
PERIOD_QUARTERS = 5
ON_ERROR_STOP = 0
ON_ERROR_COLLECT = 1
PREFER_COMPUTED = 0
PREFER_REPORTED = 1
COMPARE_NONE = 0
COMPARE_YOY = 1
COMPARE_POP = 2
FORMAT_CSV = 0
FORMAT_JSON = 1
FORMAT_XLSX = 2
LAYOUT_LONG = 0
LAYOUT_WIDE = 1


def _text(b):
    return None if b is None else b.decode("utf-8", "replace")


def last_error():
    """The calling thread's last error as an exception (not raised)."""
    rec = lib.tally_error_last().contents
    return _errors.make_error(rec.code, _text(rec.message) or "", _text(rec.path),
                              rec.line or None, rec.column or None, _text(rec.text))


def _check(result, func, args):
    """errcheck for functions that return 0 or a negative TALLY_E* code."""
    if result < 0:
        err = last_error()
        if err.code != result:
            # The function failed without recording why (should not happen):
            # still raise the right class, with the fixed text of the code.
            err = _errors.make_error(result, f"{func.__name__}: "
                                     f"{lib.tally_strerror(result).decode()}")
        raise err
    return result


H, D, DS, RJ, R = (POINTER(t) for t in (Hierarchy, Definitions, Dataset, Rejects, Result))
T, TF, PR = POINTER(Targets), POINTER(TargetFindings), POINTER(Progress)
HH, PV, TH = POINTER(Households), POINTER(Poverty), POINTER(Thresholds)
F = POINTER(Findings)
CW = POINTER(Crosswalk)
PT = POINTER(Partial)
_size_p = POINTER(c_size_t)
_double_p = POINTER(c_double)
_int_p = POINTER(c_int)

# name: (restype, argtypes, checked). `checked` functions return a status.
_FUNCTIONS = {
    # common, error, version
    "tally_free": (None, [c_void_p], False),
    "tally_strerror": (c_char_p, [c_int], False),
    "tally_error_last": (POINTER(ErrorRecord), [], False),
    "tally_error_clear": (None, [], False),
    "tally_version": (c_char_p, [], False),
    # periods
    "tally_period_parse": (c_int, [POINTER(Period), c_char_p, c_size_t], True),
    "tally_period_format": (c_int, [c_char_p, c_size_t, POINTER(Period)], True),
    "tally_period_months": (c_int, [POINTER(Period), _int_p, _int_p], True),
    "tally_period_compare": (c_int, [POINTER(Period), POINTER(Period)], False),
    # hierarchy
    "tally_hierarchy_from_file": (c_int, [POINTER(H), c_char_p, POINTER(HierarchyOptions)], True),
    "tally_hierarchy_from_buffer": (c_int, [POINTER(H), c_char_p, c_size_t, c_char_p,
                                            POINTER(HierarchyOptions)], True),
    "tally_hierarchy_free": (None, [H], False),
    "tally_hierarchy_size": (c_size_t, [H], False),
    "tally_hierarchy_detected_encoding": (c_char_p, [H], False),
    "tally_hierarchy_find": (c_int, [H, c_char_p, c_size_t, _size_p], True),
    "tally_hierarchy_code": (c_char_p, [H, c_size_t], False),
    "tally_hierarchy_name": (c_char_p, [H, c_size_t], False),
    "tally_hierarchy_level": (c_int, [H, c_size_t], False),
    "tally_hierarchy_parent": (c_size_t, [H, c_size_t], False),
    "tally_hierarchy_subtree_end": (c_size_t, [H, c_size_t], False),
    "tally_hierarchy_line": (c_ulong, [H, c_size_t], False),
    "tally_hierarchy_parents": (_size_p, [H], False),
    "tally_hierarchy_level_count": (c_size_t, [H], False),
    "tally_hierarchy_level_name": (c_char_p, [H, c_int], False),
    "tally_hierarchy_level_find": (c_int, [H, c_char_p], False),
    "tally_hierarchy_cache_save": (c_int, [H, c_char_p, c_char_p, POINTER(HierarchyOptions)],
                                   True),
    "tally_hierarchy_cache_load": (c_int, [POINTER(H), c_char_p, c_char_p,
                                           POINTER(HierarchyOptions)], True),
    "tally_hierarchy_from_file_cached": (c_int, [POINTER(H), c_char_p, POINTER(HierarchyOptions),
                                                 c_uint, POINTER(c_int)], True),
    # crosswalk
    "tally_crosswalk_kind_name": (c_char_p, [c_int], False),
    "tally_crosswalk_infer": (c_int, [POINTER(CW), H, H, POINTER(CrosswalkOptions)], True),
    "tally_crosswalk_from_file": (c_int, [POINTER(CW), c_char_p, H], True),
    "tally_crosswalk_from_buffer": (c_int, [POINTER(CW), c_char_p, c_size_t, c_char_p, H], True),
    "tally_crosswalk_free": (None, [CW], False),
    "tally_crosswalk_size": (c_size_t, [CW], False),
    "tally_crosswalk_from_code": (c_char_p, [CW, c_size_t], False),
    "tally_crosswalk_from_name": (c_char_p, [CW, c_size_t], False),
    "tally_crosswalk_to_code": (c_char_p, [CW, c_size_t], False),
    "tally_crosswalk_to_name": (c_char_p, [CW, c_size_t], False),
    "tally_crosswalk_share": (c_double, [CW, c_size_t], False),
    "tally_crosswalk_how": (c_int, [CW, c_size_t], False),
    "tally_crosswalk_level": (c_int, [CW, c_size_t], False),
    "tally_crosswalk_line": (c_ulong, [CW, c_size_t], False),
    "tally_crosswalk_find": (c_int, [CW, c_char_p, c_size_t, _size_p, _size_p], False),
    "tally_crosswalk_level_count": (c_size_t, [CW], False),
    "tally_crosswalk_level_name": (c_char_p, [CW, c_int], False),
    "tally_crosswalk_count": (c_size_t, [CW, c_int, c_int], False),
    "tally_crosswalk_write": (c_int, [CW, c_char_p], True),
    "tally_crosswalk_write_summary": (c_int, [CW, c_char_p], True),
    # definitions
    "tally_definitions_from_file": (c_int, [POINTER(D), c_char_p], True),
    "tally_definitions_from_buffer": (c_int, [POINTER(D), c_char_p, c_size_t, c_char_p], True),
    "tally_definitions_free": (None, [D], False),
    "tally_definitions_level_count": (c_size_t, [D], False),
    "tally_definitions_level_name": (c_char_p, [D, c_size_t], False),
    "tally_definitions_indicator_count": (c_size_t, [D], False),
    "tally_definitions_find": (c_int, [D, c_char_p, c_size_t, _size_p], True),
    "tally_definitions_id": (c_char_p, [D, c_size_t], False),
    "tally_definitions_name": (c_char_p, [D, c_size_t], False),
    "tally_definitions_unit": (c_char_p, [D, c_size_t], False),
    "tally_definitions_decimals": (c_int, [D, c_size_t], False),
    "tally_definitions_aggregate": (c_int, [D, c_size_t], False),
    "tally_definitions_over_time": (c_int, [D, c_size_t], False),
    "tally_definitions_direction": (c_int, [D, c_size_t], False),
    "tally_definitions_exact": (c_int, [D, c_size_t], False),
    "tally_definitions_ignore_column_count": (c_size_t, [D], False),
    "tally_definitions_ignore_column": (c_char_p, [D, c_size_t], False),
    "tally_definitions_formula": (c_char_p, [D, c_size_t], False),
    "tally_definitions_min": (c_double, [D, c_size_t], False),
    "tally_definitions_max": (c_double, [D, c_size_t], False),
    "tally_definitions_category_count": (c_size_t, [D], False),
    "tally_definitions_category_id": (c_char_p, [D, c_size_t], False),
    "tally_definitions_category_name": (c_char_p, [D, c_size_t], False),
    "tally_definitions_category_exclusive": (c_int, [D, c_size_t], False),
    "tally_definitions_option_count": (c_size_t, [D, c_size_t], False),
    "tally_definitions_option_id": (c_char_p, [D, c_size_t, c_size_t], False),
    "tally_definitions_option_name": (c_char_p, [D, c_size_t, c_size_t], False),
    "tally_definitions_base": (c_size_t, [D, c_size_t], False),
    "tally_definitions_option": (c_int, [D, c_size_t, c_size_t], False),
    "tally_definitions_slot": (c_int, [D, c_size_t, c_size_t, c_int, _size_p], True),
    # dataset and rejects
    "tally_dataset_new": (c_int, [POINTER(DS), H, D], True),
    "tally_dataset_free": (None, [DS], False),
    "tally_dataset_hierarchy": (H, [DS], False),
    "tally_dataset_definitions": (D, [DS], False),
    "tally_dataset_read_file": (c_int, [DS, c_char_p, POINTER(ReadOptions), RJ,
                                        POINTER(ReadStats)], True),
    "tally_dataset_read_buffer": (c_int, [DS, c_char_p, c_size_t, c_char_p,
                                          POINTER(ReadOptions), RJ, POINTER(ReadStats)], True),
    "tally_dataset_add": (c_int, [DS, c_char_p, c_char_p, c_char_p, c_double], True),
    # carry (records under old codes, through a crosswalk)
    "tally_dataset_set_crosswalk": (c_int, [DS, CW], True),
    "tally_dataset_carried_rows": (c_size_t, [DS, c_int], False),
    "tally_dataset_carried_count": (c_size_t, [DS], False),
    "tally_dataset_carried_node": (c_size_t, [DS, c_size_t], False),
    "tally_dataset_carried_indicator": (c_size_t, [DS, c_size_t], False),
    "tally_dataset_carried_period": (c_char_p, [DS, c_size_t], False),
    "tally_dataset_carried_from": (c_char_p, [DS, c_size_t], False),
    "tally_dataset_carried_how": (c_int, [DS, c_size_t], False),
    "tally_dataset_add_values": (c_int, [DS, c_size_t, POINTER(c_char_p), POINTER(c_char_p),
                                         POINTER(c_char_p), _double_p, c_int, RJ,
                                         POINTER(ReadStats)], True),
    "tally_dataset_reported": (c_int, [DS, c_size_t, c_size_t, c_char_p, _double_p, _int_p],
                               True),
    "tally_dataset_value_count": (c_size_t, [DS], False),
    # snapshots
    "tally_snapshot_is": (c_int, [c_void_p, c_size_t], False),
    "tally_snapshot_save": (c_int, [DS, c_char_p], True),
    "tally_snapshot_save_buffer": (c_int, [DS, POINTER(c_void_p), POINTER(c_size_t)], True),
    "tally_snapshot_load": (c_int, [DS, c_char_p], True),
    "tally_snapshot_load_buffer": (c_int, [DS, c_void_p, c_size_t, c_char_p], True),
    "tally_rejects_new": (c_int, [POINTER(RJ)], True),
    "tally_rejects_free": (None, [RJ], False),
    "tally_rejects_count": (c_size_t, [RJ], False),
    "tally_rejects_empty_rows": (c_size_t, [RJ], False),
    "tally_rejects_path": (c_char_p, [RJ, c_size_t], False),
    "tally_rejects_line": (c_ulong, [RJ, c_size_t], False),
    "tally_rejects_column": (c_ulong, [RJ, c_size_t], False),
    "tally_rejects_code": (c_int, [RJ, c_size_t], False),
    "tally_rejects_reason": (c_char_p, [RJ, c_size_t], False),
    "tally_rejects_row": (c_char_p, [RJ, c_size_t], False),
    "tally_dataset_periods": (c_int, [DS, POINTER(c_void_p)], True),
    "tally_dataset_period_has_values": (c_int, [DS, c_char_p], True),
    "tally_rejects_warning_count": (c_size_t, [RJ], False),
    "tally_rejects_warning_path": (c_char_p, [RJ, c_size_t], False),
    "tally_rejects_warning_line": (c_ulong, [RJ, c_size_t], False),
    "tally_rejects_warning_column": (c_ulong, [RJ, c_size_t], False),
    "tally_rejects_warning_reason": (c_char_p, [RJ, c_size_t], False),
    "tally_rejects_write_csv": (c_int, [RJ, c_char_p], True),
    "tally_xlsx_sheet_open": (c_int, [POINTER(POINTER(XlsxSheet)), c_char_p, c_char_p,
                                      POINTER(ReadOptions)], True),
    "tally_xlsx_sheet_csv": (c_void_p, [POINTER(XlsxSheet), POINTER(c_size_t)], False),
    "tally_xlsx_sheet_name": (c_void_p, [POINTER(XlsxSheet)], False),
    "tally_xlsx_cell_name": (c_char_p, [c_ulong, c_ulong, c_char_p, c_size_t], False),
    "tally_xlsx_sheet_free": (None, [POINTER(XlsxSheet)], False),
    # rollup
    "tally_rollup": (c_int, [POINTER(R), DS, POINTER(RollupOptions)], True),
    "tally_rollup_take": (c_int, [POINTER(R), DS, POINTER(RollupOptions)], True),
    "tally_result_free": (None, [R], False),
    "tally_result_hierarchy": (H, [R], False),
    "tally_result_definitions": (D, [R], False),
    "tally_result_period_count": (c_size_t, [R], False),
    "tally_result_period": (c_char_p, [R, c_size_t], False),
    "tally_result_period_find": (c_int, [R, c_char_p, _size_p], True),
    "tally_result_compare": (c_int, [R], False),
    "tally_result_compared": (c_char_p, [R, c_size_t, _int_p], False),
    "tally_result_value": (c_int, [R, c_size_t, c_size_t, c_size_t, _double_p, _int_p], True),
    "tally_result_sides": (c_int, [R, c_size_t, c_size_t, c_size_t, _double_p, _double_p], True),
    "tally_result_previous": (c_int, [R, c_size_t, c_size_t, c_size_t, _double_p, _int_p], True),
    "tally_result_column": (_double_p, [R, c_size_t, c_size_t], False),
    "tally_result_coverage": (c_int, [R, c_size_t, c_size_t, c_size_t, _size_p, _size_p], True),
    "tally_result_complete": (c_int, [R, c_size_t, c_size_t, c_size_t, _int_p], True),
    "tally_result_as_of": (c_int, [R, c_size_t, c_size_t, c_size_t, _int_p, _int_p], True),
    # export
    "tally_result_write": (c_int, [R, c_char_p, POINTER(WriteOptions)], True),
    "tally_number_format": (c_int, [c_char_p, c_size_t, c_double, c_int], True),
    # targets and completion
    "tally_targets_new": (c_int, [POINTER(T), H, D], True),
    "tally_targets_free": (None, [T], False),
    "tally_targets_read_file": (c_int, [T, c_char_p, POINTER(ReadOptions), RJ,
                                        POINTER(ReadStats)], True),
    "tally_targets_read_buffer": (c_int, [T, c_char_p, c_size_t, c_char_p, POINTER(ReadOptions),
                                          RJ, POINTER(ReadStats)], True),
    "tally_targets_add": (c_int, [T, c_char_p, c_char_p, c_int, c_double], True),
    "tally_targets_count": (c_size_t, [T], False),
    "tally_targets_given": (c_int, [T, c_size_t, c_size_t, c_int, _double_p, _int_p], True),
    "tally_targets_effective": (c_int, [T, c_size_t, c_int, _double_p, c_size_t], True),
    "tally_targets_has": (c_int, [T, c_size_t, c_int], False),
    "tally_targets_decomposition": (c_int, [POINTER(TF), T], True),
    "tally_target_findings_free": (None, [TF], False),
    "tally_target_findings_count": (c_size_t, [TF], False),
    "tally_target_findings_node": (c_size_t, [TF, c_size_t], False),
    "tally_target_findings_indicator": (c_size_t, [TF, c_size_t], False),
    "tally_target_findings_year": (c_int, [TF, c_size_t], False),
    "tally_target_findings_target": (c_double, [TF, c_size_t], False),
    "tally_target_findings_children_sum": (c_double, [TF, c_size_t], False),
    "tally_target_findings_children_with_target": (c_size_t, [TF, c_size_t], False),
    "tally_target_findings_children": (c_size_t, [TF, c_size_t], False),
    "tally_schedule_from_file": (c_int, [_double_p, c_char_p], True),
    "tally_schedule_from_buffer": (c_int, [_double_p, c_char_p, c_size_t, c_char_p], True),
    "tally_schedule_check": (c_int, [_double_p, c_size_t], True),
    "tally_progress_run": (c_int, [POINTER(PR), DS, T, POINTER(ProgressOptions)], True),
    "tally_progress_free": (None, [PR], False),
    "tally_progress_hierarchy": (H, [PR], False),
    "tally_progress_definitions": (D, [PR], False),
    "tally_progress_year": (c_int, [PR], False),
    "tally_progress_month": (c_int, [PR], False),
    "tally_progress_indicator_count": (c_size_t, [PR], False),
    "tally_progress_indicator": (c_size_t, [PR, c_size_t], False),
    "tally_progress_count": (c_size_t, [PR], False),
    "tally_progress_find": (c_int, [PR, c_size_t, c_size_t, _size_p], True),
    "tally_progress_node": (c_size_t, [PR, c_size_t], False),
    "tally_progress_row_indicator": (c_size_t, [PR, c_size_t], False),
    "tally_progress_actual": (c_double, [PR, c_size_t], False),
    "tally_progress_target": (c_double, [PR, c_size_t], False),
    "tally_progress_completion": (c_double, [PR, c_size_t], False),
    "tally_progress_time_progress": (c_double, [PR, c_size_t], False),
    "tally_progress_status": (c_int, [PR, c_size_t], False),
    "tally_progress_gap": (c_double, [PR, c_size_t], False),
    "tally_progress_monthly_pace": (c_double, [PR, c_size_t], False),
    "tally_progress_rank": (c_size_t, [PR, c_size_t], False),
    "tally_progress_complete": (c_int, [PR, c_size_t], False),
    "tally_target_status_name": (c_char_p, [c_int], False),
    "tally_progress_write": (c_int, [PR, c_char_p, POINTER(WriteOptions)], True),
    "tally_progress_write_svg": (c_int, [PR, c_char_p, POINTER(ProgressSvgOptions)], True),
    # poverty
    "tally_households_new": (c_int, [POINTER(HH), H], True),
    "tally_households_free": (None, [HH], False),
    "tally_households_hierarchy": (H, [HH], False),
    "tally_households_read_file": (c_int, [HH, c_char_p, POINTER(ReadOptions), RJ,
                                           POINTER(ReadStats)], True),
    "tally_households_read_buffer": (c_int, [HH, c_char_p, c_size_t, c_char_p,
                                             POINTER(ReadOptions), RJ, POINTER(ReadStats)], True),
    "tally_households_add": (c_int, [HH, c_char_p, c_char_p, c_double, c_double, c_double, c_int],
                             True),
    "tally_households_count": (c_size_t, [HH], False),
    "tally_poverty_households": (c_int, [POINTER(PV), HH, D, POINTER(PovertyOptions)], True),
    "tally_poverty_free": (None, [PV], False),
    "tally_poverty_hierarchy": (H, [PV], False),
    "tally_poverty_year": (c_int, [PV], False),
    "tally_poverty_line": (c_double, [PV], False),
    "tally_poverty_monitoring_line": (c_double, [PV], False),
    "tally_poverty_households_used": (c_size_t, [PV], False),
    "tally_poverty_households_skipped": (c_size_t, [PV], False),
    "tally_poverty_whole_persons": (c_int, [PV], False),
    "tally_poverty_value": (c_int, [PV, c_size_t, c_int, _double_p, _int_p], True),
    "tally_poverty_column": (_double_p, [PV, c_int], False),
    "tally_poverty_measure_name": (c_char_p, [c_int], False),
    "tally_poverty_write": (c_int, [PV, c_char_p, POINTER(WriteOptions)], True),
    "tally_poverty_thresholds": (c_int, [POINTER(TH), R, POINTER(ThresholdsOptions)], True),
    "tally_thresholds_free": (None, [TH], False),
    "tally_thresholds_indicator_count": (c_size_t, [TH], False),
    "tally_thresholds_indicator": (c_size_t, [TH, c_size_t], False),
    "tally_thresholds_period_count": (c_size_t, [TH], False),
    "tally_thresholds_period": (c_char_p, [TH, c_size_t], False),
    "tally_thresholds_status": (c_int, [TH, c_size_t, c_size_t, c_size_t,
                                        POINTER(ThresholdStatus)], True),
    "tally_thresholds_write": (c_int, [TH, c_char_p, POINTER(WriteOptions)], True),
    # checks
    "tally_check_run": (c_int, [POINTER(F), DS, POINTER(CheckOptions)], True),
    "tally_findings_free": (None, [F], False),
    "tally_findings_count": (c_size_t, [F], False),
    "tally_findings_error_count": (c_size_t, [F], False),
    "tally_findings_check": (c_char_p, [F, c_size_t], False),
    "tally_findings_kind": (c_int, [F, c_size_t], False),
    "tally_findings_severity": (c_int, [F, c_size_t], False),
    "tally_findings_node": (c_size_t, [F, c_size_t], False),
    "tally_findings_indicator": (c_size_t, [F, c_size_t], False),
    "tally_findings_period": (c_char_p, [F, c_size_t], False),
    "tally_findings_expected": (c_double, [F, c_size_t], False),
    "tally_findings_actual": (c_double, [F, c_size_t], False),
    "tally_findings_difference": (c_double, [F, c_size_t], False),
    "tally_findings_decimals": (c_int, [F, c_size_t], False),
    "tally_findings_message": (c_char_p, [F, c_size_t], False),
    "tally_findings_check_count": (c_size_t, [F], False),
    "tally_findings_summary": (c_int, [F, c_size_t, POINTER(CheckSummary)], True),
    "tally_findings_write": (c_int, [F, c_char_p, POINTER(WriteOptions)], True),
    # partials (tally/partial.h)
    "tally_partial_from_dataset": (c_int, [POINTER(PT), DS, c_uint], True),
    "tally_partial_from_households": (c_int, [POINTER(PT), HH, c_uint], True),
    "tally_partial_free": (None, [PT], False),
    "tally_partial_kind_of": (c_int, [PT], False),
    "tally_partial_count": (c_size_t, [PT], False),
    "tally_partial_duplicate_count": (c_size_t, [PT], False),
    "tally_partial_merge": (c_int, [PT, PT], True),
    "tally_partial_save_buffer": (c_int, [PT, POINTER(c_void_p), _size_p], True),
    "tally_partial_load_buffer": (c_int, [POINTER(PT), c_char_p, c_size_t, H, D], True),
    "tally_partial_dataset": (c_int, [POINTER(DS), PT, RJ], True),
    "tally_partial_rollup": (c_int, [POINTER(R), PT, POINTER(RollupOptions), RJ], True),
    "tally_partial_poverty": (c_int, [POINTER(PV), PT, D, POINTER(PovertyOptions), RJ], True),
}


class _Library:
    """The loaded library: every declared function as an attribute."""

    version: str

    def __init__(self, cdll: ctypes.CDLL, path: str, how: str) -> None:
        self.cdll = cdll
        self.path = path
        self.how = how

    if typing.TYPE_CHECKING:  # the functions are set by _declare
        def __getattr__(self, name: str) -> typing.Any: ...


def _pkg_config_libdir():
    """(libdir, None) from ``pkg-config --variable=libdir tally``, or
    (None, why there is none)."""
    exe = shutil.which("pkg-config")
    if exe is None:
        return None, "no pkg-config program"
    try:
        out = subprocess.run([exe, "--variable=libdir", "tally"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"{exe} failed: {e}"
    if out.returncode != 0 or not out.stdout.strip():
        return None, "no tally.pc on pkg-config's search path"
    return out.stdout.strip(), None


def _places():
    """(how, where, note) for each place the library is looked for, in
    order: where is a path or a name for the dynamic loader, or None with a
    note saying why the step has nothing to try. A generator, so that
    pkg-config and find_library run only when the steps before them fail."""
    explicit = os.environ.get("TALLY_LIBRARY")
    if explicit:
        yield "$TALLY_LIBRARY", explicit, None
        return
    if _paths is not None:
        yield "the install directory (_paths.py)", os.path.join(_paths.LIBDIR, SONAME), None
    else:
        yield "the install directory", None, "none recorded (no _paths.py: not installed by meson)"
    libdir, why = _pkg_config_libdir()
    yield "pkg-config", libdir and os.path.join(libdir, SONAME), why
    yield "the system loader", SONAME, None
    found = ctypes.util.find_library("tally")
    if found != SONAME:
        yield "ctypes.util.find_library('tally')", found, None if found else "nothing found"


def _open(how, where):
    """(the declared library, None), or (None, why it is not usable)."""
    if os.sep in where and not os.path.exists(where):
        return None, f"{where}: no such file"
    try:
        cdll = ctypes.CDLL(where)
    except OSError as e:
        # dlopen's message names the file: "libtally.so.0: cannot open ...".
        return None, str(e) if str(e).startswith(where) else f"{where}: {e}"
    return _declare(cdll, where, how)


def _load():
    tried = []
    explicit = bool(os.environ.get("TALLY_LIBRARY"))
    for how, where, note in _places():
        if where is None:
            tried.append(f"{how}: {note}")
            continue
        out, why = _open(how, where)
        if out is not None:
            return out
        tried.append(f"{how}: {why}")
    if explicit:
        advice = ("TALLY_LIBRARY is set, so nothing else was tried: point it at a libtally.so "
                  f"of version {MAJOR}.x, or unset it.")
    else:
        advice = ("Set TALLY_LIBRARY to the path of libtally.so (in a source tree built with "
                  "make: build/lib/libtally.so), or install the library (make install).")
    raise ImportError(f"tally: found no usable tally library (these bindings need version "
                      f"{MAJOR}.x); tried, in order:\n  " + "\n  ".join(tried) + "\n" + advice)


def _declare(cdll, where, how):
    """(the library with every function declared, None), or (None, why it
    is not the library these bindings need)."""
    try:
        version_fn = cdll.tally_version
    except AttributeError:
        return None, f"{where}: not the tally library (it has no tally_version())"
    version_fn.restype = c_char_p
    version_fn.argtypes = []
    version = version_fn().decode("ascii", "replace")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = None
    if major != MAJOR:
        return None, f"{where}: version {version}; these bindings need version {MAJOR}.x"
    out = _Library(cdll, where, how)
    missing = []
    for name, (restype, argtypes, checked) in _FUNCTIONS.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = text_args(argtypes)  # strings with a NUL refused
        if checked:
            fn.errcheck = _check
        setattr(out, name, refusing_nul(fn, fn.argtypes))
    if missing:
        return None, (f"{where}: version {version} lacks {', '.join(missing)}: it is older "
                      "than these bindings")
    out.version = version
    return out, None


lib = _load()
