/*
 * zkrs compatibility test with the official ZooKeeper C client
 * (libzookeeper-mt). Usage: zkc_test host:port /base/path
 * Build: gcc -DTHREADED zkc_test.c -lzookeeper_mt   (sync API needs THREADED)
 * Exits 0 when every check passes; otherwise prints the failed check and
 * exits 1. Every wait is bounded.
 */
#include <zookeeper/zookeeper.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
            failures++;                                                      \
        }                                                                    \
    } while (0)
#define CHECK_RC(rc, want) CHECK((rc) == (want), "rc=%d (%s), want %d", (rc), zerror(rc), (want))

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;
static int watch_events = 0;
static int last_watch_type = 0;
static char last_watch_path[512];

static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)ctx; (void)path;
    if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
        pthread_mutex_lock(&mu);
        connected = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void data_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh; (void)state; (void)ctx;
    if (type == ZOO_SESSION_EVENT) return;
    pthread_mutex_lock(&mu);
    watch_events++;
    last_watch_type = type;
    snprintf(last_watch_path, sizeof last_watch_path, "%s", path ? path : "");
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* wait until *flag >= want, at most ms milliseconds; returns *flag */
static int wait_for(int *flag, int want, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&mu);
    while (*flag < want) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) != 0) break;
    }
    int v = *flag;
    pthread_mutex_unlock(&mu);
    return v;
}

static zhandle_t *connect_zk(const char *hosts) {
    connected = 0;
    zhandle_t *zh = zookeeper_init(hosts, global_watcher, 10000, 0, NULL, 0);
    if (!zh) { fprintf(stderr, "FAIL zookeeper_init returned NULL\n"); exit(1); }
    if (!wait_for(&connected, 1, 15000)) {
        fprintf(stderr, "FAIL: not connected to %s within 15 s\n", hosts);
        exit(1);
    }
    return zh;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s host:port /base\n", argv[0]); return 2; }
    const char *hosts = argv[1];
    const char *base = argv[2];
    char path[512], p2[512], buf[512], created[512];
    struct Stat st, st2;
    int rc, len;

    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = connect_zk(hosts);
    CHECK(zoo_client_id(zh)->client_id != 0, "session id is 0");
    CHECK(zoo_recv_timeout(zh) == 4000, "negotiated timeout %d, want 4000 (maxSessionTimeout)",
          zoo_recv_timeout(zh));

    /* create / get / exists */
    rc = zoo_create(zh, base, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, created, sizeof created);
    CHECK_RC(rc, ZOK);
    snprintf(path, sizeof path, "%s/node", base);
    rc = zoo_create2(zh, path, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, created,
                     sizeof created, &st);
    CHECK_RC(rc, ZOK);
    CHECK(strcmp(created, path) == 0, "created %s", created);
    CHECK(st.version == 0 && st.dataLength == 5 && st.czxid == st.mzxid, "create2 stat");
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st2);
    CHECK_RC(rc, ZOK);
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0, "get data len=%d", len);
    CHECK(st2.czxid == st.czxid && st2.version == 0, "get stat");
    rc = zoo_exists(zh, path, 0, &st2);
    CHECK_RC(rc, ZOK);

    /* errors */
    snprintf(p2, sizeof p2, "%s/missing", base);
    len = sizeof buf;
    CHECK_RC(zoo_get(zh, p2, 0, buf, &len, &st2), ZNONODE);
    CHECK_RC(zoo_exists(zh, p2, 0, &st2), ZNONODE);
    CHECK_RC(zoo_create(zh, path, "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNODEEXISTS);
    CHECK_RC(zoo_set(zh, path, "x", 1, 42), ZBADVERSION);
    CHECK_RC(zoo_delete(zh, p2, -1), ZNONODE);
    CHECK(ZNONODE == -101 && ZNODEEXISTS == -110 && ZBADVERSION == -103, "error numbers");

    /* set with version */
    rc = zoo_set2(zh, path, "world!", 6, 0, &st2);
    CHECK_RC(rc, ZOK);
    CHECK(st2.version == 1 && st2.dataLength == 6 && st2.mzxid > st.mzxid, "set2 stat");

    /* data watch fires once */
    watch_events = 0;
    len = sizeof buf;
    rc = zoo_wget(zh, path, data_watcher, NULL, buf, &len, &st2);
    CHECK_RC(rc, ZOK);
    zhandle_t *other = connect_zk(hosts);
    CHECK_RC(zoo_set(other, path, "changed", 7, -1), ZOK);
    CHECK(wait_for(&watch_events, 1, 5000) == 1, "data watch did not fire");
    CHECK(last_watch_type == ZOO_CHANGED_EVENT, "watch type %d", last_watch_type);
    CHECK(strcmp(last_watch_path, path) == 0, "watch path %s", last_watch_path);
    CHECK_RC(zoo_set(other, path, "again", 5, -1), ZOK);
    usleep(500 * 1000);
    CHECK(watch_events == 1, "one-shot watch fired %d times", watch_events);

    /* exists watch on a missing node fires NodeCreated */
    watch_events = 0;
    snprintf(p2, sizeof p2, "%s/later", base);
    CHECK_RC(zoo_wexists(zh, p2, data_watcher, NULL, &st2), ZNONODE);
    CHECK_RC(zoo_create(other, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK);
    CHECK(wait_for(&watch_events, 1, 5000) == 1, "exists watch did not fire");
    CHECK(last_watch_type == ZOO_CREATED_EVENT, "watch type %d", last_watch_type);

    /* children */
    struct String_vector kids;
    snprintf(p2, sizeof p2, "%s/node/seq-", base);
    rc = zoo_create(zh, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, created, sizeof created);
    CHECK_RC(rc, ZOK);
    snprintf(buf, sizeof buf, "%s/node/seq-0000000000", base);
    CHECK(strcmp(created, buf) == 0, "sequential name %s", created);
    rc = zoo_get_children2(zh, path, 0, &kids, &st2);
    CHECK_RC(rc, ZOK);
    CHECK(kids.count == 1 && strcmp(kids.data[0], "seq-0000000000") == 0, "children");
    CHECK(st2.numChildren == 1 && st2.cversion == 1, "children stat");
    deallocate_String_vector(&kids);
    CHECK_RC(zoo_delete(zh, path, -1), ZNOTEMPTY);
    CHECK_RC(zoo_delete(zh, created, 0), ZOK);

    /* multi: committed */
    {
        zoo_op_t ops[3];
        zoo_op_result_t res[3];
        char b1[256], b2[256];
        snprintf(p2, sizeof p2, "%s/m1", base);
        snprintf(buf, sizeof buf, "%s/m2", base);
        zoo_create_op_init(&ops[0], p2, "1", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b1, sizeof b1);
        zoo_create_op_init(&ops[1], buf, "2", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b2, sizeof b2);
        zoo_set_op_init(&ops[2], path, "m", 1, 3, &st2); /* version 3 after the watch test */
        rc = zoo_multi(zh, 3, ops, res);
        CHECK_RC(rc, ZOK);
        CHECK(res[0].err == ZOK && res[1].err == ZOK && res[2].err == ZOK, "multi results");
        CHECK(st2.version == 4, "multi set version %d", st2.version);
        CHECK_RC(zoo_exists(zh, buf, 0, &st), ZOK);
    }
    /* multi: rolled back */
    {
        zoo_op_t ops[3];
        zoo_op_result_t res[3];
        char b1[256];
        snprintf(p2, sizeof p2, "%s/m3", base);
        zoo_create_op_init(&ops[0], p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, b1, sizeof b1);
        zoo_check_op_init(&ops[1], path, 99);
        zoo_delete_op_init(&ops[2], path, -1);
        rc = zoo_multi(zh, 3, ops, res);
        CHECK_RC(rc, ZBADVERSION);
        CHECK(res[0].err == ZOK && res[1].err == ZBADVERSION && res[2].err == ZRUNTIMEINCONSISTENCY,
              "rolled-back results %d %d %d", res[0].err, res[1].err, res[2].err);
        CHECK_RC(zoo_exists(zh, p2, 0, &st), ZNONODE);
        CHECK_RC(zoo_exists(zh, path, 0, &st), ZOK);
    }

    /* ephemeral removed when its session closes */
    snprintf(p2, sizeof p2, "%s/eph", base);
    rc = zoo_create2(other, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, created, sizeof created, &st);
    CHECK_RC(rc, ZOK);
    CHECK(st.ephemeralOwner == zoo_client_id(other)->client_id, "ephemeralOwner");
    watch_events = 0;
    CHECK_RC(zoo_wexists(zh, p2, data_watcher, NULL, &st2), ZOK);
    CHECK_RC(zookeeper_close(other), ZOK);
    CHECK_RC(zoo_exists(zh, p2, 0, &st2), ZNONODE);
    CHECK(wait_for(&watch_events, 1, 5000) == 1, "NodeDeleted watch did not fire");
    CHECK(last_watch_type == ZOO_DELETED_EVENT, "watch type %d", last_watch_type);

    /* delete with version */
    CHECK_RC(zoo_delete(zh, path, 0), ZBADVERSION);
    snprintf(p2, sizeof p2, "%s/m1", base);
    CHECK_RC(zoo_delete(zh, p2, 0), ZOK);

    zookeeper_close(zh);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("OK all C client checks passed\n");
    return 0;
}
