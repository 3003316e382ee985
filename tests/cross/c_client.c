/*
 * The C side of tests/cross/test_cross_language.py: a libzkrs client of the
 * zkrs member that runs inside the Python test process.
 *
 *   c_client HOSTS
 *
 * Reads /cross/py (must hold "from-python") and /cross/node (must hold
 * "from-node", written by the Node client), creates /cross/c ephemeral
 * holding "from-c", checks that its ephemeral owner is this session and that
 * /cross now lists c, node and py, closes its session (zkrs_client_close:
 * /cross/c goes with it), prints "session=0x..." and exits 0. Any mismatch
 * or error exits 1 with a message on stderr.
 *
 * The explicit close matters: zkrs_client_free alone only starts closing
 * the session in the background, so a process that frees and exits at once
 * leaves its session (and /cross/c) to expire after the session timeout.
 *
 * Build: gcc -Iinclude c_client.c -Ltarget/debug -lzkrs -Wl,-rpath,target/debug
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <zkrs.h>

static int fail_rc(const char *what, int rc) {
    fprintf(stderr, "c_client: %s: %s (%d)\n", what, zkrs_error_message(rc), rc);
    return 0;
}

/* Reads `path` and compares its data with `want`; 1 when equal. */
static int expect_data(zkrs_client *zk, const char *path, const char *want) {
    zkrs_buffer *data = NULL;
    zkrs_stat st;
    int rc = zkrs_client_get(zk, path, NULL, NULL, &data, &st);
    if (rc != ZKRS_OK) return fail_rc(path, rc);
    size_t n = strlen(want);
    int ok = data->len == n && memcmp(data->data, want, n) == 0 && st.data_length == (int32_t)n;
    if (!ok)
        fprintf(stderr, "c_client: %s holds %.*s (%zu bytes), want %s\n", path,
                (int)data->len, (const char *)data->data, data->len, want);
    else
        printf("read %s = %s\n", path, want);
    zkrs_buffer_free(data);
    return ok;
}

static int has_child(const zkrs_string_array *kids, const char *name) {
    for (size_t i = 0; i < kids->len; i++)
        if (strcmp(kids->strings[i], name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: c_client HOSTS\n");
        return 64;
    }
    printf("libzkrs %s\n", zkrs_version());

    zkrs_client *zk = NULL;
    int rc = zkrs_client_connect(argv[1], 10000, &zk);
    if (rc != ZKRS_OK) {
        fail_rc("connect", rc);
        return 1;
    }
    int64_t session = zkrs_client_session_id(zk);
    int ok = session != 0 && zkrs_client_state(zk) == ZKRS_STATE_CONNECTED;
    if (!ok) fprintf(stderr, "c_client: not connected after zkrs_client_connect\n");

    ok = ok && expect_data(zk, "/cross/py", "from-python");
    ok = ok && expect_data(zk, "/cross/node", "from-node");

    if (ok) {
        char *created = NULL;
        zkrs_stat st;
        rc = zkrs_client_create(zk, "/cross/c", (const uint8_t *)"from-c", 6, NULL, 0,
                                ZKRS_EPHEMERAL, 0, &created, &st);
        if (rc != ZKRS_OK) {
            ok = fail_rc("create /cross/c", rc);
        } else {
            if (strcmp(created, "/cross/c") != 0 || st.ephemeral_owner != session) {
                fprintf(stderr, "c_client: created %s owned by 0x%" PRIx64 ", want /cross/c of 0x%" PRIx64 "\n",
                        created, (uint64_t)st.ephemeral_owner, (uint64_t)session);
                ok = 0;
            }
            zkrs_string_free(created);
        }
    }
    ok = ok && expect_data(zk, "/cross/c", "from-c");

    if (ok) {
        zkrs_string_array *kids = NULL;
        rc = zkrs_client_get_children(zk, "/cross", NULL, NULL, &kids, NULL);
        if (rc != ZKRS_OK) {
            ok = fail_rc("get_children /cross", rc);
        } else {
            ok = kids->len == 3 && has_child(kids, "py") && has_child(kids, "node") &&
                 has_child(kids, "c");
            if (!ok) fprintf(stderr, "c_client: /cross has %zu children, want c, node, py\n", kids->len);
            zkrs_string_array_free(kids);
        }
    }

    rc = zkrs_client_close(zk); /* ends the session: /cross/c goes with it */
    if (rc != ZKRS_OK) {
        ok = fail_rc("close", rc);
    } else if (zkrs_client_state(zk) != ZKRS_STATE_CLOSED) {
        fprintf(stderr, "c_client: state %d after close\n", zkrs_client_state(zk));
        ok = 0;
    }

    if (ok) printf("session=0x%" PRIx64 "\n", (uint64_t)session);
    fflush(stdout);
    zkrs_client_free(zk);
    return ok ? 0 : 1;
}
