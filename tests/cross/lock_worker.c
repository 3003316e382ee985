/*
 * One C contender of test_cross_lock.py (see lock_worker.py):
 *   lock_worker HOSTS COUNT ID
 * Build: gcc -Iinclude lock_worker.c -Ltarget/debug -lzkrs -Wl,-rpath,target/debug
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zkrs.h>

static void nap(void) {
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
}

static int transient(int rc) {
    return rc == ZKRS_CONNECTIONLOSS || rc == ZKRS_OPERATIONTIMEOUT;
}

static int fail(const char *id, const char *what, int rc) {
    printf("{\"id\": \"%s\", \"error\": \"%s: %s (%d)\"}\n", id, what, zkrs_error_message(rc), rc);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: lock_worker HOSTS COUNT ID\n");
        return 64;
    }
    const char *hosts = argv[1], *id = argv[3];
    int count = atoi(argv[2]);
    zkrs_client *c = NULL;
    int rc = zkrs_client_connect(hosts, 10000, &c);
    if (rc != ZKRS_OK) return fail(id, "connect", rc);
    zkrs_lock *lock = NULL;
    rc = zkrs_lock_new(c, "/xlock/lock", id, 0, &lock);
    if (rc != ZKRS_OK) return fail(id, "lock", rc);
    for (int i = 0; i < count; i++) {
        int got = 0;
        rc = zkrs_lock_acquire(lock, -1, &got);
        if (rc != ZKRS_OK || !got) return fail(id, "acquire", rc);
        zkrs_buffer *data = NULL;
        for (int t = 0; t < 600 && transient(rc = zkrs_client_get(c, "/xlock/n", NULL, NULL, &data, NULL)); t++)
            nap();
        if (rc != ZKRS_OK) return fail(id, "get", rc);
        char text[32] = {0};
        memcpy(text, data->data, data->len < 31 ? data->len : 31);
        zkrs_buffer_free(data);
        char next[32];
        int n = snprintf(next, sizeof next, "%ld", strtol(text, NULL, 10) + 1);
        for (int t = 0; t < 600 && transient(rc = zkrs_client_set(c, "/xlock/n", (const uint8_t *)next, (size_t)n, -1, NULL)); t++)
            nap();
        if (rc != ZKRS_OK) return fail(id, "set", rc);
        if (!zkrs_lock_is_acquired(lock)) return fail(id, "lock lost inside the critical section", 0);
        rc = zkrs_lock_release(lock);
        if (rc != ZKRS_OK) return fail(id, "release", rc);
    }
    zkrs_lock_free(lock);
    zkrs_client_close(c);
    zkrs_client_free(c);
    printf("{\"id\": \"%s\", \"done\": %d}\n", id, count);
    return 0;
}
