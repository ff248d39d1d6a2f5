/*
 * A small strict JSON reader, enough for vectors/frames.json: objects, arrays, strings (with
 * \u escapes, NUL included, so strings carry a length), numbers, true, false, null. Test-only
 * code: it allocates freely, unlike the firmware sources.
 */
#ifndef KM_TEST_JSON_H
#define KM_TEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json {
    json_type type;
    bool boolean;
    double number;
    char *string; /* UTF-8, NUL-terminated, but may hold NULs: use length */
    size_t length;
    struct json *items; /* array elements or object values */
    char **keys;        /* object keys, parallel to items */
    size_t count;
} json;

/* NULL on a syntax error, with a message in err. */
json *json_parse(const char *text, size_t len, char *err, size_t err_size);
void json_free(json *value);
/* The member named key of an object, or NULL. */
const json *json_get(const json *object, const char *key);

#endif
