/* The `columns:` section of the definitions: the header names of records
 * columns that the synonym table (columns.c) does not know, such as
 *
 *     columns: { region_code: 单位代码, value: 本月数 }
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "columns.h"
#include "definitions_loader.h"
#include "error.h"

int tally_definitions__parse_columns(tally_definitions__loader *l, const tally_yaml_node *v)
{
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a mapping of columns to the names a records header "
                                "gives them, such as { region_code: 单位代码, value: 本月数 }");
    const tally_yaml_node *value_of[TALLY_COLUMNS__RECORDS_COUNT];
    const tally_yaml_node *key_of[TALLY_COLUMNS__RECORDS_COUNT];
    int rc = tally_yaml__read_keys(&l->tree, v, "in columns", tally_columns__records_keys,
                                   TALLY_COLUMNS__RECORDS_COUNT, value_of, key_of);
    for (size_t k = 0; !rc && k < TALLY_COLUMNS__RECORDS_COUNT; k++) {
        if (!value_of[k])
            continue;
        rc = tally_definitions__get_string(l, value_of[k], "a header name",
                                           &l->d->column_headers[k]);
        if (!rc && !l->d->column_headers[k][0])
            rc = tally_yaml__fail(&l->tree, TALLY_EINVAL, value_of[k],
                                  "an empty header name for '%s'; expected the name the "
                                  "records header gives the column",
                                  tally_columns__records_keys[k]);
    }
    return rc;
}

const char *tally_definitions__column_header(const tally_definitions *d, size_t k)
{
    return d && k < TALLY_COLUMNS__RECORDS_COUNT ? d->column_headers[k] : NULL;
}
