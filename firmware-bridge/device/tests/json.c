/* Recursive-descent JSON reader for the tests; see json.h. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t err_size;
    bool failed;
} parser;

static void fail(parser *p, const char *what)
{
    if (!p->failed) snprintf(p->err, p->err_size, "json: %s at byte %zu", what, p->pos);
    p->failed = true;
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos] != '\0') p->pos++;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

static void *grow(void *ptr, size_t count, size_t size)
{
    void *next = realloc(ptr, count * size);
    if (!next) {
        fprintf(stderr, "json: out of memory\n");
        exit(2);
    }
    return next;
}

static void append_utf8(char **buf, size_t *len, size_t *cap, unsigned long cp)
{
    unsigned char tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (unsigned char)(0xC0 | (cp >> 6));
        tmp[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (unsigned char)(0xE0 | (cp >> 12));
        tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (unsigned char)(0xF0 | (cp >> 18));
        tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = grow(*buf, *cap, 1);
    }
    memcpy(*buf + *len, tmp, n);
    *len += n;
}

static unsigned long hex4(parser *p)
{
    unsigned long v = 0;
    int i;
    if (p->len - p->pos < 4) {
        fail(p, "short \\u escape");
        return 0;
    }
    for (i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned long)(c - 'A' + 10);
        else fail(p, "bad \\u escape");
    }
    return v;
}

static char *parse_string(parser *p, size_t *out_len)
{
    size_t cap = 16, len = 0;
    char *buf = grow(NULL, cap, 1);
    p->pos++; /* opening quote */
    while (!p->failed) {
        unsigned char c;
        if (p->pos >= p->len) {
            fail(p, "unterminated string");
            break;
        }
        c = (unsigned char)p->s[p->pos++];
        if (c == '"') break;
        if (c < 0x20) {
            fail(p, "control character in string");
            break;
        }
        if (c == '\\') {
            char e = p->pos < p->len ? p->s[p->pos++] : '\0';
            unsigned long cp;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                cp = hex4(p);
                if (cp >= 0xD800 && cp <= 0xDBFF && literal(p, "\\u")) {
                    unsigned long lo = hex4(p);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default:
                fail(p, "bad escape");
                cp = 0;
            }
            append_utf8(&buf, &len, &cap, cp);
            continue;
        }
        if (len + 2 > cap) {
            cap *= 2;
            buf = grow(buf, cap, 1);
        }
        buf[len++] = (char)c;
    }
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

static void parse_value(parser *p, json *out, int depth);

static void parse_container(parser *p, json *out, int depth, bool object)
{
    char close = object ? '}' : ']';
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return;
    }
    while (!p->failed) {
        out->items = grow(out->items, out->count + 1, sizeof *out->items);
        memset(&out->items[out->count], 0, sizeof out->items[0]);
        if (object) {
            size_t klen;
            out->keys = grow(out->keys, out->count + 1, sizeof *out->keys);
            out->keys[out->count] = NULL;
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail(p, "expected a key");
                return;
            }
            out->keys[out->count] = parse_string(p, &klen);
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                out->count++;
                fail(p, "expected ':'");
                return;
            }
            p->pos++;
        }
        parse_value(p, &out->items[out->count], depth + 1);
        out->count++;
        skip_space(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static void parse_value(parser *p, json *out, int depth)
{
    char c;
    skip_space(p);
    if (depth > 64) {
        fail(p, "nested too deep");
        return;
    }
    if (p->pos >= p->len) {
        fail(p, "unexpected end");
        return;
    }
    c = p->s[p->pos];
    if (c == '{') {
        out->type = JSON_OBJECT;
        parse_container(p, out, depth, true);
    } else if (c == '[') {
        out->type = JSON_ARRAY;
        parse_container(p, out, depth, false);
    } else if (c == '"') {
        out->type = JSON_STRING;
        out->string = parse_string(p, &out->length);
    } else if (literal(p, "true")) {
        out->type = JSON_BOOL;
        out->boolean = true;
    } else if (literal(p, "false")) {
        out->type = JSON_BOOL;
    } else if (literal(p, "null")) {
        out->type = JSON_NULL;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t n = 0;
        while (p->pos < p->len && n + 1 < sizeof tmp && strchr("+-.0123456789eE", p->s[p->pos]) && p->s[p->pos]) {
            tmp[n++] = p->s[p->pos++];
        }
        tmp[n] = '\0';
        out->type = JSON_NUMBER;
        out->number = strtod(tmp, NULL);
    } else {
        fail(p, "unexpected character");
    }
}

json *json_parse(const char *text, size_t len, char *err, size_t err_size)
{
    parser p;
    json *root = calloc(1, sizeof *root);
    if (!root) return NULL;
    p.s = text;
    p.len = len;
    p.pos = 0;
    p.err = err;
    p.err_size = err_size;
    p.failed = false;
    parse_value(&p, root, 0);
    skip_space(&p);
    if (!p.failed && p.pos != p.len) fail(&p, "trailing characters");
    if (p.failed) {
        json_free(root);
        return NULL;
    }
    return root;
}

static void free_inner(json *v)
{
    size_t i;
    for (i = 0; i < v->count; i++) {
        free_inner(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

void json_free(json *value)
{
    if (!value) return;
    free_inner(value);
    free(value);
}

const json *json_get(const json *object, const char *key)
{
    size_t i;
    if (!object || object->type != JSON_OBJECT) return NULL;
    for (i = 0; i < object->count; i++) {
        if (object->keys[i] && strcmp(object->keys[i], key) == 0) return &object->items[i];
    }
    return NULL;
}
