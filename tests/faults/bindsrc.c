/* LD_PRELOAD shim for the Apache ZooKeeper members of the fault suite.
 *
 * ZooKeeper opens its quorum/election connections without binding a local
 * address, so on loopback they all come from 127.0.0.1 and iptables rules
 * between member addresses (127.0.0.51 <-> 127.0.0.52) would not match.
 * zkrs binds its own address. This shim makes ZooKeeper do the same: an
 * unbound TCP socket connecting to 127.0.0.0/8 is first bound to
 * $ZKFAULT_BIND_IP (port 0). Nothing else changes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    static connect_fn real;
    if (!real) real = (connect_fn)dlsym(RTLD_NEXT, "connect");
    const char *ip = getenv("ZKFAULT_BIND_IP");
    if (ip && addr) {
        int type = 0;
        socklen_t tl = sizeof type;
        struct sockaddr_storage cur;
        socklen_t cl = sizeof cur;
        memset(&cur, 0, sizeof cur);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM &&
            getsockname(fd, (struct sockaddr *)&cur, &cl) == 0) {
            if (addr->sa_family == AF_INET && cur.ss_family == AF_INET) {
                const struct sockaddr_in *d = (const struct sockaddr_in *)addr;
                const struct sockaddr_in *c = (const struct sockaddr_in *)&cur;
                if ((ntohl(d->sin_addr.s_addr) >> 24) == 127 && c->sin_port == 0 &&
                    c->sin_addr.s_addr == 0) {
                    struct sockaddr_in b;
                    memset(&b, 0, sizeof b);
                    b.sin_family = AF_INET;
                    if (inet_pton(AF_INET, ip, &b.sin_addr) == 1)
                        bind(fd, (struct sockaddr *)&b, sizeof b);
                }
            } else if (addr->sa_family == AF_INET6 && cur.ss_family == AF_INET6) {
                const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)addr;
                const struct sockaddr_in6 *c = (const struct sockaddr_in6 *)&cur;
                if (IN6_IS_ADDR_V4MAPPED(&d->sin6_addr) && d->sin6_addr.s6_addr[12] == 127 &&
                    c->sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&c->sin6_addr)) {
                    struct sockaddr_in6 b;
                    char buf[64];
                    memset(&b, 0, sizeof b);
                    b.sin6_family = AF_INET6;
                    snprintf(buf, sizeof buf, "::ffff:%s", ip);
                    if (inet_pton(AF_INET6, buf, &b.sin6_addr) == 1)
                        bind(fd, (struct sockaddr *)&b, sizeof b);
                }
            }
        }
    }
    return real(fd, addr, len);
}
