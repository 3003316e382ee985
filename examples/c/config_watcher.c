/*
 * config_watcher: one process updates a configuration znode, another
 * watches it and reacts to every change.
 *
 *   config_watcher            start a zkrs member inside this process
 *   config_watcher HOSTS      use an existing ensemble ("host:port,...")
 *
 * The program forks: the child is the updater (it writes "v1", "v2", "v3"
 * and finally "stop" to /app/config), the parent is the watcher (it reads
 * the config with a one-shot watch, and on each change reads it again with
 * a new watch, until it reads "stop"). The fork happens before either
 * process touches libzkrs.
 *
 * Build: cc config_watcher.c $(pkg-config --cflags --libs zkrs)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zkrs.h>

#define CONFIG "/app/config"

static int fail(const char *what, int rc) {
    fprintf(stderr, "config_watcher: %s: %s (%d)\n", what, zkrs_error_message(rc), rc);
    return 1;
}

/* ---- the updater (child process) ---------------------------------------- */

static int updater(const char *hosts) {
    zkrs_client *zk = NULL;
    int rc = zkrs_client_connect(hosts, 10000, &zk);
    if (rc != ZKRS_OK) return fail("updater connect", rc);
    const char *values[] = {"v1", "v2", "v3", "stop"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        usleep(300 * 1000);
        rc = zkrs_client_set(zk, CONFIG, (const uint8_t *)values[i], strlen(values[i]), -1, NULL);
        if (rc != ZKRS_OK) {
            zkrs_client_free(zk);
            return fail("updater set", rc);
        }
        printf("[updater] wrote %s\n", values[i]);
        fflush(stdout);
    }
    zkrs_client_free(zk);
    return 0;
}

/* ---- the watcher (parent process) --------------------------------------- */

struct watcher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int changed;
};

/* Runs on a zkrs event thread: only hand the news to the main thread. */
static void on_change(void *userdata, int type, int state, const char *path) {
    struct watcher *w = userdata;
    (void)state;
    (void)path;
    if (type != ZKRS_EVENT_CHANGED && type != ZKRS_EVENT_DELETED) return;
    pthread_mutex_lock(&w->mu);
    w->changed = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int watch_config(zkrs_client *zk) {
    struct watcher w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int done = 0, rc = ZKRS_OK;
    while (!done) {
        zkrs_buffer *buf = NULL;
        zkrs_stat st;
        rc = zkrs_client_get(zk, CONFIG, on_change, &w, &buf, &st);
        if (rc != ZKRS_OK) break;
        printf("[watcher] config is \"%.*s\" (version %d)\n", (int)buf->len,
               (const char *)buf->data, st.version);
        fflush(stdout);
        done = buf->len == 4 && memcmp(buf->data, "stop", 4) == 0;
        zkrs_buffer_free(buf);
        if (done) break;
        pthread_mutex_lock(&w.mu);
        while (!w.changed) pthread_cond_wait(&w.cv, &w.mu);
        w.changed = 0;
        pthread_mutex_unlock(&w.mu);
    }
    return rc;
}

int main(int argc, char **argv) {
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        /* Child: learn where to connect, then update. */
        close(pipefd[1]);
        char hosts[256] = {0};
        ssize_t n = read(pipefd[0], hosts, sizeof hosts - 1);
        close(pipefd[0]);
        if (n <= 0) return 1;
        return updater(hosts);
    }
    close(pipefd[0]);

    zkrs_member *member = NULL;
    const char *hosts = argc > 1 ? argv[1] : NULL;
    int rc;
    if (!hosts) {
        rc = zkrs_member_start(NULL, &member);
        if (rc != ZKRS_OK) return fail("start member", rc);
        hosts = zkrs_member_connect_string(member);
        printf("[watcher] started a zkrs member at %s\n", hosts);
    }

    zkrs_client *zk = NULL;
    rc = zkrs_client_connect(hosts, 10000, &zk);
    if (rc != ZKRS_OK) return fail("connect", rc);
    /* The config node exists before the updater starts. */
    rc = zkrs_client_create(zk, "/app", NULL, 0, NULL, 0, ZKRS_PERSISTENT, 0, NULL, NULL);
    if (rc != ZKRS_OK && rc != ZKRS_NODEEXISTS) return fail("create /app", rc);
    rc = zkrs_client_create(zk, CONFIG, (const uint8_t *)"v0", 2, NULL, 0, ZKRS_PERSISTENT, 0,
                            NULL, NULL);
    if (rc == ZKRS_NODEEXISTS)
        rc = zkrs_client_set(zk, CONFIG, (const uint8_t *)"v0", 2, -1, NULL);
    if (rc != ZKRS_OK) return fail("create " CONFIG, rc);

    if (write(pipefd[1], hosts, strlen(hosts)) < 0) perror("write");
    close(pipefd[1]);

    rc = watch_config(zk);
    int status = 0;
    waitpid(pid, &status, 0);
    zkrs_client_free(zk);
    zkrs_member_free(member);
    if (rc != ZKRS_OK) return fail("watch", rc);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "config_watcher: the updater failed\n");
        return 1;
    }
    printf("[watcher] saw \"stop\"; done\n");
    return 0;
}
