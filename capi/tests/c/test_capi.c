/*
 * Exercises every function libzkrs exports, against members started
 * in-process through the C API. Run by capi/tests/c/run.sh under valgrind
 * (zero errors, zero definite leaks). Prints "N passed, N failed".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zkrs.h"

static int passed, failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                    \
    } while (0)

#define CHECK_RC(expr, want)                                                 \
    do {                                                                     \
        int rc_ = (expr);                                                    \
        if (rc_ == (want)) {                                                 \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s = %d (%s), want %d (%s)\n",      \
                    __FILE__, __LINE__, #expr, rc_, zkrs_error_message(rc_), \
                    (want), zkrs_error_message(want));                       \
        }                                                                    \
    } while (0)

/* ---- a thread-safe recorder of watch and state callbacks ---------------- */

#define MAX_EVENTS 64
struct event {
    int type;
    int state;
    char path[128];
};
struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct event events[MAX_EVENTS];
    int n;
    int states[MAX_EVENTS];
    int nstates;
    pthread_t caller; /* the thread that registered; callbacks must differ */
    int on_caller_thread;
};

static void rec_init(struct recorder *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->caller = pthread_self();
}

static void rec_destroy(struct recorder *r) {
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void on_watch(void *userdata, int type, int state, const char *path) {
    struct recorder *r = userdata;
    pthread_mutex_lock(&r->mu);
    if (pthread_equal(pthread_self(), r->caller)) r->on_caller_thread = 1;
    if (r->n < MAX_EVENTS) {
        r->events[r->n].type = type;
        r->events[r->n].state = state;
        snprintf(r->events[r->n].path, sizeof r->events[r->n].path, "%s", path);
        r->n++;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void on_state(void *userdata, int state) {
    struct recorder *r = userdata;
    pthread_mutex_lock(&r->mu);
    if (r->nstates < MAX_EVENTS) r->states[r->nstates++] = state;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Waits (up to 20 s) until at least `n` events were recorded. */
static int rec_wait(struct recorder *r, int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&r->mu);
    while (r->n < n) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0) break;
    }
    int got = r->n;
    pthread_mutex_unlock(&r->mu);
    return got >= n;
}

static int rec_wait_state(struct recorder *r, int state) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        for (int i = 0; i < r->nstates; i++) {
            if (r->states[i] == state) {
                pthread_mutex_unlock(&r->mu);
                return 1;
            }
        }
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0) break;
    }
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static int rec_count(struct recorder *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- tests --------------------------------------------------------------- */

static void test_static_functions(void) {
    const char *v = zkrs_version();
    CHECK(v != NULL && strlen(v) > 0);
    CHECK(strcmp(zkrs_error_message(ZKRS_OK), "ok") == 0);
    CHECK(strcmp(zkrs_error_message(ZKRS_NONODE), "node does not exist") == 0);
    CHECK(strcmp(zkrs_error_message(ZKRS_NODEEXISTS), "node already exists") == 0);
    CHECK(strcmp(zkrs_error_message(12345), "unknown error") == 0);
    /* The numbers are the official C client's. */
    CHECK(ZKRS_SYSTEMERROR == -1 && ZKRS_CONNECTIONLOSS == -4 &&
          ZKRS_MARSHALLINGERROR == -5 && ZKRS_UNIMPLEMENTED == -6 &&
          ZKRS_OPERATIONTIMEOUT == -7 && ZKRS_BADARGUMENTS == -8 &&
          ZKRS_NONODE == -101 && ZKRS_NOAUTH == -102 && ZKRS_BADVERSION == -103 &&
          ZKRS_NOCHILDRENFOREPHEMERALS == -108 && ZKRS_NODEEXISTS == -110 &&
          ZKRS_NOTEMPTY == -111 && ZKRS_SESSIONEXPIRED == -112 &&
          ZKRS_INVALIDACL == -114 && ZKRS_AUTHFAILED == -115);

    /* Every free accepts NULL. */
    zkrs_member_free(NULL);
    zkrs_ensemble_free(NULL);
    zkrs_client_free(NULL);
    zkrs_string_free(NULL);
    zkrs_buffer_free(NULL);
    zkrs_string_array_free(NULL);
    zkrs_acl_list_free(NULL);
    zkrs_op_results_free(NULL);
    passed++;

    /* NULL handles and arguments are ZKRS_BADARGUMENTS, never a crash. */
    zkrs_client *c = (zkrs_client *)0x1;
    CHECK_RC(zkrs_client_connect(NULL, 10000, &c), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_connect("127.0.0.1:1", 10000, NULL), ZKRS_BADARGUMENTS);
    CHECK(c == (zkrs_client *)0x1); /* out-param untouched on failure */
    CHECK_RC(zkrs_member_start(NULL, NULL), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_member_stop(NULL), ZKRS_BADARGUMENTS);
    CHECK(zkrs_member_connect_string(NULL) == NULL);
    CHECK_RC(zkrs_ensemble_start(3, 0, NULL), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_ensemble_stop_member(NULL, 0), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_ensemble_start_member(NULL, 0), ZKRS_BADARGUMENTS);
    CHECK(zkrs_ensemble_connect_string(NULL) == NULL);
    CHECK(zkrs_ensemble_leader(NULL) == -1);
    CHECK_RC(zkrs_client_get(NULL, "/", NULL, NULL, NULL, NULL), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_close(NULL), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_state(NULL), ZKRS_BADARGUMENTS);
    CHECK(zkrs_client_session_id(NULL) == 0);
    CHECK_RC(zkrs_client_set_state_callback(NULL, on_state, NULL), ZKRS_BADARGUMENTS);

    /* A bad zoo.cfg is an error, not a member. */
    zkrs_member *m = (zkrs_member *)0x1;
    CHECK(zkrs_member_start("tickTime=notanumber\n", &m) != ZKRS_OK);
    CHECK(m == (zkrs_member *)0x1);
}

static void test_crud(zkrs_client *c) {
    const char *data = "hello";
    char *path = NULL;
    zkrs_stat st;
    memset(&st, 0, sizeof st);

    CHECK_RC(zkrs_client_create(c, "/crud", (const uint8_t *)data, 5, NULL, 0,
                                ZKRS_PERSISTENT, 0, &path, &st),
             ZKRS_OK);
    CHECK(path && strcmp(path, "/crud") == 0);
    CHECK(st.data_length == 5 && st.version == 0 && st.czxid > 0);
    zkrs_string_free(path);

    path = (char *)0x1;
    CHECK_RC(zkrs_client_create(c, "/crud", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                &path, NULL),
             ZKRS_NODEEXISTS);
    CHECK(path == (char *)0x1);
    CHECK_RC(zkrs_client_create(c, "/missing/child", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_NONODE);
    CHECK_RC(zkrs_client_create(c, "no-slash", NULL, 0, NULL, 0, ZKRS_PERSISTENT,
                                0, NULL, NULL),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_create(c, "/badmode", NULL, 0, NULL, 0, 42, 0, NULL, NULL),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_create(c, "/ttl-without-ttl", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT_WITH_TTL, 0, NULL, NULL),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_create(c, "/x", NULL, 1, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_BADARGUMENTS); /* NULL data with a length */

    /* exists */
    memset(&st, 0, sizeof st);
    CHECK_RC(zkrs_client_exists(c, "/crud", NULL, NULL, &st), ZKRS_OK);
    CHECK(st.data_length == 5);
    CHECK_RC(zkrs_client_exists(c, "/nope", NULL, NULL, &st), ZKRS_NONODE);
    CHECK_RC(zkrs_client_exists(c, "/crud", NULL, NULL, NULL), ZKRS_OK);

    /* get */
    zkrs_buffer *buf = NULL;
    CHECK_RC(zkrs_client_get(c, "/crud", NULL, NULL, &buf, &st), ZKRS_OK);
    CHECK(buf && buf->len == 5 && memcmp(buf->data, "hello", 5) == 0);
    zkrs_buffer_free(buf);
    buf = (zkrs_buffer *)0x1;
    CHECK_RC(zkrs_client_get(c, "/nope", NULL, NULL, &buf, NULL), ZKRS_NONODE);
    CHECK(buf == (zkrs_buffer *)0x1);
    CHECK_RC(zkrs_client_get(c, "/crud", NULL, NULL, NULL, NULL), ZKRS_OK);

    /* set with versions */
    CHECK_RC(zkrs_client_set(c, "/crud", (const uint8_t *)"v1", 2, 0, &st), ZKRS_OK);
    CHECK(st.version == 1 && st.data_length == 2);
    CHECK_RC(zkrs_client_set(c, "/crud", (const uint8_t *)"v2", 2, 0, NULL),
             ZKRS_BADVERSION);
    CHECK_RC(zkrs_client_set(c, "/crud", (const uint8_t *)"v2", 2, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set(c, "/nope", NULL, 0, -1, NULL), ZKRS_NONODE);
    CHECK_RC(zkrs_client_get(c, "/crud", NULL, NULL, &buf, &st), ZKRS_OK);
    CHECK(buf->len == 2 && memcmp(buf->data, "v2", 2) == 0 && st.version == 2);
    zkrs_buffer_free(buf);

    /* empty data */
    CHECK_RC(zkrs_client_set(c, "/crud", NULL, 0, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_get(c, "/crud", NULL, NULL, &buf, NULL), ZKRS_OK);
    CHECK(buf->len == 0);
    zkrs_buffer_free(buf);

    /* null data (NULL with ZKRS_NULL_LEN) is kept apart from empty */
    CHECK_RC(zkrs_client_set(c, "/crud", NULL, ZKRS_NULL_LEN, -1, &st), ZKRS_OK);
    CHECK(st.data_length == 0);
    buf = (zkrs_buffer *)0x1;
    CHECK_RC(zkrs_client_get(c, "/crud", NULL, NULL, &buf, NULL), ZKRS_OK);
    CHECK(buf == NULL);
    zkrs_buffer_free(buf);
    CHECK_RC(zkrs_client_create(c, "/crud-null", NULL, ZKRS_NULL_LEN, NULL, 0, ZKRS_PERSISTENT,
                                0, NULL, NULL),
             ZKRS_OK);
    buf = (zkrs_buffer *)0x1;
    CHECK_RC(zkrs_client_get(c, "/crud-null", NULL, NULL, &buf, NULL), ZKRS_OK);
    CHECK(buf == NULL);
    CHECK_RC(zkrs_client_set(c, "/crud-null", (const uint8_t *)"x", ZKRS_NULL_LEN, -1, NULL),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_delete(c, "/crud-null", -1), ZKRS_OK);
    CHECK_RC(zkrs_client_set(c, "/crud", NULL, 0, -1, NULL), ZKRS_OK);

    /* children */
    CHECK_RC(zkrs_client_create(c, "/crud/a", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_create(c, "/crud/b", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    zkrs_string_array *kids = NULL;
    CHECK_RC(zkrs_client_get_children(c, "/crud", NULL, NULL, &kids, &st), ZKRS_OK);
    CHECK(kids && kids->len == 2 && st.num_children == 2);
    if (kids && kids->len == 2) {
        int a = strcmp(kids->strings[0], "a") == 0 || strcmp(kids->strings[1], "a") == 0;
        int b = strcmp(kids->strings[0], "b") == 0 || strcmp(kids->strings[1], "b") == 0;
        CHECK(a && b);
    }
    zkrs_string_array_free(kids);
    kids = (zkrs_string_array *)0x1;
    CHECK_RC(zkrs_client_get_children(c, "/nope", NULL, NULL, &kids, NULL), ZKRS_NONODE);
    CHECK(kids == (zkrs_string_array *)0x1);

    /* delete */
    CHECK_RC(zkrs_client_delete(c, "/crud", -1), ZKRS_NOTEMPTY);
    CHECK_RC(zkrs_client_delete(c, "/crud/a", 5), ZKRS_BADVERSION);
    CHECK_RC(zkrs_client_delete(c, "/crud/a", 0), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(c, "/crud/a", -1), ZKRS_NONODE);
    CHECK_RC(zkrs_client_delete(c, "/crud/b", -1), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(c, "/crud", -1), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(c, NULL, -1), ZKRS_BADARGUMENTS);
}

static void test_modes(zkrs_client *c) {
    char *path = NULL;
    zkrs_stat st;

    CHECK_RC(zkrs_client_create(c, "/modes", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    /* ephemeral: owned by this session, no children allowed */
    CHECK_RC(zkrs_client_create(c, "/modes/eph", NULL, 0, NULL, 0, ZKRS_EPHEMERAL,
                                0, NULL, &st),
             ZKRS_OK);
    CHECK(st.ephemeral_owner == zkrs_client_session_id(c));
    CHECK_RC(zkrs_client_create(c, "/modes/eph/kid", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_NOCHILDRENFOREPHEMERALS);
    /* sequential: a 10-digit suffix */
    CHECK_RC(zkrs_client_create(c, "/modes/seq-", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT_SEQUENTIAL, 0, &path, NULL),
             ZKRS_OK);
    CHECK(path && strlen(path) == strlen("/modes/seq-") + 10 &&
          strncmp(path, "/modes/seq-", 11) == 0);
    zkrs_string_free(path);
    CHECK_RC(zkrs_client_create(c, "/modes/eseq-", NULL, 0, NULL, 0,
                                ZKRS_EPHEMERAL_SEQUENTIAL, 0, &path, &st),
             ZKRS_OK);
    CHECK(path && strlen(path) == strlen("/modes/eseq-") + 10);
    CHECK(st.ephemeral_owner == zkrs_client_session_id(c));
    zkrs_string_free(path);
    /* container */
    CHECK_RC(zkrs_client_create(c, "/modes/box", NULL, 0, NULL, 0, ZKRS_CONTAINER, 0,
                                NULL, &st),
             ZKRS_OK);
    CHECK(st.czxid > 0);
    CHECK_RC(zkrs_client_exists(c, "/modes/box", NULL, NULL, NULL), ZKRS_OK);
    /* TTL (the member's zoo.cfg enables extended types) */
    CHECK_RC(zkrs_client_create(c, "/modes/ttl", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT_WITH_TTL, 60000, NULL, &st),
             ZKRS_OK);
    CHECK(st.czxid > 0);
    CHECK_RC(zkrs_client_create(c, "/modes/ttlseq-", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT_SEQUENTIAL_WITH_TTL, 60000, &path, NULL),
             ZKRS_OK);
    CHECK(path && strlen(path) == strlen("/modes/ttlseq-") + 10);
    zkrs_string_free(path);
    CHECK_RC(zkrs_client_create(c, "/modes/ttl-on-persistent", NULL, 0, NULL, 0,
                                ZKRS_PERSISTENT, 1000, NULL, NULL),
             ZKRS_BADARGUMENTS);
}

static void test_acl(zkrs_client *c) {
    zkrs_acl_list *acl = NULL;
    zkrs_stat st;

    CHECK_RC(zkrs_client_create(c, "/acl", (const uint8_t *)"x", 1, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_get_acl(c, "/acl", &acl, &st), ZKRS_OK);
    CHECK(acl && acl->len == 1 && acl->acls[0].perms == ZKRS_PERM_ALL &&
          strcmp(acl->acls[0].scheme, "world") == 0 &&
          strcmp(acl->acls[0].id, "anyone") == 0);
    CHECK(st.aversion == 0);
    zkrs_acl_list_free(acl);
    acl = (zkrs_acl_list *)0x1;
    CHECK_RC(zkrs_client_get_acl(c, "/nope", &acl, NULL), ZKRS_NONODE);
    CHECK(acl == (zkrs_acl_list *)0x1);

    zkrs_acl read_only = {ZKRS_PERM_READ, "world", "anyone"};
    CHECK_RC(zkrs_client_set_acl(c, "/acl", &read_only, 1, 5, NULL), ZKRS_BADVERSION);
    CHECK_RC(zkrs_client_set_acl(c, "/acl", &read_only, 1, 0, &st), ZKRS_OK);
    CHECK(st.aversion == 1);
    CHECK_RC(zkrs_client_set(c, "/acl", (const uint8_t *)"y", 1, -1, NULL), ZKRS_NOAUTH);
    CHECK_RC(zkrs_client_get(c, "/acl", NULL, NULL, NULL, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set_acl(c, "/acl", NULL, 0, -1, NULL), ZKRS_BADARGUMENTS);

    /* "auth" ids need credentials on the session */
    zkrs_acl creator = {ZKRS_PERM_ALL, "auth", ""};
    CHECK_RC(zkrs_client_create(c, "/acl-auth", NULL, 0, &creator, 1, ZKRS_PERSISTENT,
                                0, NULL, NULL),
             ZKRS_INVALIDACL);
    const char *cred = "alice:secret";
    CHECK_RC(zkrs_client_add_auth(c, "digest", (const uint8_t *)cred, strlen(cred)),
             ZKRS_OK);
    CHECK_RC(zkrs_client_create(c, "/acl-auth", NULL, 0, &creator, 1, ZKRS_PERSISTENT,
                                0, NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_get_acl(c, "/acl-auth", &acl, NULL), ZKRS_OK);
    CHECK(acl && acl->len == 1 && strcmp(acl->acls[0].scheme, "digest") == 0 &&
          strncmp(acl->acls[0].id, "alice:", 6) == 0);
    zkrs_acl_list_free(acl);
    CHECK_RC(zkrs_client_add_auth(c, NULL, NULL, 0), ZKRS_BADARGUMENTS);
}

static void test_multi(zkrs_client *c) {
    zkrs_op ops[4];
    zkrs_op_results *res = NULL;
    memset(ops, 0, sizeof ops);

    ops[0].op_type = ZKRS_OP_CREATE;
    ops[0].path = "/txn";
    ops[0].data = (const uint8_t *)"t";
    ops[0].data_len = 1;
    ops[0].mode = ZKRS_PERSISTENT;
    ops[1].op_type = ZKRS_OP_CREATE;
    ops[1].path = "/txn/seq-";
    ops[1].mode = ZKRS_PERSISTENT_SEQUENTIAL;
    ops[2].op_type = ZKRS_OP_SET;
    ops[2].path = "/txn";
    ops[2].data = (const uint8_t *)"u";
    ops[2].data_len = 1;
    ops[2].version = 0;
    ops[3].op_type = ZKRS_OP_CHECK;
    ops[3].path = "/txn";
    ops[3].version = 1;
    CHECK_RC(zkrs_client_multi(c, ops, 4, &res), ZKRS_OK);
    CHECK(res && res->len == 4);
    if (res && res->len == 4) {
        CHECK(res->results[0].op_type == ZKRS_OP_CREATE && res->results[0].err == ZKRS_OK &&
              strcmp(res->results[0].path, "/txn") == 0);
        CHECK(strncmp(res->results[1].path, "/txn/seq-", 9) == 0 &&
              strlen(res->results[1].path) == 19);
        CHECK(res->results[2].err == ZKRS_OK && res->results[2].stat.version == 1 &&
              res->results[2].path == NULL);
        CHECK(res->results[3].op_type == ZKRS_OP_CHECK && res->results[3].err == ZKRS_OK);
    }
    zkrs_op_results_free(res);

    /* A failing op aborts the whole transaction; results say which. */
    memset(ops, 0, sizeof ops);
    ops[0].op_type = ZKRS_OP_CREATE;
    ops[0].path = "/txn/new";
    ops[0].mode = ZKRS_PERSISTENT;
    ops[1].op_type = ZKRS_OP_CHECK;
    ops[1].path = "/txn";
    ops[1].version = 7;
    ops[2].op_type = ZKRS_OP_DELETE;
    ops[2].path = "/txn";
    ops[2].version = -1;
    res = NULL;
    CHECK_RC(zkrs_client_multi(c, ops, 3, &res), ZKRS_BADVERSION);
    CHECK(res && res->len == 3);
    if (res && res->len == 3) {
        CHECK(res->results[0].err == ZKRS_OK && res->results[0].path == NULL);
        CHECK(res->results[1].err == ZKRS_BADVERSION);
        CHECK(res->results[2].err == ZKRS_RUNTIMEINCONSISTENCY);
    }
    zkrs_op_results_free(res);
    CHECK_RC(zkrs_client_exists(c, "/txn/new", NULL, NULL, NULL), ZKRS_NONODE);

    /* Without a results pointer; and NODEEXISTS from a create op. */
    CHECK_RC(zkrs_client_multi(c, ops, 1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_multi(c, ops, 1, NULL), ZKRS_NODEEXISTS);

    /* Invalid ops never reach the server; results untouched. */
    ops[0].op_type = 99;
    res = (zkrs_op_results *)0x1;
    CHECK_RC(zkrs_client_multi(c, ops, 1, &res), ZKRS_BADARGUMENTS);
    CHECK(res == (zkrs_op_results *)0x1);
    CHECK_RC(zkrs_client_multi(c, NULL, 1, NULL), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_multi(c, NULL, 0, NULL), ZKRS_OK); /* empty txn */

    CHECK_RC(zkrs_client_sync(c, "/txn"), ZKRS_OK);
    CHECK_RC(zkrs_client_sync(c, NULL), ZKRS_BADARGUMENTS);
}

static void test_watches(zkrs_client *c, zkrs_client *other) {
    struct recorder r;
    rec_init(&r);

    /* exists watch on a missing node fires NodeCreated */
    CHECK_RC(zkrs_client_exists(c, "/w", on_watch, &r, NULL), ZKRS_NONODE);
    CHECK_RC(zkrs_client_create(other, "/w", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    CHECK(rec_wait(&r, 1));
    CHECK(r.events[0].type == ZKRS_EVENT_CREATED && strcmp(r.events[0].path, "/w") == 0 &&
          r.events[0].state == ZKRS_STATE_CONNECTED);

    /* get watch fires NodeDataChanged, once */
    CHECK_RC(zkrs_client_get(c, "/w", on_watch, &r, NULL, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/w", (const uint8_t *)"1", 1, -1, NULL), ZKRS_OK);
    CHECK(rec_wait(&r, 2));
    CHECK(r.events[1].type == ZKRS_EVENT_CHANGED);
    CHECK_RC(zkrs_client_set(other, "/w", (const uint8_t *)"2", 1, -1, NULL), ZKRS_OK);

    /* child watch fires NodeChildrenChanged */
    CHECK_RC(zkrs_client_get_children(c, "/w", on_watch, &r, NULL, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_create(other, "/w/kid", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    CHECK(rec_wait(&r, 3));
    CHECK(r.events[2].type == ZKRS_EVENT_CHILD && strcmp(r.events[2].path, "/w") == 0);
    /* the one-shot data watch did not fire for the second set */
    CHECK_RC(zkrs_client_sync(c, "/w"), ZKRS_OK);
    CHECK(rec_count(&r) == 3);

    /* persistent recursive watch: stays, sees descendants */
    struct recorder p;
    rec_init(&p);
    CHECK_RC(zkrs_client_add_watch(c, "/w", ZKRS_ADD_WATCH_PERSISTENT_RECURSIVE, on_watch, &p),
             ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/w/kid", (const uint8_t *)"a", 1, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/w/kid", (const uint8_t *)"b", 1, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(other, "/w/kid", -1), ZKRS_OK);
    CHECK(rec_wait(&p, 3));
    CHECK(p.events[0].type == ZKRS_EVENT_CHANGED && strcmp(p.events[0].path, "/w/kid") == 0);
    CHECK(p.events[1].type == ZKRS_EVENT_CHANGED);
    CHECK(p.events[2].type == ZKRS_EVENT_DELETED);
    CHECK_RC(zkrs_client_remove_watches(c, "/w", ZKRS_WATCHER_PERSISTENT_RECURSIVE), ZKRS_OK);
    CHECK(rec_wait(&p, 4));
    CHECK(p.events[3].type == ZKRS_EVENT_PERSISTENT_WATCH_REMOVED);
    CHECK_RC(zkrs_client_remove_watches(c, "/w", ZKRS_WATCHER_PERSISTENT_RECURSIVE),
             ZKRS_NOWATCHER);
    CHECK_RC(zkrs_client_remove_watches(c, "/w", 77), ZKRS_BADARGUMENTS);

    /* plain persistent watch on the node itself */
    struct recorder q;
    rec_init(&q);
    CHECK_RC(zkrs_client_add_watch(c, "/w", ZKRS_ADD_WATCH_PERSISTENT, on_watch, &q), ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/w", (const uint8_t *)"3", 1, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/w", (const uint8_t *)"4", 1, -1, NULL), ZKRS_OK);
    CHECK(rec_wait(&q, 2));
    CHECK(q.events[0].type == ZKRS_EVENT_CHANGED && q.events[1].type == ZKRS_EVENT_CHANGED);
    CHECK_RC(zkrs_client_add_watch(c, "/w", 9, on_watch, &q), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_add_watch(c, "/w", ZKRS_ADD_WATCH_PERSISTENT, NULL, &q),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_remove_watches(c, "/w", ZKRS_WATCHER_ANY), ZKRS_OK);
    CHECK(rec_wait(&q, 3));

    /* callbacks ran on a zkrs thread, never the registering one */
    CHECK(!r.on_caller_thread && !p.on_caller_thread && !q.on_caller_thread);

    CHECK_RC(zkrs_client_delete(other, "/w", -1), ZKRS_OK);
    CHECK_RC(zkrs_client_sync(c, "/"), ZKRS_OK);
    rec_destroy(&r);
    rec_destroy(&p);
    rec_destroy(&q);
}

/* A client freeing itself from inside its own watch callback. */
struct self_free {
    zkrs_client *c;
    struct recorder *r;
};
static void free_self(void *userdata, int type, int state, const char *path) {
    struct self_free *s = userdata;
    zkrs_client_free(s->c);
    on_watch(s->r, type, state, path);
}

static void test_free_from_callback(const char *hosts, zkrs_client *other) {
    struct recorder r;
    rec_init(&r);
    struct self_free s = {NULL, &r};
    CHECK_RC(zkrs_client_connect(hosts, 10000, &s.c), ZKRS_OK);
    CHECK_RC(zkrs_client_exists(s.c, "/selffree", free_self, &s, NULL), ZKRS_NONODE);
    CHECK_RC(zkrs_client_create(other, "/selffree", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL),
             ZKRS_OK);
    CHECK(rec_wait(&r, 1));
    CHECK(r.events[0].type == ZKRS_EVENT_CREATED);
    CHECK_RC(zkrs_client_delete(other, "/selffree", -1), ZKRS_OK);
    rec_destroy(&r);
}

/* A member with JAAS users: zkrs_client_connect_sasl logs in, a wrong
 * password is ZKRS_AUTHFAILED; a TLS file that does not load is
 * ZKRS_BADARGUMENTS. */
static void test_sasl_and_tls_arguments(void) {
    char dir[] = "/tmp/zkrs-capi-sasl-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char jaas[256], cfg[1024];
    snprintf(jaas, sizeof jaas, "%s/jaas.conf", dir);
    FILE *f = fopen(jaas, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
          "  user_jaasuser=\"jaas_password\";\n};\n", f);
    fclose(f);
    /* tickTime 2000: under valgrind a 4 s session (tickTime 200) can time out. */
    snprintf(cfg, sizeof cfg,
             "tickTime=2000\nclientPort=0\ndataDir=%s/data\njava.security.auth.login.config=%s\n",
             dir, jaas);
    zkrs_member *m = NULL;
    CHECK_RC(zkrs_member_start(cfg, &m), ZKRS_OK);
    if (!m) return;
    const char *hosts = zkrs_member_connect_string(m);
    zkrs_client *c = NULL;
    CHECK_RC(zkrs_client_connect_sasl(hosts, 6000, "jaasuser", "jaas_password", &c), ZKRS_OK);
    struct zkrs_acl mine = {ZKRS_PERM_ALL, "sasl", "jaasuser"};
    CHECK_RC(zkrs_client_create(c, "/c-sasl", NULL, 0, &mine, 1, ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    zkrs_client_free(c);
    c = NULL;
    CHECK_RC(zkrs_client_connect_sasl(hosts, 6000, "jaasuser", "wrong", &c), ZKRS_AUTHFAILED);
    CHECK(c == NULL);
    CHECK_RC(zkrs_client_connect(hosts, 6000, &c), ZKRS_OK);
    CHECK_RC(zkrs_client_get(c, "/c-sasl", NULL, NULL, NULL, NULL), ZKRS_NOAUTH);
    zkrs_client_free(c);
    c = NULL;
    CHECK_RC(zkrs_client_connect_tls(hosts, 6000, "/nonexistent/ca.pem", NULL, NULL, NULL, &c),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_connect_sasl(hosts, 6000, NULL, "x", &c), ZKRS_BADARGUMENTS);
    zkrs_member_free(m);
}

static void test_session(const char *hosts) {
    zkrs_client *c = NULL;
    struct recorder r;
    rec_init(&r);
    CHECK_RC(zkrs_client_connect(hosts, 6000, &c), ZKRS_OK);
    CHECK(zkrs_client_state(c) == ZKRS_STATE_CONNECTED);
    CHECK(zkrs_client_session_id(c) != 0);
    CHECK_RC(zkrs_client_set_state_callback(c, on_state, &r), ZKRS_OK);
    CHECK_RC(zkrs_client_create(c, "/session-eph", NULL, 0, NULL, 0, ZKRS_EPHEMERAL, 0,
                                NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_close(c), ZKRS_OK);
    CHECK(rec_wait_state(&r, ZKRS_STATE_CLOSED));
    CHECK(zkrs_client_state(c) == ZKRS_STATE_CLOSED);
    CHECK_RC(zkrs_client_get(c, "/", NULL, NULL, NULL, NULL), ZKRS_SESSIONEXPIRED);
    CHECK_RC(zkrs_client_close(c), ZKRS_OK); /* twice is fine */
    CHECK_RC(zkrs_client_set_state_callback(c, NULL, NULL), ZKRS_OK);
    zkrs_client_free(c);

    /* the ephemeral went with the session */
    CHECK_RC(zkrs_client_connect(hosts, 6000, &c), ZKRS_OK);
    CHECK_RC(zkrs_client_exists(c, "/session-eph", NULL, NULL, NULL), ZKRS_NONODE);
    zkrs_client_free(c); /* free without close closes */
    rec_destroy(&r);
}

/* ---- an in-process ensemble ---------------------------------------------- */

static void test_ensemble(void) {
    zkrs_ensemble *e = (zkrs_ensemble *)0x1;
    CHECK_RC(zkrs_ensemble_start(0, 0, &e), ZKRS_BADARGUMENTS);
    CHECK(e == (zkrs_ensemble *)0x1);
    e = NULL;
    CHECK_RC(zkrs_ensemble_start(3, 0, &e), ZKRS_OK);
    if (!e) {
        fprintf(stderr, "cannot start an ensemble\n");
        return;
    }
    const char *hosts = zkrs_ensemble_connect_string(e);
    CHECK(hosts && strncmp(hosts, "127.0.0.1:", 10) == 0);
    int commas = 0;
    for (const char *p = hosts; p && *p; p++)
        commas += *p == ',';
    CHECK(commas == 2);
    int leader = zkrs_ensemble_leader(e);
    CHECK(leader >= 0 && leader < 3);
    CHECK_RC(zkrs_ensemble_stop_member(e, 3), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_ensemble_stop_member(e, -1), ZKRS_BADARGUMENTS);

    /* Under valgrind on a busy machine the quorum can lag behind a write
     * or an election; connection-level failures are retried for a minute. */
    zkrs_client *c = NULL;
    int rc = ZKRS_CONNECTIONLOSS, retried = 0;
    for (time_t end = time(NULL) + 60; time(NULL) < end; retried = 1) {
        if (!c && zkrs_client_connect(hosts, 10000, &c) != ZKRS_OK)
            c = NULL;
        if (c)
            rc = zkrs_client_create(c, "/ens", (const uint8_t *)"quorum", 6, NULL, 0,
                                    ZKRS_PERSISTENT, 0, NULL, NULL);
        if (rc == ZKRS_NODEEXISTS && retried)
            rc = ZKRS_OK; /* an earlier try went through */
        if (c && rc != ZKRS_CONNECTIONLOSS && rc != ZKRS_OPERATIONTIMEOUT)
            break;
        zkrs_client_free(c);
        c = NULL;
        usleep(100 * 1000);
    }
    CHECK_RC(rc, ZKRS_OK);
    zkrs_client_free(c);

    /* Two of three members still form a quorum. */
    CHECK_RC(zkrs_ensemble_stop_member(e, leader), ZKRS_OK);
    CHECK_RC(zkrs_ensemble_stop_member(e, leader), ZKRS_OK); /* twice is fine */
    c = NULL;
    zkrs_buffer *buf = NULL;
    rc = ZKRS_CONNECTIONLOSS;
    for (time_t end = time(NULL) + 60; time(NULL) < end;) {
        if (!c && zkrs_client_connect(hosts, 10000, &c) != ZKRS_OK)
            c = NULL;
        if (c)
            rc = zkrs_client_get(c, "/ens", NULL, NULL, &buf, NULL);
        if (c && rc != ZKRS_CONNECTIONLOSS && rc != ZKRS_OPERATIONTIMEOUT)
            break;
        zkrs_client_free(c);
        c = NULL;
        usleep(100 * 1000); /* a new leader is being elected */
    }
    CHECK_RC(rc, ZKRS_OK);
    CHECK(buf && buf->len == 6 && memcmp(buf->data, "quorum", 6) == 0);
    zkrs_buffer_free(buf);
    zkrs_client_free(c);
    CHECK(zkrs_ensemble_leader(e) != leader);

    CHECK_RC(zkrs_ensemble_start_member(e, leader), ZKRS_OK);

    /* A leader cut off by a partition is replaced; healed, it rejoins.
     * The member started just above must be up for the other two to
     * elect: under valgrind on a busy machine that once took over a
     * minute, hence three. */
    int cut = zkrs_ensemble_leader(e), now = cut;
    CHECK_RC(zkrs_ensemble_isolate_member(e, 5, 1), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_ensemble_isolate_member(NULL, 0, 1), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_ensemble_isolate_member(e, cut, 1), ZKRS_OK);
    for (time_t end = time(NULL) + 180; time(NULL) < end && (now < 0 || now == cut);) {
        usleep(50 * 1000);
        now = zkrs_ensemble_leader(e);
    }
    CHECK(now >= 0 && now != cut);
    CHECK_RC(zkrs_ensemble_isolate_member(e, cut, 0), ZKRS_OK);
    zkrs_ensemble_free(e);
}

/* Recipes: a lock two sessions contend for, read locks, a counter and a
 * leader latch that passes on when its holder leaves. */
struct incrementer {
    const char *hosts;
    int rounds;
    int overlap;
    int *inside;
};

static void *increment_under_lock(void *arg) {
    struct incrementer *w = arg;
    zkrs_client *c = NULL;
    if (zkrs_client_connect(w->hosts, 10000, &c) != ZKRS_OK) {
        w->overlap = -1;
        return NULL;
    }
    zkrs_lock *l = NULL;
    zkrs_lock_new(c, "/recipes/lock", "c-worker", 0, &l);
    for (int i = 0; i < w->rounds; i++) {
        int got = 0;
        if (zkrs_lock_acquire(l, -1, &got) != ZKRS_OK || !got) {
            w->overlap = -1;
            break;
        }
        if (__atomic_exchange_n(w->inside, 1, __ATOMIC_SEQ_CST)) w->overlap++;
        zkrs_buffer *data = NULL;
        long v = 0;
        if (zkrs_client_get(c, "/recipes/n", NULL, NULL, &data, NULL) == ZKRS_OK) {
            char text[32] = {0};
            memcpy(text, data->data, data->len < 31 ? data->len : 31);
            v = strtol(text, NULL, 10);
            zkrs_buffer_free(data);
        }
        char next[32];
        int n = snprintf(next, sizeof next, "%ld", v + 1);
        zkrs_client_set(c, "/recipes/n", (const uint8_t *)next, (size_t)n, -1, NULL);
        __atomic_store_n(w->inside, 0, __ATOMIC_SEQ_CST);
        zkrs_lock_release(l);
    }
    zkrs_lock_free(l);
    zkrs_client_free(c);
    return NULL;
}

static void test_recipes(const char *hosts, zkrs_client *c, zkrs_client *other) {
    CHECK_RC(zkrs_client_create(c, "/recipes", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_create(c, "/recipes/n", (const uint8_t *)"0", 1, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    zkrs_lock *a = NULL, *b = NULL;
    CHECK_RC(zkrs_lock_new(c, "/recipes/l", "a", 0, &a), ZKRS_OK);
    CHECK_RC(zkrs_lock_new(other, "/recipes/l", NULL, 0, &b), ZKRS_OK);
    CHECK_RC(zkrs_lock_new(NULL, "/recipes/l", NULL, 0, &b), ZKRS_BADARGUMENTS);
    int got = -1;
    CHECK_RC(zkrs_lock_acquire(a, -1, &got), ZKRS_OK);
    CHECK(got == 1 && zkrs_lock_is_acquired(a) == 1);
    CHECK_RC(zkrs_lock_acquire(b, 0, &got), ZKRS_OK);
    CHECK(got == 0);
    CHECK_RC(zkrs_lock_acquire(b, 200, &got), ZKRS_OK);
    CHECK(got == 0 && zkrs_lock_is_acquired(b) == 0);
    CHECK_RC(zkrs_lock_release(a), ZKRS_OK);
    CHECK_RC(zkrs_lock_acquire(b, 5000, &got), ZKRS_OK);
    CHECK(got == 1);
    zkrs_lock_free(b); /* releases */
    CHECK_RC(zkrs_lock_acquire(a, 5000, &got), ZKRS_OK);
    CHECK(got == 1);
    zkrs_lock_free(a);
    CHECK(zkrs_lock_is_acquired(NULL) == 0);
    zkrs_lock_free(NULL);

    /* Readers share; a writer waits for them. */
    zkrs_lock *r1 = NULL, *r2 = NULL, *w = NULL;
    CHECK_RC(zkrs_lock_new(c, "/recipes/rw", "r1", 1, &r1), ZKRS_OK);
    CHECK_RC(zkrs_lock_new(other, "/recipes/rw", "r2", 1, &r2), ZKRS_OK);
    CHECK_RC(zkrs_lock_new(other, "/recipes/rw", "w", 0, &w), ZKRS_OK);
    CHECK_RC(zkrs_lock_acquire(r1, 0, &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_lock_acquire(r2, 0, &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_lock_acquire(w, 0, &got), ZKRS_OK);
    CHECK(got == 0);
    zkrs_lock_free(r1);
    zkrs_lock_free(r2);
    CHECK_RC(zkrs_lock_acquire(w, 5000, &got), ZKRS_OK);
    CHECK(got == 1);
    zkrs_lock_free(w);

    /* Three threads, each its own session, increment without CAS. */
    int inside = 0;
    struct incrementer ws[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        ws[i] = (struct incrementer){hosts, 10, 0, &inside};
        pthread_create(&th[i], NULL, increment_under_lock, &ws[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK(ws[i].overlap == 0);
    }
    zkrs_buffer *data = NULL;
    CHECK_RC(zkrs_client_get(c, "/recipes/n", NULL, NULL, &data, NULL), ZKRS_OK);
    CHECK(data && data->len == 2 && memcmp(data->data, "30", 2) == 0);
    zkrs_buffer_free(data);

    zkrs_counter *n = NULL;
    int64_t v = 0;
    CHECK_RC(zkrs_counter_new(c, "/recipes/count", 5, &n), ZKRS_OK);
    CHECK_RC(zkrs_counter_value(n, &v), ZKRS_OK);
    CHECK(v == 5);
    CHECK_RC(zkrs_counter_add(n, 3, &v), ZKRS_OK);
    CHECK(v == 8);
    CHECK_RC(zkrs_counter_add(n, -10, NULL), ZKRS_OK);
    CHECK_RC(zkrs_counter_value(n, &v), ZKRS_OK);
    CHECK(v == -2);
    CHECK_RC(zkrs_counter_value(n, NULL), ZKRS_BADARGUMENTS);
    zkrs_counter_free(n);
    zkrs_counter_free(NULL);

    zkrs_leader_latch *first = NULL, *second = NULL;
    CHECK_RC(zkrs_leader_latch_start(c, "/recipes/elect", "first", &first), ZKRS_OK);
    int leading = -1;
    CHECK_RC(zkrs_leader_latch_await(first, 5000, &leading), ZKRS_OK);
    CHECK(leading == 1);
    CHECK_RC(zkrs_leader_latch_start(other, "/recipes/elect", "second", &second), ZKRS_OK);
    CHECK_RC(zkrs_leader_latch_await(second, 200, &leading), ZKRS_OK);
    CHECK(leading == 0 && zkrs_leader_latch_has_leadership(second) == 0);
    zkrs_leader_latch_free(first);
    CHECK_RC(zkrs_leader_latch_await(second, 5000, &leading), ZKRS_OK);
    CHECK(leading == 1 && zkrs_leader_latch_has_leadership(second) == 1);
    zkrs_leader_latch_free(second);
    zkrs_leader_latch_free(NULL);

    /* A semaphore admits max_leases holders; every holder must count alike. */
    zkrs_semaphore *s1 = NULL, *s2 = NULL, *s3 = NULL, *odd = NULL;
    CHECK_RC(zkrs_semaphore_new(c, "/recipes/sem", "s1", 0, &s1), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_semaphore_new(c, "/recipes/sem", "s1", 2, &s1), ZKRS_OK);
    CHECK_RC(zkrs_semaphore_new(other, "/recipes/sem", "s2", 2, &s2), ZKRS_OK);
    CHECK_RC(zkrs_semaphore_new(other, "/recipes/sem", "s3", 2, &s3), ZKRS_OK);
    CHECK_RC(zkrs_semaphore_acquire(s1, -1, &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_semaphore_acquire(s2, 0, &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_semaphore_acquire(s3, 200, &got), ZKRS_OK);
    CHECK(got == 0);
    CHECK_RC(zkrs_semaphore_new(other, "/recipes/sem", "odd", 3, &odd), ZKRS_OK);
    CHECK_RC(zkrs_semaphore_acquire(odd, 0, &got), ZKRS_BADARGUMENTS);
    zkrs_semaphore_free(odd);
    CHECK_RC(zkrs_semaphore_release(s1), ZKRS_OK);
    CHECK_RC(zkrs_semaphore_acquire(s3, 5000, &got), ZKRS_OK);
    CHECK(got == 1);
    zkrs_semaphore_free(s1);
    zkrs_semaphore_free(s2);
    zkrs_semaphore_free(s3);
    zkrs_semaphore_free(NULL);

    /* A barrier holds waiters until removed. */
    zkrs_barrier *gate = NULL, *waiter = NULL;
    int down = -1, removed = -1;
    CHECK_RC(zkrs_barrier_new(c, "/recipes/gate", &gate), ZKRS_OK);
    CHECK_RC(zkrs_barrier_new(other, "/recipes/gate", &waiter), ZKRS_OK);
    CHECK_RC(zkrs_barrier_wait(waiter, 0, &down), ZKRS_OK);
    CHECK(down == 1); /* not up yet */
    CHECK_RC(zkrs_barrier_create(gate), ZKRS_OK);
    CHECK_RC(zkrs_barrier_wait(waiter, 200, &down), ZKRS_OK);
    CHECK(down == 0);
    CHECK_RC(zkrs_barrier_remove(gate, &removed), ZKRS_OK);
    CHECK(removed == 1);
    CHECK_RC(zkrs_barrier_wait(waiter, 5000, &down), ZKRS_OK);
    CHECK(down == 1);
    CHECK_RC(zkrs_barrier_remove(gate, NULL), ZKRS_OK);
    CHECK_RC(zkrs_barrier_wait(waiter, 0, NULL), ZKRS_BADARGUMENTS);
    zkrs_barrier_free(gate);
    zkrs_barrier_free(waiter);
    zkrs_barrier_free(NULL);

    /* A queue: priority first, then FIFO; each item taken once. */
    zkrs_queue *q = NULL, *q2 = NULL;
    zkrs_buffer *item = NULL;
    size_t len = 99;
    CHECK_RC(zkrs_queue_new(c, "/recipes/q", &q), ZKRS_OK);
    CHECK_RC(zkrs_queue_new(other, "/recipes/q", &q2), ZKRS_OK);
    CHECK_RC(zkrs_queue_get(q, &item), ZKRS_OK);
    CHECK(item == NULL);
    CHECK_RC(zkrs_queue_put(q, (const uint8_t *)"a", 1, 100), ZKRS_OK);
    CHECK_RC(zkrs_queue_put(q, (const uint8_t *)"b", 1, 100), ZKRS_OK);
    CHECK_RC(zkrs_queue_put(q2, (const uint8_t *)"first", 5, 1), ZKRS_OK);
    CHECK_RC(zkrs_queue_put(q, (const uint8_t *)"x", 1, 1000), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_queue_len(q, &len), ZKRS_OK);
    CHECK(len == 3);
    const char *order[] = {"first", "a", "b"};
    for (int i = 0; i < 3; i++) {
        CHECK_RC(zkrs_queue_get(i % 2 ? q2 : q, &item), ZKRS_OK);
        CHECK(item && item->len == strlen(order[i]) && memcmp(item->data, order[i], item->len) == 0);
        zkrs_buffer_free(item);
    }
    CHECK_RC(zkrs_queue_get(q, &item), ZKRS_OK);
    CHECK(item == NULL);
    zkrs_queue_free(q);
    zkrs_queue_free(q2);
    zkrs_queue_free(NULL);
}

/* Core logs (zkrs and the crates it runs: openraft, ...) reach a C
 * callback from zkrs threads. */
static int serving_logged;
static int bad_log_record;

static void on_log(void *userdata, int level, const char *target, const char *message) {
    if (userdata != &serving_logged || level < ZKRS_LOG_ERROR || level > ZKRS_LOG_INFO ||
        target[0] == 0)
        __atomic_store_n(&bad_log_record, 1, __ATOMIC_SEQ_CST);
    if (strstr(message, "serving clients on"))
        __atomic_store_n(&serving_logged, 1, __ATOMIC_SEQ_CST);
}

/* ---- async calls: completions in call order, on another thread ---------- */

#define MAX_DONE 160
struct done_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int rcs[MAX_DONE];
    char what[MAX_DONE][48];
    pthread_t caller;
    int on_caller_thread;
};

static void done_add(struct done_log *l, int rc, const char *what) {
    pthread_mutex_lock(&l->mu);
    if (pthread_equal(pthread_self(), l->caller)) l->on_caller_thread = 1;
    if (l->n < MAX_DONE) {
        l->rcs[l->n] = rc;
        snprintf(l->what[l->n], sizeof l->what[l->n], "%s", what);
        l->n++;
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int done_wait(struct done_log *l, int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&l->mu);
    while (l->n < n) {
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0) break;
    }
    int got = l->n;
    pthread_mutex_unlock(&l->mu);
    return got >= n;
}

/* A log for callbacks registered from this thread (they must run on
 * another). */
static void done_init(struct done_log *l) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->caller = pthread_self();
}

static void done_destroy(struct done_log *l) {
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}

static void on_created(void *ud, int rc, const char *value) {
    done_add(ud, rc, value ? value : "(none)");
}

static void on_removed(void *ud, int rc) { done_add(ud, rc, "deleted"); }

static void on_stat_done(void *ud, int rc, const struct zkrs_stat *stat) {
    char what[48];
    snprintf(what, sizeof what, "stat %d", stat ? stat->version : -9);
    done_add(ud, rc, what);
}

static void on_data_done(void *ud, int rc, const uint8_t *data, size_t len,
                         const struct zkrs_stat *stat) {
    char what[48];
    if (!data && len == ZKRS_NULL_LEN)
        snprintf(what, sizeof what, "data null %d", stat ? stat->version : -9);
    else
        snprintf(what, sizeof what, "data '%.*s' %d", (int)len, data ? (const char *)data : "",
                 stat ? stat->version : -9);
    done_add(ud, rc, what);
}

static void on_children_done(void *ud, int rc, const struct zkrs_string_array *names,
                             const struct zkrs_stat *stat) {
    char what[48];
    snprintf(what, sizeof what, "children %zu %s %d", names ? names->len : 0,
             names && names->len ? names->strings[0] : "-", stat ? stat->num_children : -9);
    done_add(ud, rc, what);
}

static void on_event_logged(void *ud, int type, int state, const char *path) {
    (void)state;
    char what[48];
    snprintf(what, sizeof what, "event %d %s", type, path);
    done_add(ud, 0, what);
}

static void test_async(zkrs_client *c) {
    struct done_log l;
    done_init(&l);

    /* Queued back to back, without waiting: they go out and complete in
     * this order. */
    const uint8_t v1[] = "v1", v2[] = "v2";
    CHECK_RC(zkrs_client_acreate(c, "/async", v1, 2, NULL, 0, ZKRS_PERSISTENT, 0, on_created, &l),
             ZKRS_OK);
    CHECK_RC(zkrs_client_aset(c, "/async", v2, 2, -1, on_stat_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget(c, "/async", NULL, NULL, on_data_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aset(c, "/async", NULL, ZKRS_NULL_LEN, -1, on_stat_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget(c, "/async", NULL, NULL, on_data_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_acreate(c, "/async/kid", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                 on_created, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget_children(c, "/async", NULL, NULL, on_children_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_adelete(c, "/async", -1, on_removed, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_adelete(c, "/async/kid", -1, on_removed, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aexists(c, "/async", on_event_logged, &l, on_stat_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_adelete(c, "/async", 5, on_removed, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_adelete(c, "/async", -1, on_removed, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget(c, "/async", NULL, NULL, on_data_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_acreate(c, "no-slash", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, on_created,
                                 &l), ZKRS_OK);
    /* Bad arguments are refused at once; no completion follows. */
    CHECK_RC(zkrs_client_aget(c, NULL, NULL, NULL, on_data_done, &l), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_acreate(c, "/x", NULL, 0, NULL, 0, 99, 0, on_created, &l),
             ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_adelete(NULL, "/x", -1, on_removed, &l), ZKRS_BADARGUMENTS);
    /* A NULL completion: fire and forget. */
    CHECK_RC(zkrs_client_adelete(c, "/never-there", -1, NULL, NULL), ZKRS_OK);

    /* The completions, in call order (the watch event runs on the event
     * thread: it only has to come before the completion of the delete
     * that fired it). */
    const char *want[] = {
        "/async",  "stat 1", "data 'v2' 1", "stat 2",  "data null 2",
        "/async/kid", "children 1 kid 1", "deleted", "deleted", "stat 2",
        "deleted", "deleted", "data '' -9", "(none)",
    };
    int wrc[] = {ZKRS_OK, ZKRS_OK, ZKRS_OK, ZKRS_OK, ZKRS_OK, ZKRS_OK, ZKRS_OK, ZKRS_NOTEMPTY,
                 ZKRS_OK, ZKRS_OK, ZKRS_BADVERSION, ZKRS_OK, ZKRS_NONODE, ZKRS_BADARGUMENTS};
    int n = (int)(sizeof want / sizeof want[0]);
    CHECK(done_wait(&l, n + 1));
    usleep(100 * 1000); /* nothing else may come */
    pthread_mutex_lock(&l.mu);
    CHECK(l.n == n + 1);
    int k = 0, event_at = -1, delete_at = -1;
    for (int i = 0; i < l.n; i++) {
        if (strncmp(l.what[i], "event ", 6) == 0) {
            CHECK(strcmp(l.what[i], "event 2 /async") == 0);
            event_at = i;
            continue;
        }
        if (k < n && (strcmp(l.what[i], want[k]) != 0 || l.rcs[i] != wrc[k])) {
            fprintf(stderr, "  async completion #%d: got (%d, %s), want (%d, %s)\n", k, l.rcs[i],
                    l.what[i], wrc[k], want[k]);
            failed++;
        } else {
            passed++;
        }
        if (k == 11) delete_at = i; /* the delete that fired the watch */
        k++;
    }
    CHECK(k == n && event_at >= 0 && event_at < delete_at);
    CHECK(!l.on_caller_thread);
    pthread_mutex_unlock(&l.mu);

    /* Many in flight: every set's completion in order, versions 1..100. */
    l.n = 0;
    CHECK_RC(zkrs_client_create(c, "/async-many", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    for (int i = 0; i < 100; i++) {
        CHECK_RC(zkrs_client_aset(c, "/async-many", v1, 2, -1, on_stat_done, &l), ZKRS_OK);
    }
    CHECK(done_wait(&l, 100));
    int in_order = 1;
    for (int i = 0; i < 100; i++) {
        char w[48];
        snprintf(w, sizeof w, "stat %d", i + 1);
        if (l.rcs[i] != ZKRS_OK || strcmp(l.what[i], w) != 0) in_order = 0;
    }
    CHECK(in_order);
    CHECK_RC(zkrs_client_delete(c, "/async-many", -1), ZKRS_OK);
    done_destroy(&l);
}

/* ---- one callback thread: watches and completions never overlap ------- */

struct one_thread {
    pthread_t watch_thread, done_thread;
    int in_watch;  /* set while the watch callback runs */
    int overlap;   /* a completion ran while the watch callback ran */
    int watched, done;
};

static void on_slow_watch(void *ud, int type, int state, const char *path) {
    (void)type, (void)state, (void)path;
    struct one_thread *t = ud;
    t->watch_thread = pthread_self();
    __atomic_store_n(&t->in_watch, 1, __ATOMIC_SEQ_CST);
    usleep(300 * 1000);
    __atomic_store_n(&t->in_watch, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->watched, 1, __ATOMIC_SEQ_CST);
}

static void on_one_thread_done(void *ud, int rc, const uint8_t *data, size_t len,
                               const struct zkrs_stat *stat) {
    (void)rc, (void)data, (void)len, (void)stat;
    struct one_thread *t = ud;
    t->done_thread = pthread_self();
    if (__atomic_load_n(&t->in_watch, __ATOMIC_SEQ_CST)) t->overlap = 1;
    __atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
}

/* As the official client's completion thread: a completion queued while
 * a watch callback runs waits for it, on the same thread. */
static void test_async_one_thread(zkrs_client *c, zkrs_client *other) {
    struct one_thread t;
    memset(&t, 0, sizeof t);
    CHECK_RC(zkrs_client_create(c, "/one-thread", (const uint8_t *)"a", 1, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_get(c, "/one-thread", on_slow_watch, &t, NULL, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_set(other, "/one-thread", (const uint8_t *)"b", 1, -1, NULL), ZKRS_OK);
    for (int i = 0; i < 500 && !__atomic_load_n(&t.in_watch, __ATOMIC_SEQ_CST); i++)
        usleep(10 * 1000);
    CHECK(__atomic_load_n(&t.in_watch, __ATOMIC_SEQ_CST));
    CHECK_RC(zkrs_client_aget(c, "/one-thread", NULL, NULL, on_one_thread_done, &t), ZKRS_OK);
    for (int i = 0; i < 500 && !__atomic_load_n(&t.done, __ATOMIC_SEQ_CST); i++)
        usleep(10 * 1000);
    CHECK(__atomic_load_n(&t.done, __ATOMIC_SEQ_CST) && __atomic_load_n(&t.watched, __ATOMIC_SEQ_CST));
    CHECK(!t.overlap);
    CHECK(pthread_equal(t.watch_thread, t.done_thread));
    CHECK_RC(zkrs_client_delete(c, "/one-thread", -1), ZKRS_OK);
}

/* ---- election: run a task as leader; cancel a waiting run -------------- */

static int lead_task(void *ud) {
    int *calls = ud;
    (*calls)++;
    return 42;
}

struct waiting_run {
    zkrs_election *e;
    int rc, ran, result;
};

static void *run_election(void *arg) {
    struct waiting_run *w = arg;
    static int never;
    w->rc = zkrs_election_run(w->e, lead_task, &never, &w->ran, &w->result);
    return NULL;
}

static void test_election(zkrs_client *c, zkrs_client *other) {
    zkrs_election *e = NULL;
    int calls = 0, ran = -1, result = -1;
    CHECK_RC(zkrs_election_new(c, "/elect", "first", &e), ZKRS_OK);
    CHECK_RC(zkrs_election_run(e, lead_task, &calls, &ran, &result), ZKRS_OK);
    CHECK(calls == 1 && ran == 1 && result == 42);
    CHECK_RC(zkrs_election_run(e, NULL, &calls, &ran, &result), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_election_new(c, NULL, "x", &e), ZKRS_BADARGUMENTS);

    /* Someone else leads (a lock in the same layout): a run waits, and a
     * cancel from this thread ends it without running the task. */
    zkrs_lock *holder = NULL;
    int got = 0;
    CHECK_RC(zkrs_lock_new(other, "/elect", "holder", 0, &holder), ZKRS_OK);
    CHECK_RC(zkrs_lock_acquire(holder, 5000, &got), ZKRS_OK);
    CHECK(got == 1);
    struct waiting_run w = {.e = e, .rc = -1, .ran = -1, .result = -1};
    pthread_t t;
    pthread_create(&t, NULL, run_election, &w);
    usleep(300 * 1000);
    zkrs_election_cancel(e);
    pthread_join(t, NULL);
    CHECK(w.rc == ZKRS_OK && w.ran == 0 && w.result == -1);
    CHECK_RC(zkrs_lock_release(holder), ZKRS_OK);
    zkrs_lock_free(holder);
    zkrs_election_cancel(NULL);
    zkrs_election_free(e);
    zkrs_election_free(NULL);
}

/* ---- standing watches: DataWatch and ChildrenWatch ---------------------- */

struct standing {
    struct done_log log;
    int stop_at; /* the callback returns 0 on this call (1-based); 0: never */
    int calls;
};

static int on_data_standing(void *ud, const uint8_t *data, size_t len,
                            const struct zkrs_stat *stat) {
    struct standing *s = ud;
    char what[48];
    if (stat)
        snprintf(what, sizeof what, "data '%.*s' %d", (int)len, data ? (const char *)data : "",
                 stat->version);
    else
        snprintf(what, sizeof what, "none");
    done_add(&s->log, 0, what);
    s->calls++;
    return !(s->stop_at && s->calls >= s->stop_at);
}

static int on_children_standing(void *ud, const struct zkrs_string_array *kids) {
    struct standing *s = ud;
    char what[48] = "kids";
    for (size_t i = 0; i < kids->len; i++) {
        strncat(what, " ", sizeof what - strlen(what) - 1);
        strncat(what, kids->strings[i], sizeof what - strlen(what) - 1);
    }
    done_add(&s->log, 0, what);
    return 1;
}

static void standing_init(struct standing *s, int stop_at) {
    memset(s, 0, sizeof *s);
    done_init(&s->log);
    s->stop_at = stop_at;
}

static int log_has(struct done_log *l, int i, const char *what) {
    pthread_mutex_lock(&l->mu);
    int ok = i < l->n && strcmp(l->what[i], what) == 0;
    if (!ok && i < l->n) fprintf(stderr, "  standing #%d: got %s, want %s\n", i, l->what[i], what);
    pthread_mutex_unlock(&l->mu);
    return ok;
}

static void test_standing_watches(zkrs_client *c, zkrs_client *other) {
    struct standing d, k, once;
    standing_init(&d, 0);
    standing_init(&k, 0);
    standing_init(&once, 1);
    zkrs_watch *dw = NULL, *kw = NULL, *ow = NULL;
    CHECK_RC(zkrs_data_watch_start(c, "/standing", on_data_standing, &d, &dw), ZKRS_OK);
    CHECK(done_wait(&d.log, 1) && log_has(&d.log, 0, "none"));
    CHECK_RC(zkrs_client_create(other, "/standing", (const uint8_t *)"a", 1, NULL, 0,
                                ZKRS_PERSISTENT, 0, NULL, NULL), ZKRS_OK);
    CHECK(done_wait(&d.log, 2) && log_has(&d.log, 1, "data 'a' 0"));
    CHECK_RC(zkrs_children_watch_start(c, "/standing", on_children_standing, &k, &kw), ZKRS_OK);
    CHECK(done_wait(&k.log, 1) && log_has(&k.log, 0, "kids"));
    CHECK_RC(zkrs_data_watch_start(c, "/standing", on_data_standing, &once, &ow), ZKRS_OK);
    CHECK(done_wait(&once.log, 1) && log_has(&once.log, 0, "data 'a' 0"));
    CHECK_RC(zkrs_client_set(other, "/standing", (const uint8_t *)"b", 1, -1, NULL), ZKRS_OK);
    CHECK(done_wait(&d.log, 3) && log_has(&d.log, 2, "data 'b' 1"));
    CHECK_RC(zkrs_client_create(other, "/standing/k1", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL), ZKRS_OK);
    CHECK(done_wait(&k.log, 2) && log_has(&k.log, 1, "kids k1"));
    usleep(100 * 1000);
    CHECK(once.log.n == 1);                  /* it returned 0: stopped */
    CHECK(zkrs_watch_is_running(ow) == 0);
    CHECK(zkrs_watch_is_running(dw) == 1);
    CHECK(!d.log.on_caller_thread);
    zkrs_watch_free(dw);                     /* no call after this */
    CHECK_RC(zkrs_client_set(other, "/standing", (const uint8_t *)"c", 1, -1, NULL), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(other, "/standing/k1", -1), ZKRS_OK);
    CHECK_RC(zkrs_client_delete(other, "/standing", -1), ZKRS_OK);
    usleep(200 * 1000);
    CHECK(d.log.n == 3);
    CHECK(zkrs_watch_is_running(kw) == 0);   /* its node was deleted */
    CHECK_RC(zkrs_data_watch_start(c, NULL, on_data_standing, &d, &dw), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_data_watch_start(c, "/x", NULL, &d, &dw), ZKRS_BADARGUMENTS);
    CHECK(zkrs_watch_is_running(NULL) == 0);
    zkrs_watch_free(kw);
    zkrs_watch_free(ow);
    zkrs_watch_free(NULL);
}

/* ---- locking queue and leases ---------------------------------------- */

static int buffer_is(zkrs_buffer *b, const char *want) {
    int ok = b && b->len == strlen(want) && memcmp(b->data, want, b->len) == 0;
    zkrs_buffer_free(b);
    return ok;
}

static void test_locking_queue_and_leases(zkrs_client *c, zkrs_client *other) {
    zkrs_locking_queue *qa = NULL, *qb = NULL;
    CHECK_RC(zkrs_locking_queue_new(c, "/lq", &qa), ZKRS_OK);
    CHECK_RC(zkrs_locking_queue_new(other, "/lq", &qb), ZKRS_OK);
    zkrs_buffer *item = (zkrs_buffer *)0x1;
    CHECK_RC(zkrs_locking_queue_get(qa, 50, &item), ZKRS_OK);
    CHECK(item == NULL); /* empty: nothing within the timeout */
    CHECK_RC(zkrs_locking_queue_put(qa, (const uint8_t *)"one", 3, 100), ZKRS_OK);
    CHECK_RC(zkrs_locking_queue_put(qa, (const uint8_t *)"two", 3, 100), ZKRS_OK);
    CHECK_RC(zkrs_locking_queue_put(qa, (const uint8_t *)"x", 1, 1000), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_locking_queue_get(qa, -1, &item), ZKRS_OK);
    CHECK(buffer_is(item, "one"));
    CHECK_RC(zkrs_locking_queue_get(qb, 1000, &item), ZKRS_OK);
    CHECK(buffer_is(item, "two")); /* "one" is locked by the other session */
    int done_flag = -1;
    CHECK_RC(zkrs_locking_queue_release(qa, &done_flag), ZKRS_OK);
    CHECK(done_flag == 1);
    CHECK_RC(zkrs_locking_queue_consume(qb, &done_flag), ZKRS_OK);
    CHECK(done_flag == 1);
    CHECK_RC(zkrs_locking_queue_get(qb, 1000, &item), ZKRS_OK);
    CHECK(buffer_is(item, "one")); /* given back, so offered again */
    CHECK_RC(zkrs_locking_queue_consume(qb, &done_flag), ZKRS_OK);
    CHECK_RC(zkrs_locking_queue_consume(qb, &done_flag), ZKRS_OK);
    CHECK(done_flag == 0); /* holds none now */
    zkrs_locking_queue_free(qa);
    zkrs_locking_queue_free(qb);
    zkrs_locking_queue_free(NULL);

    int got = -1;
    CHECK_RC(zkrs_lease_obtain(c, "/lease", 1, 60000, "a", &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_lease_obtain(c, "/lease", 1, 60000, "a", &got), ZKRS_OK);
    CHECK(got == 1); /* renewed by its holder */
    CHECK_RC(zkrs_lease_obtain(other, "/lease", 1, 60000, "b", &got), ZKRS_OK);
    CHECK(got == 0);
    CHECK_RC(zkrs_lease_obtain(c, "/multi", 2, 60000, "a", &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_lease_obtain(other, "/multi", 2, 60000, "b", &got), ZKRS_OK);
    CHECK(got == 1);
    CHECK_RC(zkrs_lease_obtain(other, "/multi", 2, 60000, "c", &got), ZKRS_OK);
    CHECK(got == 0);
    CHECK_RC(zkrs_lease_obtain(c, "/lease", 0, 60000, "a", &got), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_lease_obtain(c, "/lease", 1, 60000, NULL, &got), ZKRS_BADARGUMENTS);
}

/* kazoo's SetPartitioner: two members split six items by stride; a third
 * joining moves both to RELEASE, and after release_set the set is split
 * three ways. */
static int partitions_are(zkrs_partitioner *p, const char *a, const char *b, const char *c3) {
    zkrs_string_array *got = NULL;
    if (zkrs_partitioner_partitions(p, &got) != ZKRS_OK) return 0;
    const char *want[3] = {a, b, c3};
    size_t n = c3 ? 3 : 2;
    int same = got->len == n;
    for (size_t i = 0; same && i < n; i++) same = strcmp(got->strings[i], want[i]) == 0;
    zkrs_string_array_free(got);
    return same;
}

static void settle(zkrs_partitioner **ps, int n) {
    for (int round = 0; round < 10; round++) {
        int all = 1;
        for (int i = 0; i < n; i++) all &= zkrs_partitioner_state(ps[i]) == ZKRS_PARTITION_ACQUIRED;
        if (all) return;
        for (int i = 0; i < n; i++) {
            int got = 0;
            if (zkrs_partitioner_state(ps[i]) == ZKRS_PARTITION_RELEASE) zkrs_partitioner_release_set(ps[i]);
            zkrs_partitioner_wait_acquired(ps[i], 15000, &got);
        }
    }
}

static void test_partitioner(zkrs_client *c, zkrs_client *other, const char *hosts) {
    const char *items[] = {"a", "b", "c", "d", "e", "f"};
    zkrs_partitioner *p1 = NULL, *p2 = NULL, *p3 = NULL, *bad = NULL;
    CHECK_RC(zkrs_partitioner_start(c, "/parts", NULL, 2, "m1", 200, &bad), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_partitioner_start(c, "/parts", items, 6, "m1", 200, NULL), ZKRS_BADARGUMENTS);
    CHECK(bad == NULL && zkrs_partitioner_state(NULL) == ZKRS_PARTITION_FAILURE);
    CHECK_RC(zkrs_partitioner_start(c, "/parts", items, 6, "m1", 300, &p1), ZKRS_OK);
    CHECK_RC(zkrs_partitioner_start(other, "/parts", items, 6, "m2", 300, &p2), ZKRS_OK);
    zkrs_partitioner *two[] = {p1, p2};
    settle(two, 2);
    CHECK(zkrs_partitioner_partitions(p1, NULL) == ZKRS_BADARGUMENTS);
    CHECK(partitions_are(p1, "a", "c", "e"));
    CHECK(partitions_are(p2, "b", "d", "f"));

    zkrs_client *third = NULL;
    CHECK_RC(zkrs_client_connect(hosts, 10000, &third), ZKRS_OK);
    CHECK_RC(zkrs_partitioner_start(third, "/parts", items, 6, "m3", 300, &p3), ZKRS_OK);
    for (int i = 0; i < 300 && zkrs_partitioner_state(p1) != ZKRS_PARTITION_RELEASE; i++) usleep(20000);
    CHECK(zkrs_partitioner_state(p1) == ZKRS_PARTITION_RELEASE);
    zkrs_partitioner *three[] = {p1, p2, p3};
    settle(three, 3);
    CHECK(partitions_are(p1, "a", "d", NULL));
    CHECK(partitions_are(p2, "b", "e", NULL));
    CHECK(partitions_are(p3, "c", "f", NULL));
    zkrs_partitioner_free(p3);
    zkrs_partitioner_free(p2);
    zkrs_partitioner_free(p1);
    zkrs_partitioner_free(NULL);
    zkrs_client_free(third);
}

/* ---- async sync, ACL and multi ------------------------------------------ */

static void on_acl_done(void *ud, int rc, const struct zkrs_acl_list *acl,
                        const struct zkrs_stat *stat) {
    char what[48];
    snprintf(what, sizeof what, "acl %zu %s %d %d", acl ? acl->len : 0,
             acl && acl->len ? acl->acls[0].scheme : "-", acl && acl->len ? acl->acls[0].perms : -1,
             stat ? stat->aversion : -9);
    done_add(ud, rc, what);
}

static void on_multi_done(void *ud, int rc, const struct zkrs_op_results *r) {
    char what[48];
    if (!r)
        snprintf(what, sizeof what, "multi none");
    else
        snprintf(what, sizeof what, "multi %zu %s %d %d", r->len,
                 r->len && r->results[0].path ? r->results[0].path : "-",
                 r->len > 1 ? r->results[1].err : 0, r->len > 1 ? r->results[1].op_type : 0);
    done_add(ud, rc, what);
}

static void test_async_more(zkrs_client *c) {
    struct done_log l;
    done_init(&l);

    struct zkrs_acl readonly = {ZKRS_PERM_READ | ZKRS_PERM_ADMIN, "world", "anyone"};
    struct zkrs_op good[] = {
        {ZKRS_OP_CREATE, "/am", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, -1},
        {ZKRS_OP_SET, "/am", (const uint8_t *)"x", 1, NULL, 0, 0, 0, 0},
    };
    struct zkrs_op bad[] = {
        {ZKRS_OP_CREATE, "/am2", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, -1},
        {ZKRS_OP_CHECK, "/am", NULL, 0, NULL, 0, 0, 0, 7},
    };
    CHECK_RC(zkrs_client_amulti(c, good, 2, on_multi_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_amulti(c, bad, 2, on_multi_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_async_sync(c, "/am", on_created, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget_acl(c, "/am", on_acl_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aset_acl(c, "/am", &readonly, 1, 0, on_stat_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget_acl(c, "/am", on_acl_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aset_acl(c, "/am", &readonly, 1, 0, on_stat_done, &l), ZKRS_OK);
    CHECK_RC(zkrs_client_aget_acl(c, "/nothing-here", on_acl_done, &l), ZKRS_OK);
    /* Refused at once, no completion. */
    CHECK_RC(zkrs_client_aset_acl(c, "/am", NULL, 0, -1, on_stat_done, &l), ZKRS_BADARGUMENTS);
    struct zkrs_op unknown = {99, "/am", NULL, 0, NULL, 0, 0, 0, -1};
    CHECK_RC(zkrs_client_amulti(c, &unknown, 1, on_multi_done, &l), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_async_sync(c, NULL, on_created, &l), ZKRS_BADARGUMENTS);

    const char *want[] = {
        "multi 2 /am 0 5", "multi 2 - -103 13", "/am", "acl 1 world 31 0",
        "stat 1", "acl 1 world 17 1", "stat -9", "acl 0 - -1 -9",
    };
    int wrc[] = {ZKRS_OK, ZKRS_BADVERSION, ZKRS_OK, ZKRS_OK,
                 ZKRS_OK, ZKRS_OK, ZKRS_BADVERSION, ZKRS_NONODE};
    int n = (int)(sizeof want / sizeof want[0]);
    CHECK(done_wait(&l, n));
    usleep(100 * 1000);
    pthread_mutex_lock(&l.mu);
    CHECK(l.n == n);
    for (int i = 0; i < n && i < l.n; i++) {
        if (strcmp(l.what[i], want[i]) != 0 || l.rcs[i] != wrc[i]) {
            fprintf(stderr, "  async #%d: got (%d, %s), want (%d, %s)\n", i, l.rcs[i], l.what[i],
                    wrc[i], want[i]);
            failed++;
        } else {
            passed++;
        }
    }
    CHECK(!l.on_caller_thread);
    pthread_mutex_unlock(&l.mu);
    CHECK_RC(zkrs_client_exists(c, "/am2", NULL, NULL, NULL), ZKRS_NONODE);
    CHECK_RC(zkrs_client_delete(c, "/am", -1), ZKRS_OK);
    done_destroy(&l);
}

/* ---- party, double barrier, tree cache, registry ------------------------ */

static int array_has(const struct zkrs_string_array *a, const char *s) {
    for (size_t i = 0; a && i < a->len; i++)
        if (strcmp(a->strings[i], s) == 0) return 1;
    return 0;
}

static void test_party(zkrs_client *c, zkrs_client *other) {
    zkrs_party *p1 = NULL, *p2 = NULL, *s1 = NULL, *s2 = NULL, *bad = NULL;
    CHECK_RC(zkrs_party_new(c, "/party", "one", 0, &p1), ZKRS_OK);
    CHECK_RC(zkrs_party_new(other, "/party", "two", 0, &p2), ZKRS_OK);
    CHECK_RC(zkrs_party_new(c, "/shallow", "a/b", 1, &bad), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_party_new(c, NULL, "x", 0, &bad), ZKRS_BADARGUMENTS);
    CHECK(bad == NULL && zkrs_party_is_member(NULL) == 0);
    CHECK(zkrs_party_is_member(p1) == 0);
    CHECK_RC(zkrs_party_join(p1), ZKRS_OK);
    CHECK_RC(zkrs_party_join(p1), ZKRS_OK); /* one membership */
    CHECK_RC(zkrs_party_join(p2), ZKRS_OK);
    CHECK(zkrs_party_is_member(p1) == 1);
    zkrs_string_array *m = NULL;
    CHECK_RC(zkrs_party_members(p1, &m), ZKRS_OK);
    CHECK(m && m->len == 2 && array_has(m, "one") && array_has(m, "two"));
    zkrs_string_array_free(m);
    int left = -1;
    CHECK_RC(zkrs_party_leave(p1, &left), ZKRS_OK);
    CHECK(left == 1 && zkrs_party_is_member(p1) == 0);
    CHECK_RC(zkrs_party_leave(p1, &left), ZKRS_OK);
    CHECK(left == 0);
    m = NULL;
    CHECK_RC(zkrs_party_members(p2, &m), ZKRS_OK);
    CHECK(m && m->len == 1 && array_has(m, "two"));
    zkrs_string_array_free(m);

    CHECK_RC(zkrs_party_new(c, "/shallow", "s-one", 1, &s1), ZKRS_OK);
    CHECK_RC(zkrs_party_new(other, "/shallow", "s-two", 1, &s2), ZKRS_OK);
    CHECK_RC(zkrs_party_join(s1), ZKRS_OK);
    CHECK_RC(zkrs_party_join(s2), ZKRS_OK);
    m = NULL;
    CHECK_RC(zkrs_party_members(s2, &m), ZKRS_OK);
    CHECK(m && m->len == 2 && array_has(m, "s-one") && array_has(m, "s-two"));
    zkrs_string_array_free(m);
    zkrs_party_free(s1); /* leaves */
    m = NULL;
    CHECK_RC(zkrs_party_members(s2, &m), ZKRS_OK);
    CHECK(m && m->len == 1 && array_has(m, "s-two"));
    zkrs_string_array_free(m);
    zkrs_party_free(s2);
    zkrs_party_free(p2);
    zkrs_party_free(p1);
    zkrs_party_free(NULL);
}

struct barrier_arg {
    zkrs_double_barrier *b;
    int entered, left, rc_enter, rc_leave;
};

static void *barrier_member(void *arg) {
    struct barrier_arg *a = arg;
    a->rc_enter = zkrs_double_barrier_enter(a->b, 20000, &a->entered);
    a->rc_leave = zkrs_double_barrier_leave(a->b, 20000, &a->left);
    return NULL;
}

static void test_double_barrier(zkrs_client *c, zkrs_client *other) {
    zkrs_double_barrier *b1 = NULL, *b2 = NULL, *bad = NULL;
    CHECK_RC(zkrs_double_barrier_new(c, "/dbar", 0, NULL, &bad), ZKRS_BADARGUMENTS);
    CHECK(bad == NULL && zkrs_double_barrier_is_participating(NULL) == 0);
    CHECK_RC(zkrs_double_barrier_new(c, "/dbar", 2, "first", &b1), ZKRS_OK);
    CHECK_RC(zkrs_double_barrier_new(other, "/dbar", 2, "second", &b2), ZKRS_OK);
    /* Alone, the count is not reached in time: not entered, withdrawn. */
    int entered = -1;
    CHECK_RC(zkrs_double_barrier_enter(b1, 200, &entered), ZKRS_OK);
    CHECK(entered == 0 && zkrs_double_barrier_is_participating(b1) == 0);

    struct barrier_arg a1 = {b1, -1, -1, -1, -1}, a2 = {b2, -1, -1, -1, -1};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, barrier_member, &a1);
    usleep(100 * 1000); /* the first waits for the second */
    pthread_create(&t2, NULL, barrier_member, &a2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(a1.rc_enter == ZKRS_OK && a1.entered == 1 && a2.rc_enter == ZKRS_OK && a2.entered == 1);
    CHECK(a1.rc_leave == ZKRS_OK && a1.left == 1 && a2.rc_leave == ZKRS_OK && a2.left == 1);
    CHECK(zkrs_double_barrier_is_participating(b1) == 0);
    zkrs_string_array *kids = NULL;
    CHECK_RC(zkrs_client_get_children(c, "/dbar", NULL, NULL, &kids, NULL), ZKRS_OK);
    CHECK(kids && kids->len == 0);
    zkrs_string_array_free(kids);
    zkrs_double_barrier_free(b2);
    zkrs_double_barrier_free(b1);
    zkrs_double_barrier_free(NULL);
}

static void on_cache(void *ud, int event, const char *path, const uint8_t *data, size_t len,
                     const struct zkrs_stat *stat) {
    char what[48];
    snprintf(what, sizeof what, "%d %s '%.*s' %d", event, path, (int)len,
             data ? (const char *)data : "", stat ? stat->version : -9);
    done_add(ud, 0, what);
}

static int log_find(struct done_log *l, const char *what) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&l->mu);
    for (int seen = 0;;) {
        for (; seen < l->n; seen++) {
            if (strcmp(l->what[seen], what) == 0) {
                pthread_mutex_unlock(&l->mu);
                return 1;
            }
        }
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0) break;
    }
    pthread_mutex_unlock(&l->mu);
    fprintf(stderr, "  no callback '%s'\n", what);
    return 0;
}

static void test_tree_cache(zkrs_client *c) {
    struct done_log l;
    done_init(&l);

    CHECK_RC(zkrs_client_create(c, "/tc", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    CHECK_RC(zkrs_client_create(c, "/tc/a", (const uint8_t *)"x", 1, NULL, 0, ZKRS_PERSISTENT, 0,
                                NULL, NULL), ZKRS_OK);
    zkrs_tree_cache *t = NULL, *bad = NULL;
    CHECK_RC(zkrs_tree_cache_start(c, NULL, on_cache, &l, &bad), ZKRS_BADARGUMENTS);
    CHECK(bad == NULL && zkrs_tree_cache_is_running(NULL) == 0);
    CHECK_RC(zkrs_tree_cache_start(c, "/tc", on_cache, &l, &t), ZKRS_OK);
    CHECK(log_find(&l, "4 /tc '' -9"));
    CHECK(log_find(&l, "1 /tc/a 'x' 0"));
    CHECK(zkrs_tree_cache_is_running(t) == 1);
    zkrs_buffer *data = NULL;
    struct zkrs_stat st;
    memset(&st, 0, sizeof st);
    CHECK_RC(zkrs_tree_cache_get(t, "/tc/a", &data, &st), ZKRS_OK);
    CHECK(data && data->len == 1 && data->data[0] == 'x' && st.data_length == 1);
    zkrs_buffer_free(data);
    zkrs_string_array *kids = NULL;
    CHECK_RC(zkrs_tree_cache_children(t, "/tc", &kids), ZKRS_OK);
    CHECK(kids && kids->len == 1 && strcmp(kids->strings[0], "a") == 0);
    zkrs_string_array_free(kids);

    CHECK_RC(zkrs_client_set(c, "/tc/a", (const uint8_t *)"y", 1, -1, NULL), ZKRS_OK);
    CHECK(log_find(&l, "2 /tc/a 'y' 1"));
    CHECK_RC(zkrs_client_create(c, "/tc/a/b", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, NULL, NULL),
             ZKRS_OK);
    CHECK(log_find(&l, "1 /tc/a/b '' 0"));
    CHECK_RC(zkrs_client_delete(c, "/tc/a/b", -1), ZKRS_OK);
    CHECK(log_find(&l, "3 /tc/a/b '' -9"));
    CHECK_RC(zkrs_tree_cache_get(t, "/tc/a/b", NULL, NULL), ZKRS_NONODE);
    CHECK_RC(zkrs_tree_cache_children(t, "/nope", &kids), ZKRS_NONODE);
    zkrs_tree_cache_free(t);
    zkrs_tree_cache_free(NULL);
    /* After free, no callback: the next change is not heard. */
    pthread_mutex_lock(&l.mu);
    int n = l.n;
    pthread_mutex_unlock(&l.mu);
    CHECK_RC(zkrs_client_delete(c, "/tc/a", -1), ZKRS_OK);
    usleep(200 * 1000);
    pthread_mutex_lock(&l.mu);
    CHECK(l.n == n);
    pthread_mutex_unlock(&l.mu);
    CHECK_RC(zkrs_client_delete(c, "/tc", -1), ZKRS_OK);
    done_destroy(&l);
}

static int on_live(void *ud, const struct zkrs_instance_list *live) {
    char what[48] = "live";
    for (size_t i = 0; i < live->len; i++) {
        char one[24];
        snprintf(one, sizeof one, " %s=%.*s", live->items[i].id, (int)live->items[i].len,
                 live->items[i].payload ? (const char *)live->items[i].payload : "");
        strncat(what, one, sizeof what - strlen(what) - 1);
    }
    done_add(ud, 0, what);
    return 1;
}

static void test_registry(zkrs_client *c, zkrs_client *other) {
    struct done_log l;
    done_init(&l);

    zkrs_registry *r1 = NULL, *r2 = NULL, *bad = NULL;
    CHECK_RC(zkrs_registry_new(c, NULL, &bad), ZKRS_BADARGUMENTS);
    CHECK(bad == NULL);
    CHECK_RC(zkrs_registry_new(c, "/services", &r1), ZKRS_OK);
    CHECK_RC(zkrs_registry_new(other, "/services", &r2), ZKRS_OK);
    CHECK_RC(zkrs_registry_register(r1, "web", "i1", (const uint8_t *)"p1", 2), ZKRS_OK);
    CHECK_RC(zkrs_registry_register(r1, "web", "a/b", NULL, 0), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_registry_register(r2, "web", "i1", NULL, 0), ZKRS_NODEEXISTS);
    zkrs_instance_list *live = NULL;
    CHECK_RC(zkrs_registry_instances(r2, "web", &live), ZKRS_OK);
    CHECK(live && live->len == 1 && strcmp(live->items[0].id, "i1") == 0 &&
          live->items[0].len == 2 && memcmp(live->items[0].payload, "p1", 2) == 0);
    zkrs_instance_list_free(live);

    zkrs_watch *w = NULL;
    CHECK_RC(zkrs_registry_watch(r2, "web", NULL, &l, &w), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_registry_watch(r2, "web", on_live, &l, &w), ZKRS_OK);
    CHECK(log_find(&l, "live i1=p1"));
    CHECK_RC(zkrs_registry_register(r2, "web", "i2", NULL, 0), ZKRS_OK);
    CHECK(log_find(&l, "live i1=p1 i2="));
    CHECK_RC(zkrs_registry_register(r1, "web", "i1", (const uint8_t *)"p9", 2), ZKRS_OK);
    CHECK(log_find(&l, "live i1=p9 i2="));
    int removed = -1;
    CHECK_RC(zkrs_registry_unregister(r1, "web", "i1", &removed), ZKRS_OK);
    CHECK(removed == 1);
    CHECK(log_find(&l, "live i2="));
    CHECK_RC(zkrs_registry_unregister(r1, "web", "i1", &removed), ZKRS_OK);
    CHECK(removed == 0);
    zkrs_watch_free(w);
    zkrs_registry_free(r1);
    zkrs_registry_free(r2); /* i2 stays while other's session lives */
    zkrs_registry_free(NULL);
    zkrs_instance_list_free(NULL);
    zkrs_string_array *kids = NULL;
    CHECK_RC(zkrs_client_get_children(c, "/services/web", NULL, NULL, &kids, NULL), ZKRS_OK);
    CHECK(kids && kids->len == 1 && strcmp(kids->strings[0], "i2") == 0);
    zkrs_string_array_free(kids);
    CHECK_RC(zkrs_client_delete(other, "/services/web/i2", -1), ZKRS_OK);
    done_destroy(&l);
}

/* A free TCP port on 127.0.0.1 (0 if none could be had). */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* A member whose certificate names another host (other.example), not the
 * address dialled: zkrs_client_connect_tls refuses it, and
 * zkrs_client_connect_tls_ex with hostname_verification 0 connects, as
 * ZooKeeper's C client does (it checks only the chain). Certificates from
 * the openssl CLI. */
static void test_tls_names(void) {
    char dir[] = "/tmp/zkrs-capi-tls-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cmd[2048], cfg[1024], ca[256], hosts[64];
    snprintf(cmd, sizeof cmd,
             "(cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
             "-days 2 -subj /CN=ca -addext basicConstraints=critical,CA:TRUE && "
             "openssl req -newkey rsa:2048 -nodes -keyout s.key -out s.csr "
             "-subj /CN=other.example && "
             "printf 'subjectAltName=DNS:other.example\\n' > s.ext && "
             "openssl x509 -req -in s.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile s.ext -out s.pem && cat s.pem s.key > s-all.pem) >/dev/null 2>&1",
             dir);
    int made = system(cmd);
    CHECK(made == 0);
    int port = free_port();
    CHECK(port != 0);
    if (made != 0 || port == 0) return;
    snprintf(cfg, sizeof cfg,
             "tickTime=2000\nclientPort=0\ndataDir=%s/data\nsecureClientPort=%d\n"
             "secureClientPortAddress=127.0.0.1\nssl.keyStore.location=%s/s-all.pem\n"
             "ssl.trustStore.location=%s/ca.pem\nssl.clientAuth=none\n",
             dir, port, dir, dir);
    zkrs_member *m = NULL;
    CHECK_RC(zkrs_member_start(cfg, &m), ZKRS_OK);
    if (!m) return;
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", port);
    zkrs_client *c = NULL;
    CHECK_RC(zkrs_client_connect_tls(hosts, 6000, ca, NULL, NULL, NULL, &c),
             ZKRS_CONNECTIONLOSS);
    CHECK(c == NULL);
    CHECK_RC(zkrs_client_connect_tls_ex(hosts, 6000, ca, NULL, NULL, NULL, 0, &c), ZKRS_OK);
    if (c) CHECK_RC(zkrs_client_exists(c, "/zookeeper", NULL, NULL, NULL), ZKRS_OK);
    zkrs_client_free(c);
    zkrs_member_free(m);
}

int main(void) {
    test_static_functions();
    CHECK_RC(zkrs_set_log_callback(on_log, &serving_logged, 9), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_set_log_callback(on_log, &serving_logged, ZKRS_LOG_INFO), ZKRS_OK);

    /* A member with ZooKeeper's defaults (temporary data dir, free port). */
    zkrs_member *plain = NULL;
    CHECK_RC(zkrs_member_start(NULL, &plain), ZKRS_OK);
    CHECK(plain && strncmp(zkrs_member_connect_string(plain), "127.0.0.1:", 10) == 0);

    /* A member from zoo.cfg text, with TTL nodes enabled. */
    char dir[] = "/tmp/zkrs-capi-test-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "tickTime=200\ndataDir=%s\nclientPort=0\nclientPortAddress=127.0.0.1\n"
             "extendedTypesEnabled=true\nznode.container.checkIntervalMs=100\n",
             dir);
    zkrs_member *m = NULL;
    CHECK_RC(zkrs_member_start(cfg, &m), ZKRS_OK);
    if (!m) {
        fprintf(stderr, "cannot start a member; giving up\n");
        printf("%d passed, %d failed\n", passed, failed + 1);
        return 1;
    }
    const char *hosts = zkrs_member_connect_string(m);
    printf("member at %s, libzkrs %s\n", hosts, zkrs_version());
    CHECK(__atomic_load_n(&serving_logged, __ATOMIC_SEQ_CST) == 1);
    CHECK(__atomic_load_n(&bad_log_record, __ATOMIC_SEQ_CST) == 0);
    CHECK_RC(zkrs_set_log_callback(NULL, NULL, 0), ZKRS_OK);

    zkrs_client *c = NULL, *other = NULL;
    CHECK_RC(zkrs_client_connect(hosts, 10000, &c), ZKRS_OK);
    CHECK_RC(zkrs_client_connect(hosts, 10000, &other), ZKRS_OK);
    if (!c || !other) {
        fprintf(stderr, "cannot connect to the member; giving up\n");
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    zkrs_client *bad = (zkrs_client *)0x1;
    CHECK_RC(zkrs_client_connect("", 10000, &bad), ZKRS_BADARGUMENTS);
    CHECK_RC(zkrs_client_connect(hosts, 0, &bad), ZKRS_BADARGUMENTS);
    CHECK(bad == (zkrs_client *)0x1);

    test_crud(c);
    test_modes(c);
    test_acl(c);
    test_multi(c);
    test_async(c);
    test_async_one_thread(c, other);
    test_election(c, other);
    test_standing_watches(c, other);
    test_locking_queue_and_leases(c, other);
    test_watches(c, other);
    test_recipes(hosts, c, other);
    test_partitioner(c, other, hosts);
    test_async_more(c);
    test_party(c, other);
    test_double_barrier(c, other);
    test_tree_cache(c);
    test_registry(c, other);
    test_free_from_callback(hosts, other);
    test_session(hosts);
    test_sasl_and_tls_arguments();
    test_tls_names();
    test_ensemble();

    /* The plain member serves too. */
    zkrs_client *pc = NULL;
    CHECK_RC(zkrs_client_connect(zkrs_member_connect_string(plain), 10000, &pc), ZKRS_OK);
    CHECK_RC(zkrs_client_exists(pc, "/zookeeper", NULL, NULL, NULL), ZKRS_OK);

    zkrs_client_free(pc);
    CHECK_RC(zkrs_member_stop(plain), ZKRS_OK);
    CHECK_RC(zkrs_member_stop(plain), ZKRS_OK); /* twice is fine */
    zkrs_member_free(plain);

    zkrs_client_free(c);
    zkrs_client_free(other);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", hosts);
    CHECK_RC(zkrs_member_stop(m), ZKRS_OK);
    zkrs_member_free(m);

    /* Nothing listens there now: connect gives up with CONNECTIONLOSS. */
    zkrs_client *none = (zkrs_client *)0x1;
    CHECK_RC(zkrs_client_connect(saved, 2000, &none), ZKRS_CONNECTIONLOSS);
    CHECK(none == (zkrs_client *)0x1);
    rmdir(dir); /* best effort: the member keeps its files */

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
