/* curator.core._fastcard: a card's plain values straight from libyaml's parser events.
 *
 * The import reads every card with cards.parse_card, which composes PyYAML's node graph (a Python
 * object and two marks per node, the resolver called back per scalar) only to turn it into plain
 * values at once. This module builds the same values from libyaml's events in one C pass, for the
 * common card: one document whose root is a mapping, with no anchor, alias, tag or directive, no
 * merge key, no complex or duplicate key, nested at most max_depth levels, that libyaml parses
 * without an error. For anything else it returns None and the reader composes as before, so every
 * error is still worded (and positioned) by the one path that knows how.
 *
 * It decides nothing about YAML's types by itself: configure() hands it cardnodes' tables (taken
 * from PyYAML's own resolver), so a plain scalar resolves exactly as the composer's would:
 *   - after a first character of `word_firsts` (or when empty) only literal words resolve: `words`
 *     maps each to its value (`merge` stands for '<<', which as a key ends the fast path; `str_tag`
 *     for a word whose tag a card may not hold, which ends it anywhere);
 *   - after a first character of `pattern_firsts` (digits, signs, the dot) resolve(text) gives the
 *     value, or `str_tag` when the text stays a string; what it gave is looked up first in the dict
 *     `resolved`, which resolve fills (and bounds);
 *   - anything else, and every quoted or block scalar, is the text itself.
 * `number_text` says whether some text built may be a number kept as text: unfit(text) is asked for
 * each string value starting with a character of `number_start` (and for strings a resolver made,
 * keys included), as cardnodes.TreeBuilder asks.
 *
 * build(region) -> (values, number_text) or None. Only cardnodes calls it (see cardnodes.fast_values).
 * It links the system's libyaml, which may be an older or newer 0.2 than the one inside PyYAML's wheel:
 * cardnodes.FAST_LIBYAML lists the pairs known to give the same events for what this module builds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

/* The deepest a container may sit (the root is at 0); cardnodes.MAX_DEPTH is passed in configure(). */
#define STACK_LIMIT 256

static PyObject *words = NULL;    /* dict: word -> value */
static PyObject *resolve = NULL;  /* callable(text) -> value, or str_tag */
static PyObject *resolved = NULL; /* dict: text -> what resolve gave (resolve keeps it, bounded) */
static PyObject *str_tag = NULL;  /* what resolve gives for a text that stays a string */
static PyObject *unfit = NULL;    /* callable(text) -> truth */
static PyObject *merge = NULL;    /* the value `words` gives for '<<' */
static int max_depth = -1;        /* -1: not configured */
static unsigned char word_first[256], pattern_first[256], number_first[256];

static int
fill_table(unsigned char *table, PyObject *chars, const char *name)
{
    Py_ssize_t n, i;
    memset(table, 0, 256);
    if (!PyUnicode_Check(chars)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str", name);
        return -1;
    }
    n = PyUnicode_GET_LENGTH(chars);
    for (i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, i);
        if (c >= 128) {
            PyErr_Format(PyExc_ValueError, "%s holds a non-ASCII character", name);
            return -1;
        }
        table[c] = 1;
    }
    return 0;
}

static PyObject *
configure(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"word_firsts", "words", "pattern_firsts", "resolve", "resolved", "str_tag",
                            "number_start", "unfit", "merge", "max_depth", NULL};
    PyObject *wf, *w, *pf, *r, *rd, *st, *ns, *u, *m;
    int depth;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UO!UOO!OUOOi:configure", names, &wf, &PyDict_Type, &w,
                                     &pf, &r, &PyDict_Type, &rd, &st, &ns, &u, &m, &depth))
        return NULL;
    if (!PyCallable_Check(r) || !PyCallable_Check(u)) {
        PyErr_SetString(PyExc_TypeError, "resolve and unfit must be callable");
        return NULL;
    }
    if (depth < 0 || depth >= STACK_LIMIT - 1) {
        PyErr_Format(PyExc_ValueError, "max_depth must be in 0..%d", STACK_LIMIT - 2);
        return NULL;
    }
    if (fill_table(word_first, wf, "word_firsts") < 0 || fill_table(pattern_first, pf, "pattern_firsts") < 0 ||
        fill_table(number_first, ns, "number_start") < 0)
        return NULL;
    Py_INCREF(w); Py_XSETREF(words, w);
    Py_INCREF(r); Py_XSETREF(resolve, r);
    Py_INCREF(rd); Py_XSETREF(resolved, rd);
    Py_INCREF(st); Py_XSETREF(str_tag, st);
    Py_INCREF(u); Py_XSETREF(unfit, u);
    Py_INCREF(m); Py_XSETREF(merge, m);
    max_depth = depth;
    Py_RETURN_NONE;
}

/* One container being built: a list, or a dict with the key waiting for its value (NULL: none). */
typedef struct {
    PyObject *container;
    PyObject *key;
} level;

typedef struct {
    level stack[STACK_LIMIT];
    char flow[STACK_LIMIT];  /* whether each open container is a flow sequence ([...]) */
    int top;              /* index of the innermost open container; -1 before the root */
    PyObject *root;
    int number_text;
    int question;         /* the text holds a '?' (so maybe an explicit key) */
} builder;

enum { OK = 0, BAIL = 1, FAIL = -1 };  /* FAIL: a Python error is set (memory) */

/* Whether unfit(text) says text may be a number kept as text; sets number_text. */
static int
ask_unfit(builder *b, PyObject *text)
{
    PyObject *answer;
    int truth;
    if (b->number_text || PyUnicode_GET_LENGTH(text) == 0)
        return OK;
    {
        Py_UCS4 c = PyUnicode_READ_CHAR(text, 0);
        if (c >= 128 || !number_first[c])
            return OK;
    }
    answer = PyObject_CallOneArg(unfit, text);
    if (answer == NULL)
        return BAIL;  /* the reader's own path meets (and words) whatever raised */
    truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    if (truth < 0)
        return BAIL;
    if (truth)
        b->number_text = 1;
    return OK;
}

/* Put a finished value (a new reference, always consumed) where it belongs. */
static int
place(builder *b, PyObject *value, int is_key_allowed)
{
    level *at;
    int found;
    if (b->top < 0) {  /* the root: only a mapping takes the fast path */
        if (!PyDict_CheckExact(value)) {
            Py_DECREF(value);
            return BAIL;
        }
        b->root = value;
        return OK;
    }
    at = &b->stack[b->top];
    if (PyList_CheckExact(at->container)) {
        int rc = PyList_Append(at->container, value);
        Py_DECREF(value);
        return rc < 0 ? FAIL : OK;
    }
    if (at->key == NULL) {
        if (!is_key_allowed) {  /* a list or a mapping as a key */
            Py_DECREF(value);
            return BAIL;
        }
        at->key = value;
        return OK;
    }
    found = PyDict_Contains(at->container, at->key);
    if (found != 0) {  /* a duplicate (the reader words it), or an unhashable key */
        Py_DECREF(value);
        if (found < 0)
            PyErr_Clear();
        return BAIL;
    }
    found = PyDict_SetItem(at->container, at->key, value);
    Py_DECREF(value);
    Py_CLEAR(at->key);
    return found < 0 ? FAIL : OK;
}

static int
in_key_position(builder *b)
{
    return b->top >= 0 && PyDict_CheckExact(b->stack[b->top].container) && b->stack[b->top].key == NULL;
}

static int
scalar(builder *b, yaml_event_t *event)
{
    const unsigned char *raw = event->data.scalar.value;
    size_t length = event->data.scalar.length;
    int key = in_key_position(b);
    int text_value;       /* the value is the text itself, as a str-tagged scalar's */
    int resolved_str = 0; /* a resolver made a str (a timestamp, a number kept as text) */
    PyObject *text, *value;
    if (event->data.scalar.anchor != NULL || event->data.scalar.tag != NULL)
        return BAIL;
    if (b->top + 1 > max_depth)
        return BAIL;
    text = PyUnicode_DecodeUTF8((const char *)raw, (Py_ssize_t)length, "strict");
    if (text == NULL) {
        PyErr_Clear();
        return BAIL;
    }
    value = text;
    text_value = 1;
    if (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && event->data.scalar.plain_implicit) {
        unsigned char first = length ? raw[0] : 0;
        if (length == 0 || (first < 128 && word_first[first])) {
            PyObject *word = PyDict_GetItemWithError(words, text);
            if (word == NULL && PyErr_Occurred()) {
                Py_DECREF(text);
                return FAIL;
            }
            if (word == str_tag) {  /* a word whose tag cards do not allow: the reader words it */
                Py_DECREF(text);
                return BAIL;
            }
            if (word == merge) {
                if (key) {  /* a merge key: the reader's full path merges */
                    Py_DECREF(text);
                    return BAIL;
                }
                /* '<<' as a value is its text */
            } else if (word != NULL) {
                Py_INCREF(word);
                value = word;
                text_value = 0;
                resolved_str = PyUnicode_Check(word);
            }
        } else if (first < 128 && pattern_first[first]) {
            PyObject *got = PyDict_GetItemWithError(resolved, text);  /* cards repeat numbers */
            if (got != NULL)
                Py_INCREF(got);
            else if (!PyErr_Occurred())
                got = PyObject_CallOneArg(resolve, text);
            if (got == NULL) {
                PyErr_Clear();
                Py_DECREF(text);
                return BAIL;
            }
            if (got == str_tag) {
                Py_DECREF(got);
            } else {
                value = got;
                text_value = 0;
                resolved_str = PyUnicode_Check(got);
            }
        }
    }
    if (value != text)
        Py_DECREF(text);
    /* TreeBuilder asks about a str-tagged value (not a key) and about any str a resolver made. */
    if ((text_value && !key) || resolved_str) {
        int rc = ask_unfit(b, value);
        if (rc != OK) {
            PyErr_Clear();
            Py_DECREF(value);
            return rc;
        }
    }
    return place(b, value, 1);
}

static int
open_container(builder *b, int mapping, int flow, yaml_char_t *anchor, yaml_char_t *tag)
{
    PyObject *container;
    if (anchor != NULL || tag != NULL)
        return BAIL;
    /* A mapping inside a flow sequence ([a: b], [? a]) where an explicit key '?' may stand: libyaml
     * 0.2.6 changed how such a key followed by ']' parses (see cardnodes.FAST_LIBYAML), so the events
     * of this libyaml may not be those of PyYAML's. */
    if (mapping && b->question && b->top >= 0 && b->flow[b->top])
        return BAIL;
    if (b->top + 1 > max_depth || b->top + 1 >= STACK_LIMIT)
        return BAIL;
    if (b->top < 0 && !mapping)
        return BAIL;  /* the root must be a mapping */
    if (in_key_position(b))
        return BAIL;  /* a complex key (the reader words it) */
    container = mapping ? PyDict_New() : PyList_New(0);
    if (container == NULL)
        return FAIL;
    b->top++;
    b->stack[b->top].container = container;
    b->stack[b->top].key = NULL;
    b->flow[b->top] = (char)(!mapping && flow);
    return OK;
}

static int
close_container(builder *b)
{
    PyObject *done;
    if (b->top < 0)
        return BAIL;
    done = b->stack[b->top].container;
    Py_CLEAR(b->stack[b->top].key);  /* a key with no value cannot come from the parser */
    b->top--;
    return place(b, done, 0);
}

static void
clear(builder *b)
{
    for (; b->top >= 0; b->top--) {
        Py_CLEAR(b->stack[b->top].container);
        Py_CLEAR(b->stack[b->top].key);
    }
    Py_CLEAR(b->root);
}

static PyObject *
build(PyObject *self, PyObject *region)
{
    Py_ssize_t size;
    const char *bytes;
    yaml_parser_t parser;
    yaml_event_t event;
    builder b;
    int rc = OK, documents = 0, ended = 0;
    if (max_depth < 0) {
        PyErr_SetString(PyExc_RuntimeError, "_fastcard.configure() was not called");
        return NULL;
    }
    if (!PyUnicode_Check(region)) {
        PyErr_SetString(PyExc_TypeError, "build() takes the YAML region as a str");
        return NULL;
    }
    bytes = PyUnicode_AsUTF8AndSize(region, &size);
    if (bytes == NULL) {  /* lone surrogates: not from a decoded file; the reader says what it is */
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (!yaml_parser_initialize(&parser))
        return PyErr_NoMemory();
    /* As PyYAML's CParser feeds libyaml a str: its UTF-8 bytes, the encoding left to libyaml. */
    yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, (size_t)size);
    b.top = -1;
    b.root = NULL;
    b.number_text = 0;
    b.question = memchr(bytes, '?', (size_t)size) != NULL;
    while (rc == OK && !ended) {
        if (!yaml_parser_parse(&parser, &event)) {
            rc = parser.error == YAML_MEMORY_ERROR ? FAIL : BAIL;
            if (rc == FAIL)
                PyErr_NoMemory();
            break;
        }
        switch (event.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            ended = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1 || event.data.document_start.version_directive != NULL ||
                event.data.document_start.tag_directives.start != event.data.document_start.tag_directives.end)
                rc = BAIL;
            break;
        case YAML_ALIAS_EVENT:
            rc = BAIL;
            break;
        case YAML_SCALAR_EVENT:
            rc = scalar(&b, &event);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = open_container(&b, 0, event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE,
                                event.data.sequence_start.anchor, event.data.sequence_start.tag);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = open_container(&b, 1, 0, event.data.mapping_start.anchor, event.data.mapping_start.tag);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = close_container(&b);
            break;
        default:
            rc = BAIL;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    if (rc == OK && (b.root == NULL || b.top >= 0))
        rc = BAIL;  /* no document, or an empty one: the reader knows what that means */
    if (rc != OK) {
        clear(&b);
        if (rc == FAIL)
            return NULL;
        Py_RETURN_NONE;
    }
    {
        PyObject *result = Py_BuildValue("(NO)", b.root, b.number_text ? Py_True : Py_False);
        return result;
    }
}

static PyObject *
libyaml_version(PyObject *self, PyObject *unused)
{
    int major, minor, patch;
    yaml_get_version(&major, &minor, &patch);
    return Py_BuildValue("(iii)", major, minor, patch);
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "configure(*, word_firsts, words, pattern_firsts, resolve, resolved, str_tag, number_start, unfit, merge, "
     "max_depth): the resolver's tables build() uses."},
    {"build", build, METH_O,
     "build(region) -> (values, number_text), or None when the reader's full path must read it."},
    {"libyaml_version", libyaml_version, METH_NOARGS, "The (major, minor, patch) of the libyaml linked in."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastcard",
    "A card's plain values from libyaml's events, for the common card (see cardnodes.fast_values).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__fastcard(void)
{
    return PyModule_Create(&module);
}
