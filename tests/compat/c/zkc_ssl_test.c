/*
 * The official ZooKeeper C client over TLS: zookeeper_init_ssl against a
 * secureClientPort. Usage:
 *   zkc_ssl_test host:port ca.pem,client.pem,client.key,password /path  -> exit 0
 *     when it connects, creates /path with an ACL for its certificate's
 *     x509 subject and reads it back (so the server took that identity);
 *   zkc_ssl_test --expect-refused host:port certs               -> exit 0
 *     when no session comes up within 5 s (a CA that does not match).
 * Build against the C client compiled with OpenSSL (HAVE_OPENSSL_H).
 * Every wait is bounded.
 */
#include <zookeeper.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)path; (void)ctx;
    if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
        pthread_mutex_lock(&mu);
        connected = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static int wait_connected(int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&mu);
    while (!connected) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) != 0) break;
    }
    int v = connected;
    pthread_mutex_unlock(&mu);
    return v;
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "FAIL %s: rc=%d (%s)\n", what, rc, zerror(rc));
    return 1;
}

static int expect_refused(const char *hosts, const char *certs) {
    zhandle_t *zh = zookeeper_init_ssl(hosts, certs, watcher, 10000, 0, NULL, 0);
    if (!zh) {
        printf("OK refused: zookeeper_init_ssl returned NULL\n");
        return 0;
    }
    int up = wait_connected(5000);
    zookeeper_close(zh);
    if (up) {
        fprintf(stderr, "FAIL a session came up with certificates that should not verify\n");
        return 1;
    }
    printf("OK refused: no session in 5 s\n");
    return 0;
}

static int round_trip(const char *hosts, const char *certs, const char *path) {
    zhandle_t *zh = zookeeper_init_ssl(hosts, certs, watcher, 10000, 0, NULL, 0);
    if (!zh) { fprintf(stderr, "FAIL zookeeper_init_ssl returned NULL\n"); return 1; }
    if (!wait_connected(15000)) {
        fprintf(stderr, "FAIL not connected over TLS within 15 s\n");
        zookeeper_close(zh);
        return 1;
    }
    /* An ACL for the certificate's subject: only this client may read it. */
    struct Id id = {"x509", "CN=client,O=zkrs"};
    struct ACL acl = {ZOO_PERM_ALL, id};
    struct ACL_vector acls = {1, &acl};
    int rc = zoo_create(zh, path, "over-tls", 8, &acls, 0, NULL, 0);
    if (rc != ZOK) { zookeeper_close(zh); return fail("zoo_create", rc); }
    char buf[64];
    int len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, NULL);
    if (rc != ZOK) { zookeeper_close(zh); return fail("zoo_get", rc); }
    if (len != 8 || memcmp(buf, "over-tls", 8) != 0) {
        fprintf(stderr, "FAIL read back %.*s\n", len, buf);
        zookeeper_close(zh);
        return 1;
    }
    zookeeper_close(zh);
    printf("OK created and read %s over TLS\n", path);
    return 0;
}

int main(int argc, char **argv) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    if (argc == 4 && strcmp(argv[1], "--expect-refused") == 0)
        return expect_refused(argv[2], argv[3]);
    if (argc == 4)
        return round_trip(argv[1], argv[2], argv[3]);
    fprintf(stderr, "usage: zkc_ssl_test host:port certs /path | --expect-refused host:port certs\n");
    return 2;
}
